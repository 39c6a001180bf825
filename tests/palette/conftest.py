"""Shared helpers for the palette tests: synthetic photos and palette invariants."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pytest
from PIL import Image

from pipeline.palette import Palette, contrast_ratio, hex_to_rgb

HEX = re.compile(r"^#[0-9a-f]{6}$")


def blocks_image(
    colours: Sequence[tuple[str, float]], size: tuple[int, int] = (800, 400)
) -> Image.Image:
    """Vertical stripes: each colour takes its share of the width."""
    width, height = size
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    x = 0
    for i, (colour, share) in enumerate(colours):
        end = width if i == len(colours) - 1 else x + round(share * width)
        pixels[:, x:end] = hex_to_rgb(colour)
        x = end
    return Image.fromarray(pixels, "RGB")


def check_palette(palette: Palette, *, count: int | None = None) -> None:
    """Invariants every palette must satisfy."""
    swatches = palette.swatches
    if count is not None:
        assert len(swatches) == count
    weights = [s.weight for s in swatches]
    assert all(np.isfinite(w) and 0 <= w <= 1 for w in weights)
    assert sum(weights) == pytest.approx(1.0, abs=1e-9)
    assert weights == sorted(weights, reverse=True)
    assert len({s.name for s in swatches}) == len(swatches), "names must be unique"
    assert len({s.hex for s in swatches}) == len(swatches), "colours must be distinct"
    for s in swatches:
        assert HEX.match(s.hex)
        assert hex_to_rgb(s.hex) == s.rgb
        assert all(np.isfinite(s.lab))
    roles = palette.roles
    for value in roles.model_dump().values():
        assert HEX.match(value), value
    for text, ground in (
        (roles.on_background, roles.background),
        (roles.on_accent, roles.accent),
        (roles.caption_text, roles.caption_outline),
        (roles.caption_highlight, roles.caption_outline),
    ):
        assert contrast_ratio(text, ground) >= 4.5, (text, ground)


@pytest.fixture
def make_blocks() -> Callable[..., Image.Image]:
    return blocks_image


@pytest.fixture
def assert_valid_palette() -> Callable[..., None]:
    return check_palette
