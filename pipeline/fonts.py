"""Caption fonts: the bundled Red Hat Display faces, brand font validation, and libass font dirs."""

from __future__ import annotations

import io
import re
import shutil
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont
from pydantic import BaseModel, ConfigDict

from pipeline.errors import BadInput

__all__ = [
    "DEFAULT_CAPTION_FACE",
    "FontFile",
    "check_font",
    "default_caption_font",
    "fonts_dir_for",
    "foreign_font_selections",
    "libass_family",
    "load_brand_font",
]

# ExtraBold reads well at caption sizes with a thick outline; Black closes up counters on small
# formats. The file ships in the font-rhd wheel, so every machine renders the same glyphs.
DEFAULT_CAPTION_FACE = "RedHatDisplay-ExtraBold.ttf"

_FONT_SUFFIXES = frozenset({".ttf", ".otf"})
# A caption font must cover these, or libass silently substitutes a system font per glyph.
_REQUIRED_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_MS_PLATFORM = 3
_NAME_FAMILY = 1
_NAME_FULL = 4


class FontFile(BaseModel):
    """A font file plus the (family, bold) pair an ASS style must name to select exactly it."""

    model_config = ConfigDict(frozen=True)

    path: Path
    family: str  # legacy family (name ID 1): what libass matches an ASS Fontname against
    bold: bool  # heavy face (OS/2 weight >= 600): written as the ASS style's Bold flag


def _font_dir() -> Path:
    import font_rhd  # imported lazily: only needed when the default font is asked for

    return Path(font_rhd.font_directory)


def libass_family(font: TTFont) -> str:
    """The family name libass will match: name ID 1 from the Windows platform table.

    libass indexes only Microsoft-platform names 1 (family) and 4 (full name); it ignores the
    typographic family (ID 16) that FreeType, and so Pillow's ``getname()``, report. For Red Hat
    Display ExtraBold those differ ("Red Hat Display ExtraBold" vs "Red Hat Display"), and naming
    the ID-16 family in a style makes libass fall back to a system font without an error.
    """
    table = font["name"]
    for record in table.names:
        if record.nameID == _NAME_FAMILY and record.platformID == _MS_PLATFORM:
            name = str(record.toUnicode()).strip()
            if name:
                return name
    for name_id in (_NAME_FAMILY, _NAME_FULL):
        debug = table.getDebugName(name_id)
        if debug and str(debug).strip():
            return str(debug).strip()
    raise ValueError("font has no family name")


def _inspect(path: Path, where: str) -> FontFile:
    """Read a font's matching name and weight, raising BadInput(where) if it isn't a usable font."""
    if not path.is_file():
        raise BadInput(where, f"font file not found: {path}")
    if path.suffix.lower() not in _FONT_SUFFIXES:
        raise BadInput(where, f"{path.name}: expected a .ttf or .otf font file")
    # fontTools raises many types on garbage (struct.error on truncated tables, AssertionError).
    try:
        # From bytes: TTFont(path) leaks its file handle when the constructor raises.
        with TTFont(io.BytesIO(path.read_bytes()), lazy=True) as font:
            family = libass_family(font)
            cmap = font.getBestCmap() or {}
            weight = int(font["OS/2"].usWeightClass) if "OS/2" in font else 400
            has_outlines = any(tag in font for tag in ("glyf", "CFF ", "CFF2"))
        # Pillow/FreeType is what measures caption widths, so it must open the file too.
        ImageFont.truetype(str(path), 12)
    except (TTLibError, OSError, KeyError, ValueError, AssertionError, struct.error) as exc:
        raise BadInput(
            where, f"{path.name} is not a readable TrueType/OpenType font ({exc})"
        ) from exc
    if not has_outlines:
        raise BadInput(where, f"{path.name} has no glyph outlines (bitmap-only fonts can't scale)")
    missing = [c for c in _REQUIRED_CHARS if ord(c) not in cmap]
    if missing:
        raise BadInput(
            where, f"{path.name} lacks basic Latin letters/digits: {''.join(missing[:12])}"
        )
    return FontFile(path=path.resolve(), family=family, bold=weight >= 600)


def default_caption_font() -> FontFile:
    """Red Hat Display ExtraBold from the font-rhd wheel (family "Red Hat Display ExtraBold")."""
    return _inspect(_font_dir() / DEFAULT_CAPTION_FACE, "font")


def check_font(path: Path, where: str) -> FontFile:
    """Validate an untrusted .ttf/.otf as a caption font (as :func:`load_brand_font` does), with
    errors naming ``where``: an uploaded font is refused when a brief naming it would be."""
    return _inspect(path, where)


def load_brand_font(path: Path | str) -> FontFile:
    """Validate a user-supplied .ttf/.otf; anything else raises ``BadInput("brand.font", ...)``."""
    return _inspect(Path(path), "brand.font")


def fonts_dir_for(fonts: Sequence[FontFile], tmpdir: Path) -> Path:
    """A new folder under ``tmpdir`` holding copies of just ``fonts``, for libass ``fontsdir=``.

    libass loads every file in the folder, so a fresh folder keeps stray fonts from shadowing
    ours. Files are copied, not linked, so the folder survives being shipped to another worker.
    """
    tmpdir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="fonts-", dir=tmpdir))
    for index, font in enumerate(fonts):
        shutil.copyfile(font.path, folder / f"{index:02d}-{font.path.name}")
    return folder


# libass logs each font it picks (FFmpeg ``-loglevel verbose``), including per-glyph fallbacks:
#   fontselect: (Family, 700, 0) -> /usr/share/fonts/x.ttf, 0, PostScriptName
_FONTSELECT = re.compile(
    r"fontselect: \((?P<request>.*)\) -> (?P<path>.*), (?P<index>-?\d+), (?P<ps>\S*)$"
)


def _postscript_name(path: Path) -> str:
    with TTFont(io.BytesIO(path.read_bytes()), lazy=True) as font:
        return str(font["name"].getDebugName(6) or "")


def foreign_font_selections(ffmpeg_log: str, fonts: Sequence[FontFile]) -> list[str]:
    """libass ``fontselect`` log lines that picked a font other than ``fonts`` (e.g. a system one).

    libass never fails on a missing family or glyph; it quietly substitutes. Run FFmpeg at
    ``-loglevel verbose`` and check its stderr with this to make that substitution visible.
    """
    ours = {_postscript_name(f.path) for f in fonts}
    foreign: list[str] = []
    for line in ffmpeg_log.splitlines():
        match = _FONTSELECT.search(line.strip())
        if match and match["ps"] not in ours:
            foreign.append(match.group(0))
    return foreign
