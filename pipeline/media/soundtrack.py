"""The soundtrack, built once for every format: voice lines placed in time, music ducked under
the voice, loudness normalized in two passes to -14 LUFS, encoded as AAC 48 kHz stereo."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.media.ffmpeg import SAFE_PROTOCOLS, run_ffmpeg
from pipeline.media.loudness import (
    TARGET_LRA,
    TARGET_LUFS,
    TARGET_TRUE_PEAK,
    Loudness,
    measure_loudness,
    parse_loudnorm_json,
)

__all__ = ["Cue", "build_mix", "render_soundtrack"]

_RATE = 48000


class Cue(BaseModel):
    """A voice line starting ``start`` seconds into the ad."""

    model_config = ConfigDict(frozen=True)

    path: Path
    start: float


def _num(value: float) -> str:
    return f"{value:.3f}"


def build_mix(cues: Sequence[Cue], music: Path | None, duration: float) -> tuple[list[str], str, bool]:
    """Input arguments, a filter graph ending in ``[mix]``, and whether any sound is present."""
    inputs: list[str] = []
    chains: list[str] = []
    fmt = f"aresample={_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
    for i, cue in enumerate(cues):
        inputs += ["-protocol_whitelist", SAFE_PROTOCOLS, "-i", str(cue.path)]
        delay = round(cue.start * 1000)
        chains.append(f"[{i}:a]{fmt},adelay=delays={delay}:all=1[c{i}]")
    if cues:
        labels = "".join(f"[c{i}]" for i in range(len(cues)))
        voice = f"{labels}amix=inputs={len(cues)}:normalize=0:duration=longest,"
        chains.append(f"{voice}apad=whole_dur={_num(duration)},atrim=0:{_num(duration)}[voice]")
    else:
        chains.append(f"anullsrc=r={_RATE}:cl=stereo,atrim=0:{_num(duration)},{fmt}[voice]")
    if music is not None:
        m = len(cues)
        inputs += ["-protocol_whitelist", SAFE_PROTOCOLS, "-stream_loop", "-1", "-i", str(music)]
        fade = min(1.5, duration / 4)
        chains.append(
            f"[{m}:a]{fmt},atrim=0:{_num(duration)},asetpts=PTS-STARTPTS,volume=0.35,"
            f"afade=t=in:d=0.3,afade=t=out:st={_num(duration - fade)}:d={_num(fade)}[music]"
        )
        if cues:
            # The voice keys a compressor on the music: music dips while someone speaks.
            chains.append("[voice]asplit=2[vmix][vkey]")
            chains.append(
                "[music][vkey]sidechaincompress=threshold=0.02:ratio=10:attack=15:release=350"
                ":makeup=1[ducked]"
            )
            chains.append("[vmix][ducked]amix=inputs=2:normalize=0:duration=first[mix]")
        else:
            chains.append("[voice][music]amix=inputs=2:normalize=0:duration=first[mix]")
    else:
        chains.append("[voice]anull[mix]")
    return inputs, ";".join(chains), bool(cues) or music is not None


def render_soundtrack(
    cues: Sequence[Cue], music: Path | None, duration: float, out: Path
) -> Loudness:
    """Write the finished soundtrack to ``out`` (.m4a); returns its measured loudness."""
    inputs, graph, audible = build_mix(cues, music, duration)
    base = f"loudnorm=I={TARGET_LUFS}:TP={TARGET_TRUE_PEAK}:LRA={TARGET_LRA}"
    if audible:
        stderr = run_ffmpeg(
            [*inputs, "-filter_complex", f"{graph};[mix]{base}:print_format=json[m]",
             "-map", "[m]", "-f", "null", "-"],
            stage="soundtrack",
        )  # fmt: skip
        m = parse_loudnorm_json(stderr)
        norm = (
            f"{base}:measured_I={m['input_i']}:measured_TP={m['input_tp']}"
            f":measured_LRA={m['input_lra']}:measured_thresh={m['input_thresh']}"
            f":offset={m['target_offset']}:linear=true,aresample={_RATE}"
        )
        graph = f"{graph};[mix]{norm}[out]"
    else:
        graph = f"{graph};[mix]anull[out]"
    run_ffmpeg(
        [*inputs, "-filter_complex", graph, "-map", "[out]",
         "-c:a", "aac", "-b:a", "192k", "-ar", str(_RATE), "-ac", "2",
         "-t", _num(duration), "-f", "mp4", str(out)],
        stage="soundtrack",
    )  # fmt: skip
    return measure_loudness(out)
