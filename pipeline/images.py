"""Untrusted image files in, plain 8-bit RGB images out: bombs refused before decoding, EXIF applied."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import BadInput

__all__ = ["ALLOWED_FORMATS", "MAX_PIXELS", "check_header", "load_rgb", "to_rgb"]

MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF")


def check_header(
    path: Path, field: str, *, shown: object = None, formats: tuple[str, ...] = ALLOWED_FORMATS
) -> Image.Image:
    """``path`` opened lazily (header only) as one of ``formats``, refused if it is over the
    pixel limit or too small; errors name ``field`` and the file as ``shown`` (else ``path``)."""
    shown = path if shown is None else shown
    try:
        with warnings.catch_warnings():
            # Pillow warns, then raises, on bombs; both must surface as our error, never a decode.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path, formats=formats)
    except UnidentifiedImageError:
        raise BadInput(
            field, f"not a supported image (PNG, JPEG, WebP, TIFF, BMP, GIF): {shown}"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadInput(
            field,
            f"image is over the {MAX_PIXELS // 1_000_000} megapixel limit (refused before decoding): {shown}",
        ) from None
    except OSError as exc:
        raise BadInput(field, f"cannot read image {shown}: {exc}") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise BadInput(
            field,
            f"image is {width}x{height} ({width * height / 1e6:.0f} megapixels), "
            f"over the {MAX_PIXELS // 1_000_000} megapixel limit: {shown}",
        )
    if width < 16 or height < 16:
        image.close()
        raise BadInput(field, f"image is too small ({width}x{height}): {shown}")
    return image


def to_rgb(image: Image.Image, *, matte: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Convert any decoded mode (CMYK, 16-bit, palette, alpha, float) to 8-bit RGB."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # Pillow's own conversion clips 16-bit and float values at 255 (a white image);
        # scale by the real range instead.
        data = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or data.max() > 255 else 255.0
        if mode == "F":
            top = max(float(data.max()), 1.0)
        grey = np.clip(data / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*matte, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode == "RGB":
        return image
    return image.convert("RGB")


def load_rgb(path: Path, *, field: str) -> Image.Image:
    """Load an untrusted image file as upright 8-bit RGB; errors name ``field`` and the file."""
    if not path.is_file():
        raise BadInput(field, f"file not found: {path}")
    if path.stat().st_size == 0:
        raise BadInput(field, f"file is empty: {path}")
    image = check_header(path, field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(field, f"image is corrupt or truncated ({exc}): {path}") from None
    finally:
        image.close()
    return to_rgb(upright)
