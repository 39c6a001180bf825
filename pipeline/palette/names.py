"""Localized colour names: a designers' colour table (English, Italian) and nearest-name lookup.

Names are found by CIEDE2000 distance in CIELAB; within one palette they are made unique.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pipeline.palette.color import delta_e_2000, hex_to_rgb, srgb_to_lab

__all__ = ["NAMED_COLOURS", "NamedColour", "color_name", "language_of", "unique_color_names"]


@dataclass(frozen=True, slots=True)
class NamedColour:
    hex: str
    en: str
    it: str

    def name(self, language: str) -> str:
        return self.it if language == "it" else self.en


# (reference sRGB, English, Italian): names as a fashion / interior catalogue would use them.
NAMED_COLOURS: Final[tuple[NamedColour, ...]] = tuple(
    NamedColour(h, en, it)
    for h, en, it in (
        # neutrals
        ("#ffffff", "white", "bianco"),
        ("#f4f0e2", "ivory", "avorio"),
        ("#efe3c2", "cream", "crema"),
        ("#e1d3b8", "beige", "beige"),
        ("#c9b18a", "sand", "sabbia"),
        ("#b48a5a", "camel", "cammello"),
        ("#988a7d", "taupe", "tortora"),
        ("#dcdcd6", "pearl grey", "grigio perla"),
        ("#b8babb", "silver", "argento"),
        ("#8e8e8e", "grey", "grigio"),
        ("#5f6a72", "slate grey", "grigio ardesia"),
        ("#3b4044", "anthracite", "antracite"),
        ("#0d0d0d", "black", "nero"),
        # reds and pinks
        ("#d0312d", "red", "rosso"),
        ("#a8122a", "cherry red", "rosso ciliegia"),
        ("#6d1a2b", "burgundy", "bordeaux"),
        ("#a4493d", "brick red", "rosso mattone"),
        ("#f47c6a", "coral", "corallo"),
        ("#f4a08a", "salmon", "salmone"),
        ("#eccbc0", "powder pink", "cipria"),
        ("#c48b8b", "antique rose", "rosa antico"),
        ("#f4a6c0", "pink", "rosa"),
        ("#e0348f", "fuchsia", "fucsia"),
        ("#b5178c", "magenta", "magenta"),
        ("#b3204d", "raspberry", "lampone"),
        # oranges
        ("#f07f1f", "orange", "arancione"),
        ("#c66b4a", "terracotta", "terracotta"),
        ("#a5462a", "rust", "ruggine"),
        ("#f6b07c", "apricot", "albicocca"),
        ("#f8c9a8", "peach", "pesca"),
        # yellows
        ("#f5d428", "yellow", "giallo"),
        ("#f3ef5a", "lemon yellow", "giallo limone"),
        ("#f5e29a", "butter yellow", "giallo burro"),
        ("#d1a827", "mustard", "senape"),
        ("#b97f2b", "ochre", "ocra"),
        # greens
        ("#a4c639", "lime green", "verde lime"),
        ("#b2c58a", "pistachio green", "verde pistacchio"),
        ("#708238", "olive green", "verde oliva"),
        ("#4b5320", "military green", "verde militare"),
        ("#9caf88", "sage green", "verde salvia"),
        ("#98d8b8", "mint green", "verde menta"),
        ("#009b77", "emerald green", "verde smeraldo"),
        ("#3aa53a", "green", "verde"),
        ("#2a5e3a", "forest green", "verde foresta"),
        ("#0f4a33", "bottle green", "verde bottiglia"),
        # teals and blues
        ("#1d6f77", "teal", "ottanio"),
        ("#1c4c5c", "petrol blue", "blu petrolio"),
        ("#30c3c1", "turquoise", "turchese"),
        ("#7fd8cf", "aquamarine", "acquamarina"),
        ("#8ec9ea", "sky blue", "azzurro cielo"),
        ("#b0c8dc", "powder blue", "azzurro polvere"),
        ("#5d8aa8", "air force blue", "blu avio"),
        ("#6d8ee0", "cornflower blue", "blu fiordaliso"),
        ("#3e5f8a", "denim blue", "blu jeans"),
        ("#2f74c0", "blue", "blu"),
        ("#1f46a0", "cobalt blue", "blu cobalto"),
        ("#1f2f58", "navy blue", "blu navy"),
        ("#141c3a", "midnight blue", "blu notte"),
        # purples
        ("#b9a7d6", "lavender", "lavanda"),
        ("#c8a2c8", "lilac", "lilla"),
        ("#a98199", "mauve", "malva"),
        ("#7d4aa8", "violet", "viola"),
        ("#6e3558", "plum", "prugna"),
        ("#3d1f3a", "aubergine", "melanzana"),
        # browns
        ("#bfa18a", "cappuccino", "cappuccino"),
        ("#a67b5b", "hazelnut", "nocciola"),
        ("#c6863f", "caramel", "caramello"),
        ("#9a4f23", "cognac", "cognac"),
        ("#8b5a2b", "tobacco", "tabacco"),
        ("#6f4e37", "coffee brown", "color caffè"),
        ("#5a3422", "chocolate brown", "cioccolato"),
        ("#3b2a22", "espresso", "testa di moro"),
    )
)

_TABLE_LAB: Final[NDArray[np.float64]] = srgb_to_lab([hex_to_rgb(c.hex) for c in NAMED_COLOURS])

# A later swatch may take the next-nearest unused name if it is at most this much (CIEDE2000)
# further than its nearest name; beyond that the nearest name gets a light/dark modifier.
NAME_SLACK: Final = 6.0

_MODIFIERS: Final = {
    "en": {"light": "light {}", "dark": "dark {}"},
    "it": {"light": "{} chiaro", "dark": "{} scuro"},
}


def language_of(locale: str) -> str:
    """``"it"`` for any ``it*`` locale, otherwise ``"en"`` (the fallback for every other one)."""
    return "it" if locale.strip().lower().startswith("it") else "en"


def _distances(lab: ArrayLike) -> NDArray[np.float64]:
    return delta_e_2000(np.asarray(lab, dtype=np.float64)[None, :], _TABLE_LAB)


def color_name(rgb: Sequence[int], locale: str) -> str:
    """The designer's name nearest (CIEDE2000) to an sRGB colour, e.g. ``"verde salvia"``."""
    nearest = int(np.argmin(_distances(srgb_to_lab(rgb))))
    return NAMED_COLOURS[nearest].name(language_of(locale))


def unique_color_names(rgbs: Sequence[Sequence[int]], locale: str) -> list[str]:
    """Names for the colours of one palette, in order, no name used twice.

    Colours are named in the given order (heaviest first), so the most important colour gets
    its nearest name. A later colour whose nearest name is taken gets the nearest *unused* name
    if that is at most :data:`NAME_SLACK` further away; otherwise it keeps the taken name with
    a lightness modifier ("light …"/"dark …", Italian "… chiaro"/"… scuro") chosen by comparing
    its L* with the reference colour's, then the opposite modifier, then a number ("grey 2").
    """
    language = language_of(locale)
    used: set[str] = set()
    names: list[str] = []
    for rgb in rgbs:
        lab = srgb_to_lab(rgb)
        distances = _distances(lab)
        order = np.argsort(distances, kind="stable")
        nearest = int(order[0])
        chosen: str | None = None
        for index in order:
            if distances[index] > distances[nearest] + NAME_SLACK:
                break
            candidate = NAMED_COLOURS[int(index)].name(language)
            if candidate not in used:
                chosen = candidate
                break
        if chosen is None:
            base = NAMED_COLOURS[nearest].name(language)
            lighter = lab[0] >= _TABLE_LAB[nearest, 0]
            first, second = ("light", "dark") if lighter else ("dark", "light")
            options = [_MODIFIERS[language][m].format(base) for m in (first, second)]
            options += [f"{base} {n}" for n in range(2, len(rgbs) + 2)]
            chosen = next(option for option in options if option not in used)
        used.add(chosen)
        names.append(chosen)
    return names
