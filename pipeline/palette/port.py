"""The palette stage's port: how the pipeline asks for a palette, and its two adapters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol, runtime_checkable

from PIL import Image

from pipeline.palette.assemble import palette_from_hex
from pipeline.palette.kmeans import extract_palette
from pipeline.palette.model import Palette

__all__ = ["FAKE_PALETTE_HEXES", "FakePalette", "KMeansPalette", "PaletteExtractor"]


@runtime_checkable
class PaletteExtractor(Protocol):
    def extract(
        self,
        images: Sequence[Image.Image],
        *,
        locale: str,
        override: Sequence[str] | None = None,
    ) -> Palette:
        """The palette of the product photos (decoded RGB images), names in ``locale``.

        ``override`` is the brand's own ``#rrggbb`` list from the brief; when given, those
        colours are the palette (``source="brand"``) and the photos are not analysed.
        """
        ...


class KMeansPalette:
    """Photo palettes by k-means in CIELAB (:func:`extract_palette`); brand colours if given."""

    def __init__(self, *, k: int = 5, seed: int = 0) -> None:
        self.k = k
        self.seed = seed

    def extract(
        self,
        images: Sequence[Image.Image],
        *,
        locale: str,
        override: Sequence[str] | None = None,
    ) -> Palette:
        if override:
            return palette_from_hex(override, locale=locale)
        return extract_palette(images, locale=locale, k=self.k, seed=self.seed)


FAKE_PALETTE_HEXES: Final = ("#1f2f58", "#f4f0e2", "#c66b4a", "#9caf88", "#3b4044")


class FakePalette:
    """A fixed palette for unit tests: never looks at the photos; records each call."""

    def __init__(self, hexes: Sequence[str] = FAKE_PALETTE_HEXES) -> None:
        self.hexes = tuple(hexes)
        self.calls: list[tuple[int, str, tuple[str, ...] | None]] = []

    def extract(
        self,
        images: Sequence[Image.Image],
        *,
        locale: str,
        override: Sequence[str] | None = None,
    ) -> Palette:
        self.calls.append((len(images), locale, None if override is None else tuple(override)))
        if override:
            return palette_from_hex(override, locale=locale)
        palette = palette_from_hex(self.hexes, locale=locale)
        return palette.model_copy(update={"source": "photos"})
