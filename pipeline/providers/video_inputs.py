"""What a Kling video model is given for a scene, on Kling's own API or on fal: the aspect and
duration it renders, the scene's product photo cropped to that aspect, and what of the photo
goes into the cache key.

Image-to-video has no aspect ratio parameter: the video takes the picture's. So the photo is
cropped to the format's aspect before it is sent, and formats that share an aspect (4x5 uses a
9:16 clip, which the compositor crops to cover) share one generation through the cache key.
Kling takes a .jpg/.png reference of at least 300 px a side and up to 10 MB
(https://kling.ai/document-api/apiReference/model/imageToVideo).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from pipeline.formats import Format
from pipeline.visuals.cards import cover_fit
from pipeline.visuals.port import ClipContext, ClipRequest

__all__ = [
    "DURATIONS",
    "photo_input",
    "photo_key_input",
    "provider_aspect",
    "provider_duration",
    "reference_image",
    "reference_jpeg",
]

DURATIONS = (5, 10)  # the clip lengths Kling renders, in seconds

# Kling only renders these three; 4:5 takes the taller clip and the compositor crops it to cover
# (pipeline/media/graph.py scales a VideoClip with force_original_aspect_ratio=increase, then crops).
_ASPECTS: dict[Format, str] = {
    Format.V9X16: "9:16",
    Format.V16X9: "16:9",
    Format.V1X1: "1:1",
    Format.V4X5: "9:16",
}
# The reference sent for image-to-video: at least 300 px a side, well under the 10 MB cap.
_REFERENCE_SIZES: dict[str, tuple[int, int]] = {
    "9:16": (720, 1280),
    "16:9": (1280, 720),
    "1:1": (1024, 1024),
}


def provider_aspect(fmt: Format) -> str:
    """The aspect ratio Kling renders for a placement format."""
    return _ASPECTS[fmt]


def provider_duration(seconds: float, choices: Sequence[int] = DURATIONS) -> int:
    """The shortest duration in ``choices`` that covers ``seconds`` (the longest if none does:
    the compositor holds the last frame)."""
    ordered = sorted(choices)
    return next((c for c in ordered if c >= seconds - 1e-6), ordered[-1])


def reference_image(photo: Path | Image.Image, aspect: str) -> Image.Image:
    """The photo cropped to ``aspect`` (around its centre, as the offline adapter does) at a size
    every image-to-video model accepts."""
    if isinstance(photo, Path):
        with Image.open(photo) as opened:
            return cover_fit(opened.convert("RGB"), _REFERENCE_SIZES[aspect])
    return cover_fit(photo.convert("RGB"), _REFERENCE_SIZES[aspect])


def reference_jpeg(photo: Path | Image.Image, aspect: str) -> bytes:
    """:func:`reference_image` as JPEG bytes (Kling takes .jpg/.png up to 10 MB)."""
    out = io.BytesIO()
    reference_image(photo, aspect).save(out, format="JPEG", quality=92)
    return out.getvalue()


def photo_input(request: ClipRequest, ctx: ClipContext) -> Path | Image.Image | None:
    """The scene's product photo: its file when the render has one, else the decoded image."""
    if request.photo is None:
        return None
    if ctx.photo_paths:
        return ctx.photo_paths[request.photo % len(ctx.photo_paths)]
    if ctx.photos:
        return ctx.photos[request.photo % len(ctx.photos)]
    return None


def photo_key_input(photo: Path | Image.Image) -> Path | bytes:
    """What goes into the cache key for a photo: its file's bytes, or its pixels."""
    if isinstance(photo, Path):
        return photo
    return photo.convert("RGB").tobytes() + f"{photo.size}".encode()
