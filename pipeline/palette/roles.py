"""Colour roles: which palette colour is the card background, the accent and each text colour.

Owns the legibility guarantee: every text colour reaches WCAG contrast >= 4.5 on what it sits on.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from pipeline.palette.color import (
    chroma,
    contrast_ratios,
    delta_e_2000,
    fit_to_gamut,
    hex_to_rgb,
    lab_to_rgb8,
    rgb_to_hex,
    srgb_to_lab,
)
from pipeline.palette.model import PaletteRoles, Swatch

__all__ = [
    "ACCENT_MIN_DELTA_E",
    "CARD_MIN_CONTRAST",
    "MIN_TEXT_CONTRAST",
    "OUTLINE_MIN_CONTRAST",
    "derive_roles",
    "readable_on",
]

MIN_TEXT_CONTRAST: Final = 4.5  # WCAG 2.x AA for body text
CARD_MIN_CONTRAST: Final = 6.0  # card background must reach this against black or white
ACCENT_MIN_DELTA_E: Final = 20.0  # CIEDE2000 between accent and background
OUTLINE_MIN_CONTRAST: Final = 10.0  # caption outline vs white: headroom for a coloured highlight
HIGHLIGHT_MIN_DELTA_E: Final = 15.0  # caption highlight must look different from caption text
NEAR_WHITE_L: Final = 85.0  # a swatch this light and this grey may serve as caption text
NEAR_WHITE_C: Final = 12.0

_WHITE: Final = np.array([255, 255, 255])
_BLACK: Final = np.array([0, 0, 0])
_L_STEP: Final = 1.0

Rgb8Array = NDArray[np.uint8]
Accept = Callable[[Rgb8Array], NDArray[np.bool_]]


def _lab(colour: str | Swatch) -> NDArray[np.float64]:
    if isinstance(colour, Swatch):
        return np.asarray(colour.lab, dtype=np.float64)
    return srgb_to_lab(hex_to_rgb(colour))


def _shift_lightness(
    lab: NDArray[np.float64], accept: Accept, *, lighter: bool = True, darker: bool = True
) -> str | None:
    """Smallest L* move of ``lab`` (hue kept, chroma reduced only to stay in sRGB) that
    ``accept`` likes, judged on the final 8-bit colour; ``None`` if no L* works.

    The scan ends at L* = 100 (#ffffff) and L* = 0 (#000000), so those are always tried.
    """
    start = float(np.clip(lab[0], 0.0, 100.0))
    scans = [
        np.append(np.arange(start, end, _L_STEP if end > start else -_L_STEP), end)
        for allowed, end in ((lighter, 100.0), (darker, 0.0))
        if allowed
    ]
    if not scans:
        return None
    steps = np.concatenate(scans)
    candidates = np.repeat(lab[None, :], len(steps), axis=0)
    candidates[:, 0] = steps
    rgb = lab_to_rgb8(fit_to_gamut(candidates))  # one call for both directions
    ok = np.flatnonzero(accept(rgb))
    if not ok.size:
        return None
    cost = np.abs(steps[ok] - start)
    return rgb_to_hex(rgb[int(ok[int(np.argmin(cost))])])


def _black_or_white(on: str) -> str:
    rgb = np.array(hex_to_rgb(on))
    white = float(contrast_ratios(_WHITE, rgb))
    black = float(contrast_ratios(_BLACK, rgb))
    return "#ffffff" if white >= black else "#000000"


def readable_on(
    candidates: Sequence[str | Swatch],
    background: str,
    *,
    min_ratio: float = MIN_TEXT_CONTRAST,
    lighter: bool = True,
    darker: bool = True,
) -> str:
    """A text colour for ``background`` with WCAG contrast >= ``min_ratio``.

    Guaranteed for any background when ``min_ratio`` <= 4.58 and both directions are allowed.

    The candidate with the highest contrast is used as is when it reaches ``min_ratio``;
    otherwise its L* is moved toward white/black (hue kept) just far enough, and if even that
    fails, plain black or white is returned (one of them always reaches 4.58 on any colour).
    """
    bg = np.array(hex_to_rgb(background))
    labs = np.array([_lab(c) for c in candidates]) if candidates else np.empty((0, 3))
    if len(labs):
        rgbs = lab_to_rgb8(fit_to_gamut(labs))
        ratios = contrast_ratios(rgbs, bg)
        best = int(np.argmax(ratios))
        if ratios[best] >= min_ratio:
            return rgb_to_hex(rgbs[best])
        shifted = _shift_lightness(
            labs[best],
            lambda rgb: contrast_ratios(rgb, bg) >= min_ratio,
            lighter=lighter,
            darker=darker,
        )
        if shifted is not None:
            return shifted
    return _black_or_white(background)


def _card_background(dominant: Swatch) -> str:
    """The dominant colour, its L* pushed away from mid-grey if neither black nor white text
    would reach :data:`CARD_MIN_CONTRAST` on it (so card text can keep a palette tint)."""

    def hosts_text(rgb: Rgb8Array) -> NDArray[np.bool_]:
        best = np.maximum(contrast_ratios(rgb, _WHITE), contrast_ratios(rgb, _BLACK))
        return best >= CARD_MIN_CONTRAST

    rgb = np.array([dominant.rgb], dtype=np.uint8)
    if bool(hosts_text(rgb)[0]):
        return dominant.hex
    return _shift_lightness(_lab(dominant), hosts_text) or dominant.hex


def _accent(swatches: Sequence[Swatch], background: str) -> str:
    """The most colourful, most distinct swatch at least :data:`ACCENT_MIN_DELTA_E` from the
    background (measured swatches before derived zero-weight ones); failing that, the most
    colourful swatch with its L* moved away from the background's until it is that distinct."""
    bg_lab = _lab(background)
    labs = np.array([s.lab for s in swatches], dtype=np.float64)
    distances = delta_e_2000(labs, bg_lab)
    colourfulness = chroma(labs)
    score = colourfulness + 0.25 * distances
    for measured_only in (True, False):
        eligible = [
            i
            for i, s in enumerate(swatches)
            if distances[i] >= ACCENT_MIN_DELTA_E and (s.weight > 0 or not measured_only)
        ]
        if eligible:
            return swatches[max(eligible, key=lambda i: float(score[i]))].hex

    base = labs[int(np.argmax(colourfulness))]
    shifted = _shift_lightness(
        base, lambda rgb: delta_e_2000(srgb_to_lab(rgb), bg_lab) >= ACCENT_MIN_DELTA_E
    )
    if shifted is not None:
        return shifted
    # nothing is that far from the background along the L* axis: take the farther extreme
    extremes = ("#ffffff", "#000000")
    return max(extremes, key=lambda h: float(delta_e_2000(_lab(h), bg_lab)))


def _caption_colours(swatches: Sequence[Swatch], accent: str) -> tuple[str, str, str]:
    """(caption_text, caption_highlight, caption_outline) for outlined captions over video.

    The outline is the darkest swatch darkened until white reaches
    :data:`OUTLINE_MIN_CONTRAST` on it, so a near-white text and a lightened accent both fit.
    """
    by_lightness = sorted(swatches, key=lambda s: s.lab[0])
    outline = readable_on(
        [by_lightness[0]], "#ffffff", min_ratio=OUTLINE_MIN_CONTRAST, lighter=False
    )

    lightest = by_lightness[-1]
    near_white = lightest.lab[0] >= NEAR_WHITE_L and float(chroma(lightest.lab)) <= NEAR_WHITE_C
    text = readable_on([lightest if near_white else "#ffffff"], outline, darker=False)

    text_lab = _lab(text)
    by_chroma = sorted(swatches, key=lambda s: -float(chroma(s.lab)))
    options: list[str | Swatch] = [accent, *by_chroma]
    highlights = (readable_on([option], outline, darker=False) for option in options)
    first = next(highlights)
    highlight = next(
        (
            h
            for h in itertools.chain([first], highlights)
            if float(delta_e_2000(_lab(h), text_lab)) >= HIGHLIGHT_MIN_DELTA_E
        ),
        first,
    )
    return text, highlight, outline


def derive_roles(swatches: Sequence[Swatch]) -> PaletteRoles:
    """Roles for a palette whose swatches are sorted heaviest first (at least one swatch).

    - ``background``: the dominant swatch (L* adjusted only if it is an awkward mid-tone)
    - ``accent``: see :func:`_accent`; ``on_background``/``on_accent``: see :func:`readable_on`
    - captions: near-white text and the lightened accent on a dark palette-tinted outline
    """
    if not swatches:
        raise ValueError("a palette needs at least one swatch")
    background = _card_background(swatches[0])
    accent = _accent(swatches, background)
    on_background = readable_on([*swatches, accent], background)
    on_accent = readable_on([*swatches, background], accent)
    caption_text, caption_highlight, caption_outline = _caption_colours(swatches, accent)
    return PaletteRoles(
        background=background,
        on_background=on_background,
        accent=accent,
        on_accent=on_accent,
        caption_text=caption_text,
        caption_highlight=caption_highlight,
        caption_outline=caption_outline,
    )
