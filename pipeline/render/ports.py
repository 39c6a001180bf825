"""The render's ports: one adapter per external system, handed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.palette import KMeansPalette, PaletteExtractor
from pipeline.script import OfflineScriptWriter, ScriptWriter
from pipeline.usage import UsageLog
from pipeline.visuals import ClipFactory, ClipGenerator, offline_clips
from pipeline.voice import EspeakVoice, Transcriber, VoiceSynth

__all__ = ["Ports"]


@dataclass
class Ports:
    """The outside world, one adapter per port; the defaults need no network and no keys.

    ``pipeline.wiring`` builds these from the settings and a runtime; tests hand in fakes."""

    palette: PaletteExtractor = field(default_factory=KMeansPalette)
    writer: ScriptWriter = field(default_factory=OfflineScriptWriter)
    voice: VoiceSynth = field(default_factory=EspeakVoice)
    transcriber: Transcriber | None = None  # times the captions of a brief's own voice.file
    clips: ClipGenerator | None = None  # a ready adapter; else made by clip_factory
    clip_factory: ClipFactory = offline_clips  # from the render's photos and brand
    meter: UsageLog | None = None  # what the provider adapters above spent, for the manifest
