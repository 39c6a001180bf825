"""Turning weighted colours into a finished :class:`Palette`: swatches, names and roles.

Shared by the photo path (k-means) and the brand path (hex list from the brief).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.errors import BadInput
from pipeline.palette.color import RGB, hex_to_rgb, normalize_hex, rgb_to_hex, srgb_to_lab
from pipeline.palette.model import Palette, Swatch
from pipeline.palette.names import unique_color_names
from pipeline.palette.roles import derive_roles

__all__ = ["assemble_palette", "palette_from_hex"]


def _lab_tuple(rgb: RGB) -> tuple[float, float, float]:
    lab = srgb_to_lab(rgb)
    return (float(lab[0]), float(lab[1]), float(lab[2]))


def assemble_palette(colours: Sequence[tuple[RGB, float]], *, locale: str, source: str) -> Palette:
    """A palette from ``(rgb, weight)`` pairs: sorted heaviest first (stable, so equal weights
    keep their order), weights normalized to sum to 1, localized unique names, derived roles.

    Exact duplicate colours are merged (their weights added).
    """
    merged: dict[RGB, float] = {}
    for rgb, weight in colours:
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"weight {weight!r} of {rgb_to_hex(rgb)} is not a share")
        key = (int(rgb[0]), int(rgb[1]), int(rgb[2]))
        merged[key] = merged.get(key, 0.0) + float(weight)
    if not merged:
        raise ValueError("a palette needs at least one colour")
    total = sum(merged.values())
    items = sorted(merged.items(), key=lambda item: -item[1])
    weights = [w / total if total > 0 else 1.0 / len(items) for _, w in items]
    rgbs = [rgb for rgb, _ in items]
    names = unique_color_names(rgbs, locale)
    swatches = tuple(
        Swatch(
            hex=rgb_to_hex(rgb),
            rgb=rgb,
            lab=_lab_tuple(rgb),
            weight=min(1.0, weight),
            name=name,
        )
        for rgb, weight, name in zip(rgbs, weights, names, strict=True)
    )
    return Palette(locale=locale, swatches=swatches, roles=derive_roles(swatches), source=source)


def palette_from_hex(hexes: Sequence[str], *, locale: str) -> Palette:
    """The brand's own colours (brief ``brand.palette``), in the order given, equal weights.

    The first colour is the dominant one (the card background). Duplicates are merged.
    """
    if not hexes:
        raise BadInput("brand.palette", "is empty")
    colours: list[tuple[RGB, float]] = []
    for value in hexes:
        try:
            colours.append((hex_to_rgb(normalize_hex(value)), 1.0))
        except ValueError as error:
            raise BadInput("brand.palette", str(error)) from None
    return assemble_palette(colours, locale=locale, source="brand")
