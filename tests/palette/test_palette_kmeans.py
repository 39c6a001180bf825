"""Photo palettes: recovery of known colours and shares, flat backgrounds, real sample photos."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import BadInput
from pipeline.palette import (
    Swatch,
    delta_e_2000,
    extract_palette,
    flat_background,
    hex_to_lab,
    srgb_to_lab,
)

PHOTOS = Path("/work/shared/samples/photos")
SAMPLES = ("coffee.png", "chelsea.png", "astronaut.png", "rocket.png")
KNOWN = [("#c0392b", 0.6), ("#2e86c1", 0.3), ("#f1c40f", 0.1)]

BROWNS_AND_CREAMS = {
    "terracotta", "rust", "espresso", "peach", "chocolate brown", "coffee brown", "hazelnut",
    "tobacco", "cognac", "caramel", "camel", "cappuccino", "cream", "ivory", "beige", "sand",
    "apricot", "brick red", "taupe", "ochre",
}  # fmt: skip


def load(name: str) -> Image.Image:
    with Image.open(PHOTOS / name) as image:
        return image.convert("RGB")


def noisy_photo(seed: int = 3, size: tuple[int, int] = (300, 200)) -> Image.Image:
    """Smooth colour gradients plus sensor-like noise: no flat border anywhere."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack(
        [120 + 80 * x / width, 90 + 60 * y / height, 140 - 70 * (x + y) / (width + height)],
        axis=-1,
    )
    pixels = np.clip(base + rng.normal(0, 14, base.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def on_white(
    make_blocks: Callable[..., Image.Image], noise: float = 0.0, seed: int = 0
) -> Image.Image:
    canvas = np.full((500, 700, 3), 255.0)
    if noise:
        canvas += np.random.default_rng(seed).normal(0, noise, canvas.shape)
    product = np.asarray(make_blocks(KNOWN, size=(300, 200)), dtype=np.float64)
    canvas[150:350, 200:500] = product
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")


def assert_recovers_known(swatches: tuple[Swatch, ...], tolerance: float) -> None:
    for (colour, share), swatch in zip(KNOWN, swatches, strict=False):
        assert float(delta_e_2000(swatch.lab, hex_to_lab(colour))) < 2.0, (colour, swatch)
        assert swatch.weight == pytest.approx(share, abs=tolerance)


def test_recovers_known_colours_and_shares(
    make_blocks: Callable[..., Image.Image], assert_valid_palette: Callable[..., None]
) -> None:
    palette = extract_palette([make_blocks(KNOWN, size=(1200, 500))], locale="en")
    assert_valid_palette(palette, count=5)
    assert palette.source == "photos"
    assert_recovers_known(palette.swatches, tolerance=0.01)
    assert [s.name for s in palette.swatches[:3]] == ["red", "air force blue", "yellow"]
    # only 3 colours exist: the other 2 swatches are zero-weight lighter/darker variants
    assert [s.weight for s in palette.swatches[3:]] == [0.0, 0.0]


def test_more_distinct_colours_than_k_goes_through_kmeans_without_warnings(
    make_blocks: Callable[..., Image.Image], assert_valid_palette: Callable[..., None]
) -> None:
    # 6 flat colours for 5 clusters: exactly the duplicate-heavy case k-means warns about
    six = [("#c0392b", 0.3), ("#2e86c1", 0.25), ("#f1c40f", 0.2), ("#27ae60", 0.15)]
    six += [("#8e44ad", 0.06), ("#7d3c98", 0.04)]  # the last two are close: merged by k-means
    palette = extract_palette([make_blocks(six)], locale="it")
    assert_valid_palette(palette, count=5)
    assert palette.swatches[0].weight == pytest.approx(0.3, abs=0.01)
    assert palette.swatches[4].weight == pytest.approx(0.1, abs=0.01)


def test_flat_white_background_is_ignored(
    make_blocks: Callable[..., Image.Image], assert_valid_palette: Callable[..., None]
) -> None:
    for noise in (0.0, 1.5):  # a clean packshot and one with slight sensor noise
        palette = extract_palette([on_white(make_blocks, noise)], locale="en")
        assert_valid_palette(palette, count=5)
        assert_recovers_known(palette.swatches, tolerance=0.02)
        white = hex_to_lab("#ffffff")
        for swatch in palette.swatches:
            if swatch.weight > 0:
                assert float(delta_e_2000(swatch.lab, white)) > 10, swatch


def test_flat_background_detection() -> None:
    white = srgb_to_lab(np.full((100, 150, 3), 250, dtype=np.uint8))
    background = flat_background(white)
    assert background is not None
    np.testing.assert_allclose(background, srgb_to_lab((250, 250, 250)), atol=1e-9)
    assert flat_background(srgb_to_lab(np.asarray(noisy_photo()))) is None
    assert flat_background(srgb_to_lab(np.zeros((3, 3, 3), dtype=np.uint8))) is None


def test_natural_photo_keeps_all_pixels() -> None:
    image = noisy_photo()
    assert flat_background(srgb_to_lab(np.asarray(image))) is None
    for name in SAMPLES:
        sample = np.asarray(load(name).resize((200, 133), Image.Resampling.NEAREST))
        assert flat_background(srgb_to_lab(sample)) is None, name


def test_noisy_photo_gives_a_full_palette(assert_valid_palette: Callable[..., None]) -> None:
    palette = extract_palette([noisy_photo()], locale="en")
    assert_valid_palette(palette, count=5)
    assert all(s.weight > 0.05 for s in palette.swatches)


def test_single_flat_colour_and_tiny_images(
    assert_valid_palette: Callable[..., None],
) -> None:
    flat = Image.new("RGB", (64, 64), (156, 175, 136))  # all "background": kept as the subject
    palette = extract_palette([flat], locale="it")
    assert_valid_palette(palette, count=5)
    assert palette.dominant.hex == "#9caf88"
    assert palette.dominant.weight == 1.0
    assert palette.dominant.name == "verde salvia"

    tiny = extract_palette([Image.new("RGB", (1, 1), (0, 0, 0))], locale="en")
    assert_valid_palette(tiny, count=5)
    assert tiny.dominant.hex == "#000000"


def test_k_and_input_validation(make_blocks: Callable[..., Image.Image]) -> None:
    with pytest.raises(BadInput, match="no photos"):
        extract_palette([], locale="en")
    with pytest.raises(ValueError, match="k must be"):
        extract_palette([make_blocks(KNOWN)], locale="en", k=0)
    assert len(extract_palette([make_blocks(KNOWN)], locale="en", k=3).swatches) == 3


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_photos(name: str, assert_valid_palette: Callable[..., None]) -> None:
    image = load(name)
    palette = extract_palette([image], locale="en")
    assert_valid_palette(palette, count=5)
    assert all(s.weight > 0.01 for s in palette.swatches)
    assert extract_palette([image], locale="en") == palette  # deterministic
    italian = extract_palette([image], locale="it")
    assert [s.hex for s in italian.swatches] == [s.hex for s in palette.swatches]
    assert italian.locale == "it"


def test_coffee_is_browns_and_creams() -> None:
    palette = extract_palette([load("coffee.png")], locale="en")
    assert palette.dominant.name in BROWNS_AND_CREAMS
    share = sum(s.weight for s in palette.swatches if s.name in BROWNS_AND_CREAMS)
    assert share > 0.8, [(s.name, s.weight) for s in palette.swatches]
    # and warm: hue angle of the heavy swatches between red and yellow
    for swatch in palette.swatches:
        hue = np.degrees(np.arctan2(swatch.lab[2], swatch.lab[1])) % 360
        assert 15 <= hue <= 100, swatch


def test_rocket_sky_is_blue() -> None:
    dominant = extract_palette([load("rocket.png")], locale="en").dominant
    hue = np.degrees(np.arctan2(dominant.lab[2], dominant.lab[1])) % 360
    assert 220 <= hue <= 300, dominant


def test_all_samples_together_fast_and_deterministic(
    assert_valid_palette: Callable[..., None],
) -> None:
    images = [load(name) for name in SAMPLES]
    extract_palette(images, locale="en")  # warm-up: imports, thread pools
    started = time.perf_counter()
    palette = extract_palette(images, locale="en")
    elapsed = time.perf_counter() - started
    print(f"\npalette of {len(images)} sample photos: {elapsed * 1000:.0f} ms")
    assert_valid_palette(palette, count=5)
    assert extract_palette(images, locale="en") == palette
    assert elapsed < 5.0  # generous: ~60 ms on a laptop core; shared CI runners vary
