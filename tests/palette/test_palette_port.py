"""The palette port: adapters satisfy the protocol; brand override; the fake for unit tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image

from pipeline.errors import BadInput
from pipeline.palette import FakePalette, KMeansPalette, PaletteExtractor

KNOWN = [("#c0392b", 0.6), ("#2e86c1", 0.3), ("#f1c40f", 0.1)]


def test_adapters_satisfy_the_protocol() -> None:
    extractors: list[PaletteExtractor] = [KMeansPalette(), FakePalette()]
    for extractor in extractors:
        assert isinstance(extractor, PaletteExtractor)


def test_kmeans_adapter_extracts_from_photos(
    make_blocks: Callable[..., Image.Image], assert_valid_palette: Callable[..., None]
) -> None:
    palette = KMeansPalette().extract([make_blocks(KNOWN)], locale="it-IT")
    assert_valid_palette(palette, count=5)
    assert palette.source == "photos"
    assert palette.locale == "it-IT"
    assert palette.dominant.name == "rosso"


def test_override_uses_brand_colours_in_order(
    make_blocks: Callable[..., Image.Image], assert_valid_palette: Callable[..., None]
) -> None:
    brand = ["#1F2F58", "#9caf88", "#f4f0e2"]
    palette = KMeansPalette().extract([make_blocks(KNOWN)], locale="it", override=brand)
    assert_valid_palette(palette, count=3)
    assert palette.source == "brand"
    assert [s.hex for s in palette.swatches] == ["#1f2f58", "#9caf88", "#f4f0e2"]
    assert [s.weight for s in palette.swatches] == pytest.approx([1 / 3] * 3)
    assert [s.name for s in palette.swatches] == ["blu navy", "verde salvia", "avorio"]
    assert palette.roles.background == "#1f2f58"


def test_override_needs_no_photos_and_rejects_bad_hex() -> None:
    palette = KMeansPalette().extract([], locale="en", override=["#9caf88"])
    assert palette.dominant.name == "sage green"
    with pytest.raises(BadInput, match=r"brand\.palette"):
        KMeansPalette().extract([], locale="en", override=["#9caf8"])


def test_empty_override_means_no_override(make_blocks: Callable[..., Image.Image]) -> None:
    palette = KMeansPalette().extract([make_blocks(KNOWN)], locale="en", override=[])
    assert palette.source == "photos"


def test_fake_palette_is_fixed_localized_and_records_calls(
    assert_valid_palette: Callable[..., None],
) -> None:
    fake = FakePalette()
    english = fake.extract([Image.new("RGB", (4, 4))], locale="en")
    italian = fake.extract([], locale="it")
    assert_valid_palette(english, count=5)
    assert english.source == "photos"
    assert [s.hex for s in english.swatches] == [s.hex for s in italian.swatches]
    assert english.dominant.name == "navy blue"
    assert italian.dominant.name == "blu navy"
    brand = fake.extract([], locale="en", override=["#c0392b"])
    assert brand.source == "brand"
    assert fake.calls == [(1, "en", None), (0, "it", None), (0, "en", ("#c0392b",))]
