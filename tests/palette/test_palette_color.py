"""Colour maths: Lab conversions, CIEDE2000 against Sharma's data, WCAG contrast, hex helpers."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.palette import (
    contrast_ratio,
    delta_e_76,
    delta_e_2000,
    fit_to_gamut,
    hex_to_lab,
    hex_to_rgb,
    lab_to_hex,
    lab_to_srgb,
    normalize_hex,
    relative_luminance,
    rgb_to_hex,
    srgb_to_lab,
)

# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula", table 1 (a selection)
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.4900, -0.0010), (50.0, -2.4900, 0.0009), 7.1792),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


def test_ciede2000_matches_sharma_reference_data() -> None:
    lab1 = np.array([p[0] for p in SHARMA])
    lab2 = np.array([p[1] for p in SHARMA])
    expected = np.array([p[2] for p in SHARMA])
    np.testing.assert_allclose(delta_e_2000(lab1, lab2), expected, atol=1e-4)
    np.testing.assert_allclose(delta_e_2000(lab2, lab1), expected, atol=1e-4)


def test_ciede2000_broadcasts_and_is_zero_on_identity() -> None:
    labs = srgb_to_lab(np.random.default_rng(1).integers(0, 256, (7, 4, 3)))
    assert delta_e_2000(labs, labs[0, 0]).shape == (7, 4)
    np.testing.assert_allclose(delta_e_2000(labs, labs), 0.0, atol=1e-12)


def test_cie76_is_euclidean() -> None:
    assert float(delta_e_76((50, 0, 0), (53, 4, 0))) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("hex_value", "lab"),
    [
        ("#ffffff", (100.0, 0.0, 0.0)),
        ("#000000", (0.0, 0.0, 0.0)),
        ("#ff0000", (53.2408, 80.0925, 67.2032)),
        ("#0000ff", (32.2970, 79.1875, -107.8602)),
        ("#808080", (53.5850, 0.0, 0.0)),
    ],
)
def test_known_lab_values(hex_value: str, lab: tuple[float, float, float]) -> None:
    np.testing.assert_allclose(hex_to_lab(hex_value), lab, atol=2e-3)


def test_srgb_lab_round_trip_is_exact_for_all_8_bit_samples() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (5000, 3))
    back = lab_to_srgb(srgb_to_lab(rgb))
    np.testing.assert_allclose(back, rgb, atol=1e-6)
    assert srgb_to_lab(rgb.reshape(50, 100, 3)).shape == (50, 100, 3)


def test_fit_to_gamut_keeps_lightness_and_hue() -> None:
    lab = np.array([70.0, -60.0, -90.0])  # far outside sRGB
    fitted = fit_to_gamut(lab)
    srgb = lab_to_srgb(fitted)
    assert np.all(srgb >= -0.5)
    assert np.all(srgb <= 255.5)
    assert fitted[0] == pytest.approx(70.0)
    assert np.degrees(np.arctan2(fitted[2], fitted[1])) == pytest.approx(
        np.degrees(np.arctan2(-90.0, -60.0))
    )
    in_gamut = hex_to_lab("#c0392b")
    np.testing.assert_allclose(fit_to_gamut(in_gamut), in_gamut)
    assert lab_to_hex(in_gamut) == "#c0392b"


def test_wcag_luminance_and_contrast() -> None:
    assert float(relative_luminance((255, 255, 255))) == pytest.approx(1.0)
    assert float(relative_luminance((0, 0, 0))) == 0.0
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    # well-known values: #767676 is the lightest grey passing AA on white, #777777 fails
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio((255, 255, 255), "#777777") == contrast_ratio("#ffffff", "#777777")


def test_hex_helpers() -> None:
    assert normalize_hex(" C0392B ") == "#c0392b"
    assert hex_to_rgb("#C0392B") == (192, 57, 43)
    assert rgb_to_hex((192, 57, 43)) == "#c0392b"
    with pytest.raises(ValueError, match="not a #rrggbb"):
        hex_to_rgb("#c0392")
    with pytest.raises(ValueError, match="outside"):
        rgb_to_hex((256, 0, 0))
