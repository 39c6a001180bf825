from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import BadInput
from pipeline.images import load_rgb


def _save(image: Image.Image, path: Path, **kw: object) -> Path:
    image.save(path, **kw)
    return path


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = _save(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), tmp_path / "cmyk.jpg")
    image = load_rgb(path, field="product.photos[0]")
    assert image.mode == "RGB"
    r, g, b = image.getpixel((32, 24))  # type: ignore[misc]
    assert r > 200 and g < 60 and b < 60


def test_sixteen_bit_greyscale_keeps_its_range(tmp_path: Path) -> None:
    data = np.full((40, 40), 32768, dtype=np.uint16)
    path = _save(Image.fromarray(data), tmp_path / "grey16.png")
    with Image.open(path) as raw:
        assert raw.mode.startswith("I")
    image = load_rgb(path, field="x")
    assert 120 <= image.getpixel((10, 10))[0] <= 135  # type: ignore[index]


def test_palette_image_with_transparency_is_matted(tmp_path: Path) -> None:
    image = Image.new("P", (32, 32), 0)
    image.putpalette([255, 0, 0] + [0, 0, 255] * 255)
    image.info["transparency"] = 0
    path = _save(image, tmp_path / "pal.png", transparency=0)
    out = load_rgb(path, field="x")
    assert out.getpixel((5, 5)) == (255, 255, 255)


def test_alpha_is_composited(tmp_path: Path) -> None:
    path = _save(Image.new("RGBA", (32, 32), (0, 0, 0, 0)), tmp_path / "alpha.png")
    assert load_rgb(path, field="x").getpixel((1, 1)) == (255, 255, 255)


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (80, 40), (10, 200, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    path = _save(image, tmp_path / "rot.jpg", exif=exif)
    assert load_rgb(path, field="x").size == (40, 80)


def test_not_an_image_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("hello, I am text")
    with pytest.raises(BadInput, match=r"product\.photos\[2\]: not a supported image"):
        load_rgb(path, field="product.photos[2]")


def test_truncated_image_is_corrupt(tmp_path: Path) -> None:
    full = _save(Image.effect_noise((256, 256), 60).convert("RGB"), tmp_path / "full.png")
    path = tmp_path / "cut.png"
    path.write_bytes(full.read_bytes()[:3000])
    with pytest.raises(BadInput, match="corrupt or truncated"):
        load_rgb(path, field="x")


def _png_header_only(path: Path, width: int, height: int) -> Path:
    # A real PNG signature and IHDR claiming a huge size, no pixel data: decoding it would need
    # gigabytes, so the refusal must come from the header alone.
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    data = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )
    path.write_bytes(data + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND")))
    return path


@pytest.mark.parametrize(("w", "h"), [(50_000, 50_000), (8000, 5001)])
def test_images_over_40_megapixels_are_refused_before_decoding(
    tmp_path: Path, w: int, h: int
) -> None:
    path = _png_header_only(tmp_path / "bomb.png", w, h)
    with pytest.raises(BadInput, match="megapixel"):
        load_rgb(path, field="product.photos[0]")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "zero.jpg"
    path.write_bytes(b"")
    with pytest.raises(BadInput, match="file is empty"):
        load_rgb(path, field="brand.logo")
