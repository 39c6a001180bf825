"""Caption fonts: the bundled default, brand font validation, and that libass really uses them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFont

from pipeline.errors import BadInput
from pipeline.fonts import (
    FontFile,
    default_caption_font,
    fonts_dir_for,
    foreign_font_selections,
    load_brand_font,
)

RHD_REGULAR = default_caption_font().path.with_name("RedHatDisplay-Regular.ttf")


def test_default_font_is_bundled_extrabold() -> None:
    font = default_caption_font()
    assert font.path.is_file()
    assert font.path.name == "RedHatDisplay-ExtraBold.ttf"
    assert "font_rhd" in font.path.parts
    # libass matches name ID 1; Pillow reports the typographic family (ID 16) instead.
    assert font.family == "Red Hat Display ExtraBold"
    assert ImageFont.truetype(str(font.path), 10).getname()[0] == "Red Hat Display"
    assert font.bold is True


def test_brand_font_loads_a_real_font(tmp_path: Path) -> None:
    path = tmp_path / "Brand Sans.TTF"
    shutil.copy(RHD_REGULAR, path)
    font = load_brand_font(path)
    assert font == FontFile(path=path.resolve(), family="Red Hat Display", bold=False)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("brand.ttf", b"definitely not a font\n" * 20),
        ("brand.otf", b""),
        ("brand.ttf", b"\x00\x01\x00\x00" + b"\x00" * 8),  # sfnt header, truncated tables
        ("brand.txt", RHD_REGULAR.read_bytes()),  # a real font with the wrong extension
    ],
)
def test_non_font_is_bad_input_naming_brand_font(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadInput) as info:
        load_brand_font(path)
    assert info.value.where == "brand.font"


def test_missing_brand_font_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"^brand\.font: font file not found"):
        load_brand_font(tmp_path / "nope.ttf")


def test_fonts_dir_holds_just_the_fonts(tmp_path: Path) -> None:
    font = default_caption_font()
    first = fonts_dir_for([font], tmp_path / "work")
    second = fonts_dir_for([font], tmp_path / "work")
    assert first != second
    assert [p.name for p in first.iterdir()] == ["00-RedHatDisplay-ExtraBold.ttf"]
    assert (first / "00-RedHatDisplay-ExtraBold.ttf").read_bytes() == font.path.read_bytes()


def test_foreign_font_selections_flags_system_fallbacks() -> None:
    log = "\n".join(
        [
            "[Parsed_ass_0 @ 0x1] fontselect: (Red Hat Display ExtraBold, 700, 0) -> "
            "RedHatDisplay-ExtraBold, 0, RedHatDisplay-ExtraBold",
            "[Parsed_ass_0 @ 0x1] fontselect: (Red Hat Display, 400, 0) -> "
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf, 0, DejaVuSans",
            "unrelated line",
        ]
    )
    assert foreign_font_selections(log, [default_caption_font()]) == [
        "fontselect: (Red Hat Display, 400, 0) -> "
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf, 0, DejaVuSans"
    ]


# ------------------------------------------------------------------------------ integration

_SCRIPT = """[Script Info]
ScriptType: v4.00+
PlayResX: 540
PlayResY: 240
WrapStyle: 2
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, \
Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: T,{family},80,&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,{bold},0,0,0,100,100,0,0,1,0,0,\
5,0,0,0,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.00,0:00:01.00,T,,0,0,0,,Wavy Jigsaw
"""


def _render(tmp_path: Path, fonts_dir: Path, family: str, bold: bool) -> tuple[np.ndarray, str]:
    from pipeline.captions import ass_filter
    from pipeline.media.ffmpeg import ffmpeg_exe

    ass = tmp_path / f"{family.replace(' ', '_')}.ass"
    ass.write_text(_SCRIPT.format(family=family, bold=-1 if bold else 0), encoding="utf-8")
    out = tmp_path / f"{ass.stem}.png"
    proc = subprocess.run(
        [
            *(ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "verbose", "-y"),
            *("-f", "lavfi", "-i", "color=c=black:s=540x240:d=1:r=1"),
            *("-vf", f"format=gray,{ass_filter(ass, fonts_dir)}", "-frames:v", "1", str(out)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return np.asarray(Image.open(out).convert("L")), proc.stderr


def _ink_width(image: np.ndarray) -> int:
    columns = np.nonzero((image > 128).any(axis=0))[0]
    return int(columns[-1] - columns[0] + 1)


@pytest.mark.integration
def test_libass_draws_our_font_not_a_system_one(tmp_path: Path) -> None:
    font = default_caption_font()
    fonts_dir = fonts_dir_for([font], tmp_path)
    ours, log = _render(tmp_path, fonts_dir, font.family, font.bold)
    assert foreign_font_selections(log, [font]) == []
    assert "RedHatDisplay-ExtraBold" in log

    # The ink matches what Pillow draws with the same file at libass's size (80 = line height).
    from pipeline.captions import measure_text

    expected = measure_text(font, 80, "Wavy Jigsaw")
    assert abs(_ink_width(ours) - expected) < 0.04 * expected

    # Naming the family Pillow reports makes libass silently fall back to a system font:
    # a different picture, and exactly the case foreign_font_selections exists to catch.
    fallback, fallback_log = _render(tmp_path, fonts_dir, "Red Hat Display", False)
    assert foreign_font_selections(fallback_log, [font]) != []
    assert np.abs(fallback.astype(int) - ours.astype(int)).mean() > 2
