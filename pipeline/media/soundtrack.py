"""The soundtrack, built once for every format: voice lines placed in time, music ducked under
the voice, loudness normalized in two passes to -14 LUFS, encoded as AAC 48 kHz stereo."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.containers import input_args
from pipeline.media.ffmpeg import run_ffmpeg
from pipeline.media.loudness import (
    EBUR128,
    TARGET_LUFS,
    TARGET_TRUE_PEAK,
    Loudness,
    measure_graph,
    parse_ebur128,
)

__all__ = ["Cue", "build_mix", "music_gain", "render_soundtrack"]

_RATE = 48000
MUSIC_UNDER_VOICE = 10.0
"""LU between the voice and the music bed before ducking (a bed at -26 LUFS under a voice at -16)."""
MUSIC_GAIN = -9.0
"""dB on the music when there is no voice to measure it against."""
AAC_PRIMING = 1024
"""Samples FFmpeg's AAC encoder puts before the sound (its ``initial_padding``): 21.3 ms."""


class Cue(BaseModel):
    """A voice line starting ``start`` seconds into the ad."""

    model_config = ConfigDict(frozen=True)

    path: Path
    start: float


def _num(value: float) -> str:
    return f"{value:.3f}"


def _stems(
    cues: Sequence[Cue], music: Path | None, duration: float
) -> tuple[list[str], list[str]]:
    """Input arguments and the chains making ``[voice]`` and, with music, ``[music]``."""
    inputs: list[str] = []
    chains: list[str] = []
    fmt = f"aresample={_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
    for i, cue in enumerate(cues):
        inputs += [*input_args(cue.path), "-i", str(cue.path)]
        delay = round(cue.start * 1000)
        chains.append(f"[{i}:a]{fmt},adelay=delays={delay}:all=1[c{i}]")
    if cues:
        labels = "".join(f"[c{i}]" for i in range(len(cues)))
        # A voice-over compressor, as in any broadcast chain: it evens out the synthetic voice's
        # peaks so the gain that reaches -14 LUFS rarely needs the limiter.
        voice = (
            f"{labels}amix=inputs={len(cues)}:normalize=0:duration=longest,"
            "acompressor=threshold=-20dB:ratio=3:attack=5:release=120:makeup=1,"
        )
        chains.append(f"{voice}apad=whole_dur={_num(duration)},atrim=0:{_num(duration)}[voice]")
    else:
        chains.append(f"anullsrc=r={_RATE}:cl=stereo,atrim=0:{_num(duration)},{fmt}[voice]")
    if music is not None:
        m = len(cues)
        inputs += [*input_args(music), "-stream_loop", "-1", "-i", str(music)]
        fade = min(1.5, duration / 4)
        chains.append(
            f"[{m}:a]{fmt},atrim=0:{_num(duration)},asetpts=PTS-STARTPTS,"
            f"afade=t=in:d=0.3,afade=t=out:st={_num(duration - fade)}:d={_num(fade)}[music]"
        )
    return inputs, chains


def build_mix(
    cues: Sequence[Cue], music: Path | None, duration: float, music_gain: float = MUSIC_GAIN
) -> tuple[list[str], str, bool]:
    """Input arguments, a filter graph ending in ``[mix]``, and whether any sound is present.
    ``music_gain``: dB applied to the music before the voice ducks it."""
    inputs, chains = _stems(cues, music, duration)
    if music is not None:
        chains.append(f"[music]volume={music_gain:.2f}dB[bed]")
        if cues:
            # The voice keys a compressor on the music: music dips while someone speaks.
            chains.append("[voice]asplit=2[vmix][vkey]")
            chains.append(
                "[bed][vkey]sidechaincompress=threshold=0.02:ratio=10:attack=15:release=350"
                ":makeup=1[ducked]"
            )
            chains.append("[vmix][ducked]amix=inputs=2:normalize=0:duration=first[mix]")
        else:
            chains.append("[voice][bed]amix=inputs=2:normalize=0:duration=first[mix]")
    else:
        chains.append("[voice]anull[mix]")
    return inputs, ";".join(chains), bool(cues) or music is not None


def music_gain(cues: Sequence[Cue], music: Path | None, duration: float) -> float:
    """The gain that puts the music bed ``MUSIC_UNDER_VOICE`` LU under the voice, measured over
    the ad's length, so a loud master and a quiet one sit alike and the ducking does not pump."""
    if music is None or not cues:
        return MUSIC_GAIN
    inputs, chains = _stems(cues, music, duration)
    voice = measure_graph(inputs, ";".join([*chains, "[music]anullsink"]), "voice")
    bed = measure_graph(inputs, ";".join([*chains, "[voice]anullsink"]), "music")
    if voice.silent or bed.silent:
        return MUSIC_GAIN
    return voice.integrated - MUSIC_UNDER_VOICE - bed.integrated


def _gain_chain(gain: float, peak_after: float) -> str:
    """Linear gain to the target, and a limiter only when that gain would push peaks too high."""
    chain = f"volume={gain:.2f}dB"
    if peak_after > TARGET_TRUE_PEAK:
        # alimiter limits sample peaks; half a dB more headroom covers inter-sample peaks. Its
        # attack is a 2 ms look-ahead: latency=true takes that delay back out.
        limit = 10 ** ((TARGET_TRUE_PEAK - 0.5) / 20)
        chain += f",alimiter=limit={limit:.4f}:attack=2:release=50:level=false:latency=true"
    return chain


def render_soundtrack(
    cues: Sequence[Cue], music: Path | None, duration: float, out: Path
) -> Loudness:
    """Write the finished soundtrack to ``out`` (.m4a); returns its measured loudness.

    Gain is linear (no pumping): measure the mix, then encode with the gain while measuring the
    result in the same run. When the limiter had to hold peaks down, the result lands under the
    target, and another pass adds what is missing.
    """
    inputs, graph, audible = build_mix(cues, music, duration, music_gain(cues, music, duration))
    if not audible:
        return _encode(inputs, f"{graph};[mix]anull[out]", duration, out)
    measured = measure_graph(inputs, graph, "mix", stage="soundtrack")
    if measured.silent:
        return _encode(inputs, f"{graph};[mix]anull[out]", duration, out)
    gain = TARGET_LUFS - measured.integrated
    for _ in range(3):
        chain = _gain_chain(gain, measured.true_peak + gain)
        result = _encode(inputs, f"{graph};[mix]{chain}[out]", duration, out)
        miss = TARGET_LUFS - result.integrated
        if abs(miss) <= 0.5:
            break
        gain += miss
    return result


def _encode(inputs: Sequence[str], graph: str, duration: float, out: Path) -> Loudness:
    """Encode ``[out]`` to AAC and measure what is encoded, in one FFmpeg run.

    Ads carry no edit list, so nothing tells a player to skip the encoder's priming samples:
    the encoded sound starts that much early instead (padded at the end to keep its length), and
    each sample plays at its frame's time. The file has no edit list either, so it decodes
    exactly as the ad it goes into.
    """
    ahead = f"atrim=start_sample={AAC_PRIMING},asetpts=N/SR/TB,apad=pad_len={AAC_PRIMING}"
    stderr = run_ffmpeg(
        [*inputs, "-filter_complex",
         f"{graph.removesuffix('[out]')},asplit=2[enc][probe];[enc]{ahead}[out];[probe]{EBUR128}[m]",
         "-map", "[out]", "-c:a", "aac", "-aac_coder", "fast", "-b:a", "192k", "-ar", str(_RATE), "-ac", "2",
         "-t", _num(duration), "-use_editlist", "0", "-f", "mp4", str(out),
         "-map", "[m]", "-t", _num(duration), "-f", "null", "-"],
        stage="soundtrack",
    )  # fmt: skip
    return parse_ebur128(stderr)
