"""The palette stage: brand colours from product photos (or the brief), named and given roles."""

from __future__ import annotations

from pipeline.palette.assemble import assemble_palette, palette_from_hex
from pipeline.palette.color import (
    RGB,
    chroma,
    contrast_ratio,
    contrast_ratios,
    delta_e_76,
    delta_e_2000,
    fit_to_gamut,
    hex_to_lab,
    hex_to_rgb,
    lab_to_hex,
    lab_to_rgb8,
    lab_to_srgb,
    normalize_hex,
    relative_luminance,
    rgb_to_hex,
    srgb_to_lab,
)
from pipeline.palette.kmeans import extract_palette, flat_background
from pipeline.palette.model import Palette, PaletteRoles, Swatch
from pipeline.palette.names import (
    NAMED_COLOURS,
    NamedColour,
    color_name,
    language_of,
    unique_color_names,
)
from pipeline.palette.port import FakePalette, KMeansPalette, PaletteExtractor
from pipeline.palette.roles import derive_roles, readable_on

__all__ = [
    "NAMED_COLOURS",
    "RGB",
    "FakePalette",
    "KMeansPalette",
    "NamedColour",
    "Palette",
    "PaletteExtractor",
    "PaletteRoles",
    "Swatch",
    "assemble_palette",
    "chroma",
    "color_name",
    "contrast_ratio",
    "contrast_ratios",
    "delta_e_76",
    "delta_e_2000",
    "derive_roles",
    "extract_palette",
    "fit_to_gamut",
    "flat_background",
    "hex_to_lab",
    "hex_to_rgb",
    "lab_to_hex",
    "lab_to_rgb8",
    "lab_to_srgb",
    "language_of",
    "normalize_hex",
    "palette_from_hex",
    "readable_on",
    "relative_luminance",
    "rgb_to_hex",
    "srgb_to_lab",
    "unique_color_names",
]
