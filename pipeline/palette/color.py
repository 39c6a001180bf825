"""Colour arithmetic: sRGB <-> CIELAB (D65), CIEDE2000 distance, WCAG contrast and hex helpers.

Every array function is vectorized over leading axes: colours live in the last axis of size 3.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "RGB",
    "chroma",
    "contrast_ratio",
    "contrast_ratios",
    "delta_e_76",
    "delta_e_2000",
    "fit_to_gamut",
    "hex_to_lab",
    "hex_to_rgb",
    "lab_to_hex",
    "lab_to_rgb8",
    "lab_to_srgb",
    "normalize_hex",
    "relative_luminance",
    "rgb_to_hex",
    "srgb_to_lab",
]

RGB = tuple[int, int, int]
FloatArray = NDArray[np.float64]

_HEX: Final = re.compile(r"^#?([0-9a-fA-F]{6})$")

# linear sRGB -> XYZ, D65 (IEC 61966-2-1); the white point is the row sums, so #ffffff is
# exactly L*=100, a*=b*=0.
_RGB_TO_XYZ: Final = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB: Final = np.linalg.inv(_RGB_TO_XYZ)
_WHITE: Final = _RGB_TO_XYZ.sum(axis=1)
_DELTA: Final = 6.0 / 29.0


# ---------------------------------------------------------------------------------------- hex


def normalize_hex(value: str) -> str:
    """``"#C0392B"`` / ``"c0392b"`` -> ``"#c0392b"``; raises ``ValueError`` on anything else."""
    match = _HEX.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a #rrggbb colour")
    return "#" + match.group(1).lower()


def hex_to_rgb(value: str) -> RGB:
    digits = normalize_hex(value)[1:]
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def rgb_to_hex(rgb: Sequence[int] | NDArray[np.integer]) -> str:
    r, g, b = (int(c) for c in rgb)
    for c in (r, g, b):
        if not 0 <= c <= 255:
            raise ValueError(f"channel {c} is outside 0..255")
    return f"#{r:02x}{g:02x}{b:02x}"


def hex_to_lab(value: str) -> tuple[float, float, float]:
    lab = srgb_to_lab(hex_to_rgb(value))
    return (float(lab[0]), float(lab[1]), float(lab[2]))


def lab_to_hex(lab: ArrayLike) -> str:
    """The in-gamut sRGB colour nearest ``lab`` in hue (chroma reduced if needed), as hex."""
    return rgb_to_hex(lab_to_rgb8(fit_to_gamut(lab)))


# ------------------------------------------------------------------------------- conversions


def srgb_to_lab(rgb: ArrayLike) -> FloatArray:
    """sRGB channels 0..255 (any shape ``(..., 3)``) -> CIELAB D65 ``(..., 3)``."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _DELTA**3, np.cbrt(xyz), xyz / (3 * _DELTA**2) + 4.0 / 29.0)
    lab = np.empty_like(f)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return np.asarray(lab, dtype=np.float64)


def lab_to_srgb(lab: ArrayLike) -> FloatArray:
    """CIELAB D65 ``(..., 3)`` -> sRGB channels as floats on the 0..255 scale, NOT clipped."""
    lab_arr = np.asarray(lab, dtype=np.float64)
    f = np.empty_like(lab_arr)
    f[..., 1] = (lab_arr[..., 0] + 16.0) / 116.0
    f[..., 0] = f[..., 1] + lab_arr[..., 1] / 500.0
    f[..., 2] = f[..., 1] - lab_arr[..., 2] / 200.0
    xyz = np.where(f > _DELTA, f**3, 3 * _DELTA**2 * (f - 4.0 / 29.0)) * _WHITE
    linear = xyz @ _XYZ_TO_RGB.T
    magnitude = np.abs(linear)
    encoded = np.where(
        magnitude <= 0.0031308, 12.92 * magnitude, 1.055 * magnitude ** (1 / 2.4) - 0.055
    )
    return np.asarray(np.sign(linear) * encoded * 255.0, dtype=np.float64)


def lab_to_rgb8(lab: ArrayLike) -> NDArray[np.uint8]:
    """CIELAB -> sRGB uint8, clipping each channel (use :func:`fit_to_gamut` first to keep hue)."""
    return np.clip(np.rint(lab_to_srgb(lab)), 0, 255).astype(np.uint8)


def fit_to_gamut(lab: ArrayLike, *, iterations: int = 10) -> FloatArray:
    """Reduce chroma (keeping L* and hue) until each colour fits in sRGB; in-gamut colours pass."""
    lab_arr = np.array(lab, dtype=np.float64)
    lab_arr[..., 0] = np.clip(lab_arr[..., 0], 0.0, 100.0)

    def inside(candidate: FloatArray) -> NDArray[np.bool_]:
        srgb = lab_to_srgb(candidate)
        ok: NDArray[np.bool_] = np.all((srgb >= -0.5) & (srgb <= 255.5), axis=-1)
        return ok

    outside = ~inside(lab_arr)
    if not bool(np.any(outside)):
        return lab_arr
    # bisect the chroma scale of the out-of-gamut colours only: 0 (a grey, always inside)
    # is the known-good bound, 1 the requested colour
    todo = lab_arr[outside]
    low = np.zeros(len(todo))
    high = np.ones(len(todo))
    for _ in range(iterations):
        mid = (low + high) / 2
        scaled = todo.copy()
        scaled[:, 1:] *= mid[:, None]
        ok = inside(scaled)
        low = np.where(ok, mid, low)
        high = np.where(ok, high, mid)
    todo[:, 1:] *= low[:, None]
    lab_arr[outside] = todo
    return lab_arr


def chroma(lab: ArrayLike) -> FloatArray:
    """C*ab, the colourfulness of a Lab colour."""
    lab_arr = np.asarray(lab, dtype=np.float64)
    result: FloatArray = np.hypot(lab_arr[..., 1], lab_arr[..., 2])
    return result


# --------------------------------------------------------------------------------- distances


def delta_e_76(lab1: ArrayLike, lab2: ArrayLike) -> FloatArray:
    """CIE76: Euclidean distance in Lab (broadcasting). Cheap, but overstates saturated pairs."""
    diff = np.asarray(lab1, dtype=np.float64) - np.asarray(lab2, dtype=np.float64)
    result: FloatArray = np.sqrt(np.sum(diff * diff, axis=-1))
    return result


def delta_e_2000(lab1: ArrayLike, lab2: ArrayLike) -> FloatArray:
    """CIEDE2000 colour difference (kL = kC = kH = 1), broadcasting over leading axes.

    Implements Sharma, Wu & Dalal (2005); about 1 is a just-noticeable difference.
    """
    a = np.asarray(lab1, dtype=np.float64)
    b = np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = a[..., 0], a[..., 1], a[..., 2]
    l2, a2, b2 = b[..., 0], b[..., 1], b[..., 2]

    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    c_bar7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p = (1 + g) * a1
    a2p = (1 + g) * a2
    c1p = np.hypot(a1p, b1)
    c2p = np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360

    d_lp = l2 - l1
    d_cp = c2p - c1p
    both = (c1p * c2p) != 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, dh)
    dh = np.where(dh < -180, dh + 360, dh)
    dh = np.where(both, dh, 0.0)
    d_hp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))

    l_bar = (l1 + l2) / 2
    c_bar = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(
        np.abs(h1p - h2p) <= 180,
        h_sum / 2,
        np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2),
    )
    h_bar = np.where(both, h_bar, h_sum)

    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    d_theta = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    c_bar7p = c_bar**7
    r_c = 2 * np.sqrt(c_bar7p / (c_bar7p + 25.0**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * c_bar
    s_h = 1 + 0.015 * c_bar * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c

    term_l = d_lp / s_l
    term_c = d_cp / s_c
    term_h = d_hp / s_h
    result: FloatArray = np.sqrt(
        np.maximum(term_l**2 + term_c**2 + term_h**2 + r_t * term_c * term_h, 0.0)
    )
    return result


# -------------------------------------------------------------------------------------- WCAG


def relative_luminance(rgb: ArrayLike) -> FloatArray:
    """WCAG 2.x relative luminance of sRGB channels 0..255 (``(..., 3)`` -> ``(...)``).

    Uses the sRGB threshold 0.04045 (WCAG's text says 0.03928; no 8-bit value lies between).
    """
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    result: FloatArray = linear @ np.array([0.2126, 0.7152, 0.0722])
    return result


def contrast_ratios(rgb1: ArrayLike, rgb2: ArrayLike) -> FloatArray:
    """WCAG 2.x contrast ratio (1..21) between sRGB colours, broadcasting."""
    y1 = relative_luminance(rgb1)
    y2 = relative_luminance(rgb2)
    result: FloatArray = (np.maximum(y1, y2) + 0.05) / (np.minimum(y1, y2) + 0.05)
    return result


def contrast_ratio(colour1: str | Sequence[int], colour2: str | Sequence[int]) -> float:
    """WCAG 2.x contrast ratio between two colours given as hex strings or RGB triples."""
    rgb1 = hex_to_rgb(colour1) if isinstance(colour1, str) else tuple(colour1)
    rgb2 = hex_to_rgb(colour2) if isinstance(colour2, str) else tuple(colour2)
    return float(contrast_ratios(rgb1, rgb2))
