"""Colour roles: sensible background/accent choices and the WCAG >= 4.5 guarantee for any input."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from pipeline.palette import (
    RGB,
    Palette,
    assemble_palette,
    contrast_ratio,
    delta_e_2000,
    derive_roles,
    hex_to_lab,
    hex_to_rgb,
    palette_from_hex,
    readable_on,
)


def text_pairs(palette: Palette) -> list[tuple[str, str]]:
    r = palette.roles
    return [
        (r.on_background, r.background),
        (r.on_accent, r.accent),
        (r.caption_text, r.caption_outline),
        (r.caption_highlight, r.caption_outline),
    ]


def random_palettes(count: int, seed: int = 0) -> list[list[tuple[RGB, float]]]:
    """Uniform colours, near-greys and near-extremes/mid-greys (the hard cases for contrast)."""
    rng = np.random.default_rng(seed)
    palettes = []
    for i in range(count):
        n = int(rng.integers(1, 6))
        kind = i % 3
        if kind == 0:
            rgbs = rng.integers(0, 256, (n, 3))
        elif kind == 1:
            rgbs = np.clip(rng.integers(0, 256, (n, 1)) + rng.integers(-8, 9, (n, 3)), 0, 255)
        else:
            rgbs = rng.choice([0, 1, 2, 116, 118, 119, 120, 253, 254, 255], (n, 3))
        weights = rng.random(n)
        palettes.append(
            [
                ((int(r[0]), int(r[1]), int(r[2])), float(w))
                for r, w in zip(rgbs, weights, strict=True)
            ]
        )
    return palettes


def test_contrast_guarantee_over_random_palettes() -> None:
    worst = 21.0
    for colours in random_palettes(2000):
        palette = assemble_palette(colours, locale="en", source="photos")
        for text, ground in text_pairs(palette):
            ratio = contrast_ratio(text, ground)
            assert ratio >= 4.5, (colours, palette.roles)
            worst = min(worst, ratio)
    print(f"\nworst contrast over 2000 random palettes: {worst:.3f}")


@pytest.mark.parametrize(
    "hexes",
    [
        ["#ffffff"],
        ["#000000"],
        ["#777777"],
        ["#767676", "#777777", "#787878"],
        ["#ff0000"],
        ["#00ff00"],
        ["#0000ff"],
        ["#ffff00"],
        ["#ffffff", "#fefefe", "#fdfdfd", "#fcfcfc", "#fbfbfb"],
        ["#000000", "#010101", "#020202", "#030303", "#040404"],
    ],
)
def test_contrast_guarantee_on_degenerate_palettes(
    hexes: list[str], assert_valid_palette: Callable[..., None]
) -> None:
    palette = palette_from_hex(hexes, locale="it")
    assert_valid_palette(palette, count=len(hexes))
    background, accent = palette.roles.background, palette.roles.accent
    assert float(delta_e_2000(hex_to_lab(background), hex_to_lab(accent))) >= 20


def test_dark_dominant_stays_the_background_and_saturated_swatch_is_the_accent() -> None:
    palette = palette_from_hex(["#1f2f58", "#f4f0e2", "#9caf88", "#c0392b"], locale="en")
    roles = palette.roles
    assert roles.background == "#1f2f58"
    assert roles.accent == "#c0392b"  # the most colourful, clearly different from navy
    assert roles.on_background == "#f4f0e2"  # ivory from the palette already reads on navy
    assert roles.caption_text in {"#f4f0e2", "#ffffff"}


def test_mid_tone_background_is_moved_away_from_mid_grey() -> None:
    palette = palette_from_hex(["#808080", "#c0392b"], locale="en")
    background = palette.roles.background
    assert background != "#808080"
    assert max(contrast_ratio(background, "#ffffff"), contrast_ratio(background, "#000000")) >= 6
    lightness_moved = abs(hex_to_lab(background)[0] - hex_to_lab("#808080")[0])
    assert lightness_moved < 15


def test_text_colour_keeps_its_hue_when_adjusted() -> None:
    # sage green on white fails 4.5: it is darkened, not replaced by black
    text = readable_on(["#9caf88"], "#ffffff")
    assert contrast_ratio(text, "#ffffff") >= 4.5
    assert text != "#000000"
    sage, adjusted = hex_to_lab("#9caf88"), hex_to_lab(text)
    assert adjusted[0] < sage[0]
    hue = np.degrees(np.arctan2(sage[2], sage[1]))
    assert np.degrees(np.arctan2(adjusted[2], adjusted[1])) == pytest.approx(hue, abs=3)


def test_caption_outline_is_dark_and_highlight_differs_from_text() -> None:
    palette = palette_from_hex(["#f4f0e2", "#c66b4a", "#3b4044"], locale="en")
    roles = palette.roles
    assert contrast_ratio(roles.caption_outline, "#ffffff") >= 10
    assert roles.caption_highlight != roles.caption_text
    highlight = hex_to_lab(roles.caption_highlight)
    assert np.hypot(highlight[1], highlight[2]) > 15  # still a colour, not a grey


def test_derive_roles_needs_a_swatch() -> None:
    with pytest.raises(ValueError, match="at least one"):
        derive_roles([])


def test_assemble_merges_duplicates_and_normalizes_weights(
    assert_valid_palette: Callable[..., None],
) -> None:
    palette = assemble_palette(
        [(hex_to_rgb("#c0392b"), 2.0), (hex_to_rgb("#2e86c1"), 1.0), (hex_to_rgb("#c0392b"), 1.0)],
        locale="en",
        source="photos",
    )
    assert_valid_palette(palette, count=2)
    assert [s.weight for s in palette.swatches] == [0.75, 0.25]
