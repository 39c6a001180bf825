"""The voice-over: one line per scene, synthesized to fit its scene, timed on the ad's clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.brief import Brief
from pipeline.checkpoints import Checkpoints, checkpoint_key
from pipeline.errors import BadInput
from pipeline.manifest import VoiceLine
from pipeline.script.model import Scene, Script
from pipeline.voice import Speech, VoiceSynth, WordTiming

__all__ = ["BASE_RATE", "VOICE_LEAD", "VOICE_TAIL", "speak_script", "voice_path"]

VOICE_LEAD = 0.15  # seconds of picture before a scene's voice starts
VOICE_TAIL = 0.10  # breath kept before the next scene
BASE_RATE = 175  # eSpeak's default words per minute
MAX_SPEEDUP = 1.4


def _speak(voice: VoiceSynth, scene: Scene, brief: Brief, workdir: Path) -> Speech:
    """Synthesize a scene's line, speeding up (to a limit) rather than spilling into the next scene."""
    out = voice_path(workdir, scene.index)
    base = brief.voice.rate or BASE_RATE
    room = scene.duration - VOICE_LEAD - VOICE_TAIL
    speech = voice.synthesize(
        scene.voiceover, locale=brief.brand.locale, out=out, voice=brief.voice.name, rate=base
    )
    if speech.duration <= room:
        return speech
    rate = min(round(base * speech.duration / room * 1.04), round(base * MAX_SPEEDUP), 450)
    speech = voice.synthesize(
        scene.voiceover, locale=brief.brand.locale, out=out, voice=brief.voice.name, rate=rate
    )
    if speech.duration > room:
        raise BadInput(
            "template",
            f"scene {scene.index + 1} ({scene.slot}) voice-over needs {speech.duration:.1f}s but the "
            f"scene allows {room:.1f}s: shorten the product text or raise duration",
        )
    return speech


def _checkpointed_speech(
    voice: VoiceSynth, scene: Scene, brief: Brief, workdir: Path, checkpoints: Checkpoints | None
) -> Speech:
    if checkpoints is None:
        return _speak(voice, scene, brief, workdir)
    params = {
        "engine": type(voice).__name__,
        "text": scene.voiceover,
        "locale": brief.brand.locale,
        "voice": brief.voice.name,
        "rate": brief.voice.rate,
        "room": scene.duration,
    }
    key = checkpoint_key("voice", params)
    path = voice_path(workdir, scene.index)
    saved = checkpoints.load(path, key, label=f"voice:{scene.index}")
    if saved is not None:
        return Speech.model_validate(saved)
    speech = _speak(voice, scene, brief, workdir)
    checkpoints.save(path, key, speech.model_dump(mode="json"))
    return speech


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
    for scene, start in zip(script.scenes, starts, strict=True):
        if scene.voiceover.strip():
            speech = _checkpointed_speech(voice, scene, brief, workdir, checkpoints)
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
                )
            )
        if on_scene is not None:
            on_scene((scene.index + 1) / len(script.scenes))
    return tuple(lines)
