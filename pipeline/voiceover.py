"""The voice-over: one line per scene, synthesized to fit its scene, timed on the ad's clock."""

from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline.brief import Brief
from pipeline.checkpoints import Checkpoints, checkpoint_key
from pipeline.containers import input_args
from pipeline.errors import BadInput
from pipeline.manifest import VoiceLine
from pipeline.media.ffmpeg import run_ffmpeg
from pipeline.media.soundtrack import Cue
from pipeline.script.model import (
    BASE_RATE,
    VOICE_LEAD,
    VOICE_TAIL,
    Scene,
    Script,
    voice_room,
)
from pipeline.voice import Speech, SpokenText, Transcriber, VoiceSynth, WordTiming, normalise, speak

__all__ = [
    "BASE_RATE",
    "VOICE_LEAD",
    "VOICE_TAIL",
    "speak_script",
    "transcribe_voiceover",
    "voice_cues",
    "voice_path",
]

VOICE_CONCURRENCY = 4  # lines spoken at once by a voice that can
MAX_SPEEDUP = 1.4
# A user's voice-over may run this far past the ad's end (a breath, a reverb tail); the
# soundtrack trims it. Words that run further are refused rather than cut mid-word.
VOICEOVER_OVERRUN = 0.25
VOICEOVER_ENGINE = "voice-over"  # the engine of lines from the brief's own recording


def _speak(
    voice: VoiceSynth, scene: Scene, line: SpokenText, brief: Brief, workdir: Path
) -> Speech:
    """Synthesize a scene's line, speeding up (to a limit) rather than spilling into the next scene."""
    out = voice_path(workdir, scene.index)
    base = brief.voice.rate or BASE_RATE
    room = voice_room(scene.duration)
    locale, name = brief.brand.locale, brief.voice.name
    rate, limit = base, min(round(base * MAX_SPEEDUP), 450)
    speech = speak(voice, line, locale=locale, out=out, name=name, rate=rate)
    while speech.duration > room and rate < limit:
        # A line does not shorten quite in proportion to its rate (pauses, a neural voice's
        # whole-frame durations): aim a little under the room, then try again from the result.
        rate = min(max(round(rate * speech.duration / room * 1.04), rate + 1), limit)
        speech = speak(voice, line, locale=locale, out=out, name=name, rate=rate)
    if speech.duration > room:
        raise BadInput(
            "template",
            f"scene {scene.index + 1} ({scene.slot}) voice-over needs {speech.duration:.2f} s but "
            f"the scene leaves {room:.2f} s for it: shorten the product text or raise duration",
        )
    return speech


def _checkpointed_speech(
    voice: VoiceSynth, scene: Scene, brief: Brief, workdir: Path, checkpoints: Checkpoints
) -> Speech:
    line = normalise(scene.voiceover, brief.brand.locale)
    params = {
        "engine": type(voice).__name__,
        "text": scene.voiceover,
        "spoken": line.text,
        "locale": brief.brand.locale,
        "voice": brief.voice.name,
        "rate": brief.voice.rate,
        "room": scene.duration,
    }
    saved = checkpoints.reuse(
        voice_path(workdir, scene.index),
        checkpoint_key("voice", params),
        label=f"voice:{scene.index}",
        make=lambda: _speak(voice, scene, line, brief, workdir).model_dump(mode="json"),
    )
    return Speech.model_validate(saved)


def voice_path(workdir: Path, scene: int) -> Path:
    return workdir / f"voice-{scene:02d}.wav"


def speak_script(
    voice: VoiceSynth,
    script: Script,
    starts: Sequence[float],
    brief: Brief,
    workdir: Path,
    on_scene: Callable[[float], None] | None = None,
    checkpoints: Checkpoints | None = None,
) -> tuple[VoiceLine, ...]:
    """Every scene's line as audio in ``workdir``, with word timings shifted onto the ad's clock.

    With ``checkpoints``, a line already spoken by an earlier attempt (same text, voice and rate)
    is taken as it is.
    """
    lines: list[VoiceLine] = []
    if not brief.voice.enabled:
        return ()
    kept = checkpoints or Checkpoints(workdir, keep=False)
    # A line that says nothing once normalised (only emoji or punctuation) is left silent.
    locale = brief.brand.locale
    voiced = [
        s for s in script.scenes if any(ch.isalnum() for ch in normalise(s.voiceover, locale).text)
    ]
    # A voice whose lines are independent (``concurrent = True``: a network voice, eSpeak's
    # helper processes, the neural voice) speaks several at once; others one after another.
    workers = VOICE_CONCURRENCY if getattr(voice, "concurrent", False) else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        spoken = dict(
            zip(
                (scene.index for scene in voiced),
                pool.map(lambda s: _checkpointed_speech(voice, s, brief, workdir, kept), voiced),
                strict=True,
            )
        )
    for scene, start in zip(script.scenes, starts, strict=True):
        if scene.index in spoken:
            speech = spoken[scene.index]
            offset = start + VOICE_LEAD
            words = tuple(
                WordTiming(
                    text=w.text, start=round(w.start + offset, 4), end=round(w.end + offset, 4)
                )
                for w in speech.words
            )
            lines.append(
                VoiceLine(
                    scene=scene.index,
                    start=offset,
                    text=scene.voiceover,
                    voice=speech.voice,
                    words=words,
                    engine=speech.engine,
                    spoken=speech.spoken,
                )
            )
        if on_scene is not None:
            on_scene((scene.index + 1) / len(script.scenes))
    return tuple(lines)


def _checkpointed_transcript(
    transcriber: Transcriber,
    file: Path,
    brief: Brief,
    workdir: Path,
    checkpoints: Checkpoints,
) -> Speech:
    locale = brief.brand.locale
    artifact = workdir / "voiceover-transcript.json"

    def make() -> dict[str, object]:
        speech = transcriber.transcribe(file, locale=locale)
        artifact.write_text(speech.model_dump_json(), encoding="utf-8")
        return speech.model_dump(mode="json")

    key = checkpoint_key(
        "transcript", {"engine": type(transcriber).__name__, "locale": locale}, [file]
    )
    return Speech.model_validate(
        checkpoints.reuse(artifact, key, label="voice:transcript", make=make)
    )


def transcribe_voiceover(
    transcriber: Transcriber | None,
    script: Script,
    starts: Sequence[float],
    brief: Brief,
    workdir: Path,
    checkpoints: Checkpoints | None = None,
) -> tuple[VoiceLine, ...]:
    """The user's own voice-over (``brief.voice.file``) as voice lines for the captions.

    The file plays from the ad's first frame, so the transcribed word times are already on the
    ad's clock. Each word goes to the scene its middle falls in; every scene that has words gets
    one line. With ``checkpoints``, a transcript made by an earlier attempt from the same file is
    taken as it is.
    """
    file = brief.voice.file
    if file is None or not brief.voice.enabled:
        return ()
    if transcriber is None:
        raise BadInput(
            "voice.file",
            "needs a transcriber: set ELEVENLABS_API_KEY so your voice-over can be transcribed "
            "for the captions, or remove voice.file to use a synthesized voice",
        )
    kept = checkpoints or Checkpoints(workdir, keep=False)
    speech = _checkpointed_transcript(transcriber, file, brief, workdir, kept)
    spoken_until = max((w.end for w in speech.words), default=0.0)
    if spoken_until > script.duration + VOICEOVER_OVERRUN:
        raise BadInput(
            "voice.file",
            f"speaks until {spoken_until:.1f}s but the ad lasts {script.duration:.1f}s: "
            "trim the voice-over or raise duration",
        )
    by_scene: dict[int, list[WordTiming]] = {}
    for word in speech.words:
        if word.start >= script.duration:
            continue  # inside the overrun: trimmed from the soundtrack, so not captioned
        middle = (word.start + min(word.end, script.duration)) / 2
        position = min(max(bisect_right(starts, middle) - 1, 0), len(script.scenes) - 1)
        timed = WordTiming(
            text=word.text,
            start=round(word.start, 4),
            end=round(min(word.end, script.duration), 4),
        )
        by_scene.setdefault(script.scenes[position].index, []).append(timed)
    lines = tuple(
        VoiceLine(
            scene=scene,
            start=words[0].start,
            text=" ".join(w.text for w in words),
            voice=speech.voice,
            words=tuple(words),
            engine=VOICEOVER_ENGINE,
        )
        for scene, words in sorted(by_scene.items())
    )
    # Each scene's stretch of the file, as a synthesized line would be: a picture that speaks
    # (a presenter's lip sync) takes the scene's voice from voice_path.
    for line in lines:
        scene_end = starts[line.scene] + script.scenes[line.scene].duration
        _cut_audio(
            file, line.start, max(scene_end, line.words[-1].end), voice_path(workdir, line.scene)
        )
    return lines


def _cut_audio(file: Path, start: float, end: float, out: Path) -> None:
    """``file`` from ``start`` to ``end`` seconds as a mono 16-bit WAV, written atomically."""
    part = out.with_name(f".{out.name}.part.wav")
    run_ffmpeg(
        [*input_args(file), "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}",
         "-i", str(file), "-vn", "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav", str(part)],
        stage="voice",
    )  # fmt: skip
    os.replace(part, out)


def voice_cues(brief: Brief, lines: Sequence[VoiceLine], workdir: Path) -> list[Cue]:
    """The soundtrack's voice: the user's own file as one cue at 0, else each scene's line."""
    if not lines:
        return []
    if brief.voice.file is not None:
        return [Cue(path=brief.voice.file, start=0.0)]
    return [Cue(path=voice_path(workdir, line.scene), start=line.start) for line in lines]
