"""Palette extraction from product photos: flat-background removal and k-means in CIELAB.

Owns :func:`extract_palette`; naming and roles are delegated to :mod:`pipeline.palette.assemble`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from threadpoolctl import threadpool_limits

from pipeline.errors import BadInput
from pipeline.palette.assemble import assemble_palette
from pipeline.palette.color import RGB, delta_e_2000, fit_to_gamut, lab_to_rgb8, srgb_to_lab
from pipeline.palette.model import Palette

__all__ = ["extract_palette", "flat_background"]

FloatArray = NDArray[np.float64]

MAX_SIDE: Final = 200  # photos are sampled (nearest neighbour) to at most this many px a side
BORDER_FRACTION: Final = 0.02  # border ring width as a share of the short side (>= 2 px)
BORDER_TOLERANCE: Final = 6.0  # CIEDE2000 from the border median that still counts as "same"
BORDER_FLAT_SHARE: Final = 0.8  # share of border pixels that must be "same" for a flat border
BACKGROUND_TOLERANCE: Final = 10.0  # pixels this close to a flat border colour are dropped
MIN_FOREGROUND_SHARE: Final = 0.02  # below this the "background" is the subject: keep it all
MERGE_DELTA_E: Final = 3.0  # clusters closer than this (CIEDE2000) are one colour
N_INIT: Final = 4
_QUANT_SHIFT: Final = 3  # 5 bits per channel: k-means runs on <= 32768 weighted bins
_VARIANT_STEPS: Final = tuple(s * 9.0 * m for m in (2, 4, 6, 8, 1, 3, 5, 7, 9, 10) for s in (1, -1))
_VARIANT_MIN_DELTA_E: Final = 5.0


def _sample(image: Image.Image) -> NDArray[np.uint8]:
    """The image as an ``(h, w, 3)`` uint8 array, at most :data:`MAX_SIDE` px a side.

    Nearest-neighbour sampling keeps real pixel colours (no blended edge colours), which is
    what the colour statistics need.
    """
    if image.mode != "RGB":
        image = image.convert("RGB")
    width, height = image.size
    scale = MAX_SIDE / max(width, height)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.NEAREST)
    return np.asarray(image, dtype=np.uint8)


def flat_background(lab: FloatArray) -> FloatArray | None:
    """The Lab colour of a flat (studio/packshot) background, or ``None`` for a natural photo.

    ``lab`` is an ``(h, w, 3)`` image. The border ring is flat when at least
    :data:`BORDER_FLAT_SHARE` of its pixels lie within :data:`BORDER_TOLERANCE` (CIEDE2000) of
    the ring's per-channel median; the median is then the background colour.
    """
    height, width = lab.shape[:2]
    ring = max(2, round(BORDER_FRACTION * min(height, width)))
    if 2 * ring >= min(height, width):
        return None  # too small to have a border and a subject
    mask = np.ones((height, width), dtype=bool)
    mask[ring:-ring, ring:-ring] = False
    border = lab[mask]
    median = np.median(border, axis=0)
    close = delta_e_2000(border, median) <= BORDER_TOLERANCE
    return median if float(np.mean(close)) >= BORDER_FLAT_SHARE else None


def _foreground(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], FloatArray]:
    """Pixels (rgb, lab) of one sampled image without its flat background, if it has one."""
    lab = srgb_to_lab(rgb)
    pixels_rgb = rgb.reshape(-1, 3)
    pixels_lab = lab.reshape(-1, 3)
    background = flat_background(lab)
    if background is None:
        return pixels_rgb, pixels_lab
    keep = delta_e_2000(pixels_lab, background) > BACKGROUND_TOLERANCE
    if float(np.mean(keep)) < MIN_FOREGROUND_SHARE:
        return pixels_rgb, pixels_lab
    return pixels_rgb[keep], pixels_lab[keep]


def _bins(rgb: NDArray[np.uint8], lab: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Quantize to 5 bits per channel: (mean Lab of each occupied bin, pixel count)."""
    q = (rgb >> _QUANT_SHIFT).astype(np.int64)
    keys = (q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    sums = np.stack([np.bincount(inverse, weights=lab[:, c]) for c in range(3)], axis=1)
    return sums / counts[:, None], counts.astype(np.float64)


def _cluster(
    lab: FloatArray, counts: FloatArray, *, k: int, seed: int
) -> tuple[FloatArray, FloatArray]:
    """Weighted k-means in Lab -> (centres, weights), or the bins themselves if <= k of them.

    With no more distinct points than clusters k-means has nothing to do (and scikit-learn
    would warn about duplicate centres), so that case never reaches it.
    """
    if len(lab) <= k:
        return lab, counts
    # Imported here: scikit-learn takes most of a second to import, which every CLI call
    # (templates, a bad brief) would otherwise pay.
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed)
    # a few thousand 3-D points: OpenMP threads cost more than they save, and on a busy
    # machine their spin-waiting made this 20x slower (10 ms -> 250 ms) in measurements
    with threadpool_limits(limits=1, user_api="openmp"):
        labels = model.fit_predict(lab, sample_weight=counts)
    weights = np.asarray(np.bincount(labels, weights=counts, minlength=k), dtype=np.float64)
    centres: FloatArray = np.asarray(model.cluster_centers_, dtype=np.float64)
    used = weights > 0
    return centres[used], weights[used]


def _merge_close(centres: FloatArray, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Fold each centre into a heavier one closer than :data:`MERGE_DELTA_E` (weighted mean)."""
    order = np.argsort(-weights, kind="stable")
    kept_centres: list[FloatArray] = []
    kept_weights: list[float] = []
    for i in order:
        for j, centre in enumerate(kept_centres):
            if float(delta_e_2000(centre, centres[i])) < MERGE_DELTA_E:
                total = kept_weights[j] + float(weights[i])
                kept_centres[j] = (centre * kept_weights[j] + centres[i] * weights[i]) / total
                kept_weights[j] = total
                break
        else:
            kept_centres.append(centres[i].copy())
            kept_weights.append(float(weights[i]))
    return np.array(kept_centres), np.array(kept_weights)


def _to_rgb(lab: FloatArray) -> RGB:
    r, g, b = (int(c) for c in lab_to_rgb8(fit_to_gamut(lab)))
    return (r, g, b)


def _pad_with_variants(colours: list[tuple[RGB, float]], k: int) -> list[tuple[RGB, float]]:
    """Fill up to k colours with lighter/darker variants (weight 0) of the real ones.

    Used when the photos hold fewer than k distinct colours: a variant keeps the hue of a
    measured colour with L* moved by +-18, +-36, ... (then odd multiples of 9) and is at least
    5 CIEDE2000 from all others. Its weight 0 says it was not seen in the photos.
    """
    result = list(colours)
    labs = [srgb_to_lab(rgb) for rgb, _ in result]
    for rgb, _ in colours:
        base = srgb_to_lab(rgb)
        for step in _VARIANT_STEPS:
            if len(result) >= k:
                return result
            lightness = base[0] + step
            if not 0.0 <= lightness <= 100.0:
                continue
            variant_rgb = _to_rgb(np.array([lightness, base[1], base[2]]))
            variant_lab = srgb_to_lab(variant_rgb)
            if min(float(delta_e_2000(variant_lab, lab)) for lab in labs) < _VARIANT_MIN_DELTA_E:
                continue
            result.append((variant_rgb, 0.0))
            labs.append(variant_lab)
    return result


def extract_palette(
    images: Sequence[Image.Image], *, locale: str, k: int = 5, seed: int = 0
) -> Palette:
    """The k main colours of the product photos, heaviest first, named for ``locale``.

    Each image is sampled to <= :data:`MAX_SIDE` px, its flat background (if any, see
    :func:`flat_background`) is dropped, and the pooled pixels are clustered with k-means in
    CIELAB (fixed ``seed``, so the result is deterministic). Weights are cluster shares.
    Clusters closer than :data:`MERGE_DELTA_E` are merged; if fewer than k colours remain, the
    palette is filled with zero-weight lighter/darker variants (see :func:`_pad_with_variants`),
    so a photo with 3 flat colours still gives k swatches, the 3 real ones carrying all weight.
    """
    if not images:
        raise BadInput("photos", "no photos to extract a palette from")
    if not 1 <= k <= 8:
        raise ValueError(f"k must be 1..8, got {k}")
    rgb_parts: list[NDArray[np.uint8]] = []
    lab_parts: list[FloatArray] = []
    for image in images:
        rgb, lab = _foreground(_sample(image))
        rgb_parts.append(rgb)
        lab_parts.append(lab)
    bin_lab, counts = _bins(np.concatenate(rgb_parts), np.concatenate(lab_parts))
    centres, weights = _merge_close(*_cluster(bin_lab, counts, k=k, seed=seed))

    # centres that round to one 8-bit colour are merged again by assemble_palette
    colours = [(_to_rgb(c), float(w)) for c, w in zip(centres, weights, strict=True)]
    return assemble_palette(_pad_with_variants(colours, k), locale=locale, source="photos")
