"""Brief and palette builders for the script tests: real photos on disk, a hand-built palette."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from pipeline.brief import Brief, parse_brief
from pipeline.palette.model import Palette, PaletteRoles, Swatch

FEATURES = {
    "en": ["Cold for 24 hours", "Leak-proof lid", "Dishwasher safe, every part", "Recycled steel"],
    "it": [
        "Fredda per 24 ore",
        "Tappo antigoccia",
        "Va in lavastoviglie, tutto",
        "Acciaio riciclato",
    ],
}
DESCRIPTIONS = {
    "en": "An insulated steel bottle for long days. Keeps water cold and coffee hot.",
    "it": "Una borraccia in acciaio per le giornate lunghe. Acqua fresca e caffè caldo.",
}

BriefFactory = Callable[..., Brief]


def brief_factory(tmp_path: Path) -> BriefFactory:
    """A function building valid briefs with three real PNG photos in ``tmp_path``."""
    photos = []
    for i in range(3):
        path = tmp_path / f"photo_{i}.png"
        Image.new("RGB", (16, 16), (40 * i, 120, 90)).save(path)
        photos.append(path.name)

    def make(
        *,
        locale: str = "en",
        template: str = "product_showcase",
        duration: float = 15,
        options: int = 3,
        **product: Any,
    ) -> Brief:
        lang = locale.split("-")[0]
        data = {
            "version": 1,
            "product": {
                "name": "Aurora Bottle",
                "sku": "AUR-500",
                "description": DESCRIPTIONS.get(lang, DESCRIPTIONS["en"]),
                "features": FEATURES.get(lang, FEATURES["en"]),
                "price": "24.90",
                "currency": "EUR",
                "url": "https://example.com/aurora",
                "photos": photos,
                **product,
            },
            "brand": {"name": "Northwind", "tone": "warm, confident", "locale": locale},
            "template": template,
            "duration": duration,
            "formats": ["9x16"],
            "options": options,
        }
        return parse_brief(data, base_dir=tmp_path)

    return make


def make_palette(locale: str = "en") -> Palette:
    names = {
        "en": ("sage green", "warm sand", "charcoal"),
        "it": ("verde salvia", "sabbia calda", "antracite"),
    }[locale.split("-")[0]]
    swatches = (
        Swatch(
            hex="#9caf88", rgb=(156, 175, 136), lab=(69.6, -12.6, 18.4), weight=0.5, name=names[0]
        ),
        Swatch(
            hex="#d8c3a5", rgb=(216, 195, 165), lab=(80.0, 3.2, 15.5), weight=0.3, name=names[1]
        ),
        Swatch(hex="#36454f", rgb=(54, 69, 79), lab=(28.6, -3.4, -7.0), weight=0.2, name=names[2]),
    )
    roles = PaletteRoles(
        background="#9caf88",
        on_background="#111111",
        accent="#36454f",
        on_accent="#ffffff",
        caption_text="#ffffff",
        caption_highlight="#f2c94c",
        caption_outline="#111111",
    )
    return Palette(locale=locale, swatches=swatches, roles=roles, source="photos")
