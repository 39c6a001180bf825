"""Localized colour names: the table, nearest-name lookup, locales and de-duplication."""

from __future__ import annotations

import pytest

from pipeline.palette import NAMED_COLOURS, color_name, hex_to_rgb, unique_color_names


def test_table_is_big_and_unambiguous() -> None:
    assert len(NAMED_COLOURS) >= 50
    assert len({c.en for c in NAMED_COLOURS}) == len(NAMED_COLOURS)
    assert len({c.it for c in NAMED_COLOURS}) == len(NAMED_COLOURS)
    assert len({c.hex for c in NAMED_COLOURS}) == len(NAMED_COLOURS)


def test_every_reference_colour_is_named_by_its_own_entry() -> None:
    for colour in NAMED_COLOURS:
        assert color_name(hex_to_rgb(colour.hex), "en") == colour.en
        assert color_name(hex_to_rgb(colour.hex), "it") == colour.it


@pytest.mark.parametrize(
    ("hex_value", "en", "it"),
    [
        ("#9caf88", "sage green", "verde salvia"),
        ("#a0b28a", "sage green", "verde salvia"),  # near, not exact
        ("#ecc9bf", "powder pink", "cipria"),
        ("#3a3f44", "anthracite", "antracite"),
        ("#c96d4b", "terracotta", "terracotta"),
        ("#d0a828", "mustard", "senape"),
        ("#131b3a", "midnight blue", "blu notte"),
        ("#9a8b7e", "taupe", "tortora"),
        ("#f4f0e3", "ivory", "avorio"),
        ("#6c1a2c", "burgundy", "bordeaux"),
        ("#1e6e78", "teal", "ottanio"),
        ("#d9d9d4", "pearl grey", "grigio perla"),
        ("#c38a8a", "antique rose", "rosa antico"),
        ("#b38a5b", "camel", "cammello"),
        ("#6f4e38", "coffee brown", "color caffè"),
        ("#000000", "black", "nero"),
        ("#ffffff", "white", "bianco"),
    ],
)
def test_designer_names_in_english_and_italian(hex_value: str, en: str, it: str) -> None:
    rgb = hex_to_rgb(hex_value)
    assert color_name(rgb, "en") == en
    assert color_name(rgb, "en-GB") == en
    assert color_name(rgb, "it") == it
    assert color_name(rgb, "it-IT") == it


def test_other_locales_fall_back_to_english() -> None:
    rgb = hex_to_rgb("#9caf88")
    assert color_name(rgb, "fr-FR") == "sage green"
    assert color_name(rgb, "") == "sage green"


def test_unique_names_prefer_next_nearest_then_modifiers() -> None:
    # nearest name for all: "grey"; slightly lighter/darker greys must not repeat it
    greys = [(142, 142, 142), (150, 150, 150), (134, 134, 134), (146, 146, 146)]
    en = unique_color_names(greys, "en")
    it = unique_color_names(greys, "it")
    assert en[0] == "grey"
    assert it[0] == "grigio"
    assert len(set(en)) == len(en)
    assert len(set(it)) == len(it)
    assert "light grey" in en or "dark grey" in en
    assert "grigio chiaro" in it or "grigio scuro" in it


def test_unique_names_keep_nearest_for_the_heaviest_colour() -> None:
    names = unique_color_names([(156, 175, 136), (158, 177, 138)], "it")
    assert names[0] == "verde salvia"
    assert names[1] != "verde salvia"


def test_unique_names_never_repeat_even_for_identical_colours() -> None:
    names = unique_color_names([(128, 128, 128)] * 6, "en")
    assert len(set(names)) == 6
