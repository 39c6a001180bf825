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

__all__ = [
    "BatchClipGenerator",
    "ClipContext",
    "ClipFactory",
    "ClipGenerator",
    "ClipRequest",
    "Credit",
    "Fallback",
    "GeneratedImage",
]


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
    spoken: str = ""  # the scene's voice-over line ("" when silent)
    voice: Path | None = None  # that line's audio (WAV), for presenters who lip-sync to it
    seed: int | None = None  # fixed per scene, so a regenerated ad asks the same question


class Fallback(BaseModel):
    """A scene the offline adapter made because its provider could not."""

    model_config = ConfigDict(frozen=True)

    scene: int
    format: str
    provider: str
    reason: str


class Credit(BaseModel):
    """Attribution a used asset's licence asks for (stock footage), for the manifest."""

    model_config = ConfigDict(frozen=True)

    provider: str
    text: str  # e.g. "Video by Jane Doe on Pexels"
    author: str
    url: str  # the asset's page


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
    photo_paths: Sequence[Path] = ()  # the photos' files, for providers that take a reference
    sku: str = ""
    logo_path: Path | None = None  # the logo's file, for adapters that draw elsewhere


ClipFactory = Callable[[ClipContext], ClipGenerator]


class GeneratedImage(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: Path
    width: int
    height: int
