"""The render's ports: one adapter per external system, handed in by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.media.graph import Output
from pipeline.palette import KMeansPalette, PaletteExtractor
from pipeline.render.composer import LocalComposer
from pipeline.script import OfflineScriptWriter, ScriptWriter
from pipeline.usage import UsageLog
from pipeline.visuals import ClipFactory, ClipGenerator, offline_clips
from pipeline.voice import OfflineVoice, Transcriber, VoiceSynth

__all__ = ["Composer", "Ports"]


class Composer(Protocol):
    """Turns timelines into MP4s: FFmpeg in this process, or fanned out over containers."""

    mode: str  # recorded in the manifest ("per_format", "single", "fan_out")

    def compose(self, outputs: Sequence[Output], progress: Callable[[float], None]) -> None:
        """Writes every ``output.path`` from its timeline; ``progress`` takes 0..1."""
        ...


@dataclass
class Ports:
    """The outside world, one adapter per port; the defaults need no network and no keys.

    ``pipeline.wiring`` builds these from the settings and a runtime; tests hand in fakes."""

    palette: PaletteExtractor = field(default_factory=KMeansPalette)
    writer: ScriptWriter = field(default_factory=OfflineScriptWriter)
    voice: VoiceSynth = field(default_factory=OfflineVoice)
    transcriber: Transcriber | None = None  # times the captions of a brief's own voice.file
    clips: ClipGenerator | None = None  # a ready adapter; else made by clip_factory
    clip_factory: ClipFactory = offline_clips  # from the render's photos and brand
    meter: UsageLog | None = None  # what the provider adapters above spent, for the manifest
    composer: Composer = field(default_factory=LocalComposer)
