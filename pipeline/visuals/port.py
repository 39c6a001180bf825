"""The ClipGenerator port: a scene and a format in, a clip for the timeline out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from PIL import Image
from pydantic import BaseModel, ConfigDict

from pipeline.formats import FormatSpec
from pipeline.palette.model import Palette
from pipeline.timeline import StillClip, VideoClip

__all__ = ["BatchClipGenerator", "ClipContext", "ClipFactory", "ClipGenerator", "ClipRequest"]


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


@runtime_checkable
class BatchClipGenerator(ClipGenerator, Protocol):
    def generate_many(
        self, requests: Sequence[ClipRequest], *, workdir: Path
    ) -> list[StillClip | VideoClip]:
        """Every request at once, in order: lets an adapter fan out (Modal's ``Function.map``)."""
        ...


@dataclass(frozen=True)
class ClipContext:
    """What a render knows when its clips are made: the decoded photos and the brand."""

    photos: Sequence[Image.Image]
    palette: Palette
    font_path: Path
    product_name: str
    price: str
    logo: Image.Image | None


ClipFactory = Callable[[ClipContext], ClipGenerator]
