"""Scene assets and palettes from bytes: the offline adapters, shaped for ``Function.map``."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

from PIL import Image

from pipeline.fonts import default_caption_font
from pipeline.images import load_rgb
from pipeline.palette import KMeansPalette, palette_from_hex
from pipeline.visuals import ClipRequest, PhotoMotionClips

__all__ = ["SceneAsset", "SceneTask", "images_from_bytes", "palette_of", "render_scene"]


class SceneTask(TypedDict):
    request: dict[str, Any]  # a ClipRequest as JSON
    photos: list[bytes]
    palette: list[str]  # brand hexes, heaviest first
    locale: str
    product_name: str
    price: str


class SceneAsset(TypedDict):
    clip: dict[str, Any]  # a StillClip as JSON; ``image`` is the file name of ``image_bytes``
    image_bytes: bytes


def images_from_bytes(blobs: Sequence[bytes], folder: Path) -> list[Image.Image]:
    """Decodes untrusted image bytes through the same checks as a brief's photos."""
    images = []
    for i, blob in enumerate(blobs):
        path = folder / f"image-{i:02d}"
        path.write_bytes(blob)
        images.append(load_rgb(path, field=f"images[{i}]"))
    return images


def palette_of(blobs: Sequence[bytes], locale: str) -> dict[str, Any]:
    """The k-means palette of the images, with colour names in ``locale``, as JSON."""
    with tempfile.TemporaryDirectory(prefix="reelforge-") as scratch:
        images = images_from_bytes(blobs, Path(scratch))
        return KMeansPalette().extract(images, locale=locale).model_dump(mode="json")


def render_scene(task: SceneTask) -> SceneAsset:
    """One scene in one format: the still (photo to move, or a drawn card) and its clip."""
    request = ClipRequest.model_validate(task["request"])
    with tempfile.TemporaryDirectory(prefix="reelforge-") as scratch:
        work = Path(scratch)
        clips = PhotoMotionClips(
            photos=images_from_bytes(task["photos"], work),
            palette=palette_from_hex(task["palette"], locale=task["locale"]),
            font_path=default_caption_font().path,
            product_name=task["product_name"],
            price=task["price"],
        )
        clip = clips.generate(request, workdir=work)
        data = clip.model_dump(mode="json")
        data["image"] = clip.image.name
        return SceneAsset(clip=data, image_bytes=clip.image.read_bytes())
