"""The ClipGenerator port: a scene and a format in, a clip for the timeline out."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from pipeline.formats import FormatSpec
from pipeline.timeline import StillClip, VideoClip

__all__ = ["ClipGenerator", "ClipRequest"]


class ClipRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    scene_index: int
    kind: str  # "photo", "text_card" or "end_card"
    photo: int | None
    text: str  # on-screen text the clip itself carries (cards); photos get captions instead
    prompt: str  # the cinematic prompt, for generative providers
    duration: float  # seconds of picture needed
    spec: FormatSpec
    motion: str = "gentle"  # "gentle" or "dynamic"


class ClipGenerator(Protocol):
    def generate(self, request: ClipRequest, *, workdir: Path) -> StillClip | VideoClip:
        """Produce the clip for one scene in one format, writing any files under ``workdir``."""
        ...
