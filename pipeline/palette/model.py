"""Palette value objects: the brand colours found in the photos and the text colours derived."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Palette", "PaletteRoles", "Swatch"]


class Swatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    hex: str = Field(pattern=r"^#[0-9a-f]{6}$")
    rgb: tuple[int, int, int]
    lab: tuple[float, float, float]
    weight: float = Field(ge=0, le=1)
    name: str  # localized, e.g. "verde salvia"


class PaletteRoles(BaseModel):
    """Colours chosen for each job; every text colour has WCAG contrast >= 4.5 on what it sits on.

    - ``on_background`` sits on ``background`` (text cards, end card)
    - ``on_accent`` sits on ``accent`` (call-to-action button)
    - ``caption_text`` and ``caption_highlight`` sit on ``caption_outline`` (outlined captions)
    """

    model_config = ConfigDict(frozen=True)

    background: str
    on_background: str
    accent: str
    on_accent: str
    caption_text: str
    caption_highlight: str
    caption_outline: str


class Palette(BaseModel):
    model_config = ConfigDict(frozen=True)

    locale: str
    swatches: tuple[Swatch, ...]  # heaviest first, weights sum to 1
    roles: PaletteRoles
    source: str  # "photos" or "brand"

    @property
    def dominant(self) -> Swatch:
        return self.swatches[0]
