"""Karaoke captions and on-screen headlines as an ASS script for FFmpeg's libass ``ass`` filter."""

from __future__ import annotations

import io
import itertools
import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

from fontTools.ttLib import TTFont
from PIL import ImageFont, features
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline.fonts import FontFile, default_caption_font
from pipeline.formats import FormatSpec
from pipeline.palette.model import PaletteRoles
from pipeline.voice.model import WordTiming

__all__ = [
    "CaptionLine",
    "CaptionLook",
    "OverlayRole",
    "Position",
    "TextOverlay",
    "ass_colour",
    "ass_filter",
    "ass_filter_args",
    "break_lines",
    "build_ass",
    "caption_look_for",
    "escape_ass_text",
    "measure_text",
]

Position = Literal["lower", "middle"]
OverlayRole = Literal["headline", "subhead", "price", "cta"]

_HEX = r"^#[0-9a-fA-F]{6}$"
# Sentence ends force a new line; clause punctuation is a preferred (not forced) break.
_SENTENCE_END = re.compile(r"[.!?…]['\"”’)\]]*$")
_CLAUSE_END = re.compile(r"[,;:–—]['\"”’)\]]*$")
# U+2060 WORD JOINER: zero-width and default-ignorable, so HarfBuzz drops it while shaping.
_WJ = "\u2060"
# A raw line break would end the Dialogue line and let user text write its own script lines.
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")

_CAPTION_SCALE = 0.07  # ASS font size (line height) as a fraction of the frame's short side
_OVERLAY_SCALE: dict[str, float] = {"headline": 1.3, "price": 1.3, "subhead": 0.9, "cta": 1.0}
_OVERLAY_MAX_LINES = 3
_MIN_SIZE_FRACTION = 0.4  # never shrink text below this share of its nominal size
_FIT_MARGIN = 0.97  # Pillow and libass agree to a pixel or two; keep a little slack anyway


class CaptionLine(BaseModel):
    """Words shown together; ``start``/``end`` bound the line on screen (seconds)."""

    model_config = ConfigDict(frozen=True)

    words: tuple[WordTiming, ...] = Field(min_length=1)
    start: float = Field(ge=0)
    end: float = Field(ge=0)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @model_validator(mode="after")
    def _ordered(self) -> CaptionLine:
        if self.end < self.start:
            raise ValueError("caption line ends before it starts")
        return self


class CaptionLook(BaseModel):
    """How captions look. ``size_px`` is the ASS font size: the font's line height in frame px."""

    model_config = ConfigDict(frozen=True)

    font: FontFile
    size_px: int = Field(gt=0)
    text_colour: str = Field(pattern=_HEX)
    highlight_colour: str = Field(pattern=_HEX)
    outline_colour: str = Field(pattern=_HEX)
    outline_px: float = Field(ge=0)
    shadow_px: float = Field(ge=0)
    uppercase: bool = True
    position: Position = "lower"


class TextOverlay(BaseModel):
    """On-screen text for a scene, drawn at the top of the safe zone without karaoke."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    role: OverlayRole = "headline"

    @model_validator(mode="after")
    def _ordered(self) -> TextOverlay:
        if self.end < self.start:
            raise ValueError("overlay ends before it starts")
        return self


def caption_look_for(
    spec: FormatSpec,
    roles: PaletteRoles,
    font: FontFile | None = None,
    *,
    scale: float = 1.0,
    uppercase: bool = True,
    position: Position = "lower",
) -> CaptionLook:
    """The default look for a format: palette caption colours, size scaled to the frame."""
    size = max(8, round(_CAPTION_SCALE * min(spec.width, spec.height) * scale))
    return CaptionLook(
        font=font or default_caption_font(),
        size_px=size,
        text_colour=roles.caption_text,
        highlight_colour=roles.caption_highlight,
        outline_colour=roles.caption_outline,
        outline_px=max(1.0, round(size * 0.07, 1)),
        shadow_px=round(size * 0.03, 1),
        uppercase=uppercase,
        position=position,
    )


# ---------------------------------------------------------------------------- line breaking


def break_lines(
    words: Sequence[WordTiming],
    *,
    max_words: int,
    max_chars: int,
    max_gap: float = 0.6,
    linger: float = 0.3,
) -> tuple[CaptionLine, ...]:
    """Group timed words into caption lines of 1..``max_words`` words.

    A line always ends at sentence punctuation or before a pause longer than ``max_gap``;
    otherwise the split minimises line count, prefers clause punctuation, avoids one-word
    orphans and balances lengths. Lines stay up to ``linger`` s after their last word, but never
    past the next line's start, so short gaps don't flicker and lines never overlap.
    Blank words are dropped.
    """
    if not 1 <= max_words <= 4:
        raise ValueError("max_words must be 1-4")
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    kept = [w for w in words if w.text.strip()]
    for before, after in itertools.pairwise(kept):
        if after.start < before.start:
            raise ValueError(f"word timings out of order at {after.text!r}")

    groups: list[list[WordTiming]] = []
    for segment in _segments(kept, max_gap):
        groups.extend(_split_segment(segment, max_words, max_chars))

    lines: list[CaptionLine] = []
    for index, group in enumerate(groups):
        start = group[0].start
        end = max(start, group[-1].end) + linger
        if index + 1 < len(groups):
            end = min(end, groups[index + 1][0].start)
        lines.append(CaptionLine(words=tuple(group), start=start, end=max(start, end)))
    return tuple(lines)


def _segments(words: Sequence[WordTiming], max_gap: float) -> list[list[WordTiming]]:
    """Runs of words between forced breaks: sentence ends and long pauses."""
    segments: list[list[WordTiming]] = []
    current: list[WordTiming] = []
    for word in words:
        if current and (
            _SENTENCE_END.search(current[-1].text.strip()) or word.start - current[-1].end > max_gap
        ):
            segments.append(current)
            current = []
        current.append(word)
    if current:
        segments.append(current)
    return segments


def _split_segment(
    segment: Sequence[WordTiming], max_words: int, max_chars: int
) -> list[list[WordTiming]]:
    """Best split of one segment by dynamic programming over the break positions."""
    n = len(segment)
    best: list[tuple[float, int]] = [(0.0, n)] * (n + 1)  # (cost of words[i:], next break)
    for i in range(n - 1, -1, -1):
        options: list[tuple[float, int]] = []
        for k in range(1, min(max_words, n - i) + 1):
            chars = len(" ".join(w.text.strip() for w in segment[i : i + k]))
            if k > 1 and chars > max_chars:
                break
            cost = 10.0 + 0.01 * chars * chars  # fewer lines first, then balanced ones
            if k == 1 and n > 1:
                cost += 8.0  # a lone word flashes by; worth it only when nothing else fits
            if i + k < n and _CLAUSE_END.search(segment[i + k - 1].text.strip()):
                cost -= 6.0
            options.append((cost + best[i + k][0], i + k))
        best[i] = min(options, key=lambda option: option[0])
    groups: list[list[WordTiming]] = []
    i = 0
    while i < n:
        j = best[i][1]
        groups.append(list(segment[i:j]))
        i = j
    return groups


# ---------------------------------------------------------------------------- text & fonts


def escape_ass_text(text: str) -> str:
    """Make user text render literally inside an ASS Dialogue Text field.

    libass's only text escapes are ``\\N`` ``\\n`` ``\\h`` ``\\{`` ``\\}``; a backslash itself
    can't be escaped. So braces become ``\\{``/``\\}`` (literal braces in libass, no override
    block), and every backslash is followed by U+2060 WORD JOINER, an invisible character that
    stops it pairing with the next one (including the ``{`` of a tag we append). Line breaks
    and other control characters become spaces.
    """
    out: list[str] = []
    for char in text:
        if char == "\\":
            out.append("\\" + _WJ)
        elif char == "{":
            out.append("\\{")
        elif char == "}":
            out.append("\\}")
        elif char in _LINE_BREAKS or char == "\t" or unicodedata.category(char) == "Cc":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def _display(text: str, uppercase: bool) -> str:
    """The characters that will be drawn (before escaping), which is what gets measured."""
    flat = "".join(" " if unicodedata.category(c) == "Cc" or c in _LINE_BREAKS else c for c in text)
    return flat.upper() if uppercase else flat


@lru_cache(maxsize=16)
def _em_per_ass_size(path: Path) -> float:
    """Pixels-per-em for ASS font size 1.

    libass sizes fonts like VSFilter: the font size is the Windows line height
    (usWinAscent + usWinDescent), falling back to typo and then bbox metrics, not the em.
    """
    with TTFont(io.BytesIO(path.read_bytes()), lazy=True) as font:
        upem = int(font["head"].unitsPerEm)
        os2 = font.get("OS/2")
        height = 0
        if os2 is not None:
            height = int(os2.usWinAscent) + int(os2.usWinDescent)
            if height == 0:
                height = int(os2.sTypoAscender) - int(os2.sTypoDescender)
        if height == 0:
            head = font["head"]
            height = int(head.yMax) - int(head.yMin)
    return upem / height if height > 0 else 1.0


@lru_cache(maxsize=64)
def _pil_font(path: Path, em: float) -> ImageFont.FreeTypeFont:
    # Raqm shapes with HarfBuzz like libass does, so kerning and ligatures measure the same.
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(path), em, layout_engine=layout)


def measure_text(font: FontFile, size_px: float, text: str) -> float:
    """Advance width in pixels of ``text`` drawn by libass at ASS font size ``size_px``."""
    if not text:
        return 0.0
    em = size_px * _em_per_ass_size(font.path)
    return float(_pil_font(font.path, round(em, 2)).getlength(text))


def _fit_size(font: FontFile, size: int, lines: Sequence[str], max_width: float, pad: float) -> int:
    """Largest size <= ``size`` at which every line (plus outline ``pad``) fits ``max_width``."""
    floor = max(4, math.ceil(size * _MIN_SIZE_FRACTION))
    fitted = size
    while fitted > floor:
        widest = max(measure_text(font, fitted, line) for line in lines)
        if widest + pad <= max_width:
            break
        fitted = max(floor, min(fitted - 1, math.floor(fitted * (max_width - pad) / widest)))
    return fitted


def _wrap(font: FontFile, size: int, words: Sequence[str], width: float) -> list[str]:
    """Greedy word wrap at ``size``; a word wider than ``width`` gets a line of its own."""
    lines: list[str] = []
    for word in words:
        if lines and measure_text(font, size, f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


# ---------------------------------------------------------------------------- ASS output


def ass_colour(hex_colour: str, alpha: int = 0) -> str:
    """``#rrggbb`` -> ASS ``&HAABBGGRR`` (alpha 0 = opaque), as used in Style lines."""
    if not re.fullmatch(_HEX, hex_colour):
        raise ValueError(f"not a #rrggbb colour: {hex_colour!r}")
    r, g, b = hex_colour[1:3], hex_colour[3:5], hex_colour[5:7]
    return f"&H{alpha:02X}{b}{g}{r}".upper()


def _tag_colour(hex_colour: str) -> str:
    """``#rrggbb`` -> ``&HBBGGRR&`` for ``\\1c`` override tags."""
    return ass_colour(hex_colour)[4:].join(("&H", "&"))


def _ass_time(seconds: float) -> str:
    cs = max(0, round(seconds * 100))
    hours, rest = divmod(cs, 360_000)
    minutes, rest = divmod(rest, 6_000)
    secs, cs = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{cs:02d}"


def _num(value: float) -> str:
    return f"{value:g}"


_STYLE_FORMAT = (
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
    "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
    "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding"
)
_EVENT_FORMAT = "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"


def _style(
    name: str,
    look: CaptionLook,
    size: int,
    colour: str,
    alignment: int,
    margins: tuple[int, int, int],
) -> str:
    shadow = ass_colour(look.outline_colour, alpha=0x80)  # half-transparent drop shadow
    fields = [
        name,
        look.font.family,
        str(size),
        ass_colour(colour),
        ass_colour(look.highlight_colour),
        ass_colour(look.outline_colour),
        shadow,
        "-1" if look.font.bold else "0",
        "0",
        "0",
        "0",
        "100",
        "100",
        "0",
        "0",
        "1",
        _num(look.outline_px),
        _num(look.shadow_px),
        str(alignment),
        *(str(m) for m in margins),
        "1",
    ]
    return "Style: " + ",".join(fields)


def _dialogue(
    layer: int, start: float, end: float, style: str, margin_v: int, text: str
) -> str | None:
    begin, finish = _ass_time(start), _ass_time(end)
    if round(end * 100) <= round(start * 100):
        return None  # shorter than ASS's 10 ms resolution: would never be drawn
    return f"Dialogue: {layer},{begin},{finish},{style},,0,0,{margin_v},,{text}"


def _header(
    spec: FormatSpec, look: CaptionLook, margins: tuple[int, int, int], edge: int
) -> list[str]:
    """Script info and the two styles: captions at the bottom of the safe box, headlines at top."""
    left, top, right, _ = spec.safe_box
    headline_size = round(look.size_px * _OVERLAY_SCALE["headline"])
    headline_margins = (left, spec.width - right, top + edge)
    return [
        "[Script Info]",
        "; Generated by reelforge",
        "ScriptType: v4.00+",
        f"PlayResX: {spec.width}",
        f"PlayResY: {spec.height}",
        # No automatic wrapping: lines are pre-broken and pre-fitted to the safe width.
        "WrapStyle: 2",
        "ScaledBorderAndShadow: yes",
        # Colours are plain RGB; stops any VSFilter-compat colour-matrix mangling.
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        _STYLE_FORMAT,
        _style("Caption", look, look.size_px, look.text_colour, 2, margins),
        _style("Headline", look, headline_size, look.text_colour, 8, headline_margins),
        "",
        "[Events]",
        _EVENT_FORMAT,
    ]


def _caption_events(
    spec: FormatSpec, lines: Sequence[CaptionLine], look: CaptionLook, width: float, pad: float
) -> list[str | None]:
    """One event per word interval of every line, only that word in the highlight colour."""
    _, top, _, bottom = spec.safe_box
    events: list[str | None] = []
    text_tag, high_tag = _tag_colour(look.text_colour), _tag_colour(look.highlight_colour)
    for line in lines:
        shown = [_display(w.text.strip(), look.uppercase) for w in line.words]
        size = _fit_size(look.font, look.size_px, [" ".join(shown)], width, pad)
        prefix = f"{{\\fs{size}}}" if size != look.size_px else ""
        margin_v = 0  # style margin: bottom of the safe box
        if look.position == "middle":
            centre = (top + bottom) / 2
            margin_v = max(1, round(spec.height - centre - size / 2))
        escaped = [escape_ass_text(s) for s in shown]
        for i, word in enumerate(line.words):
            start = line.start if i == 0 else word.start
            end = line.end if i + 1 == len(line.words) else line.words[i + 1].start
            parts = [
                f"{{\\1c{high_tag}}}{e}{{\\1c{text_tag}}}" if j == i else e
                for j, e in enumerate(escaped)
            ]
            events.append(_dialogue(0, start, end, "Caption", margin_v, prefix + " ".join(parts)))
    return events


def _overlay_events(
    spec: FormatSpec, overlays: Sequence[TextOverlay], look: CaptionLook, width: float,
    pad: float, edge: int,
) -> list[str | None]:  # fmt: skip
    """Scene text overlays; those that share screen time stack downwards from the top of the
    safe box."""
    top = spec.safe_box[1]
    headline_size = round(look.size_px * _OVERLAY_SCALE["headline"])
    events: list[str | None] = []
    placed: list[tuple[TextOverlay, int, int]] = []  # (overlay, margin_v, bottom y)
    for overlay in overlays:
        words = _display(overlay.text, False).split()
        if not words or overlay.end <= overlay.start:
            continue
        nominal = round(look.size_px * _OVERLAY_SCALE[overlay.role])
        size, wrapped = _fit_overlay(look.font, nominal, words, width, pad)
        y = top + edge
        for other, _, other_bottom in placed:
            if other.start < overlay.end and overlay.start < other.end:
                y = max(y, other_bottom)
        placed.append((overlay, y, y + len(wrapped) * size + 2 * edge))
        tags = f"\\fs{size}" if size != headline_size else ""
        if overlay.role == "price":  # the price carries the brand accent
            tags += f"\\1c{_tag_colour(look.highlight_colour)}"
        tags = f"{{{tags}}}" if tags else ""
        body = "\\N".join(escape_ass_text(w) for w in wrapped)
        events.append(_dialogue(1, overlay.start, overlay.end, "Headline", y, tags + body))
    return events


def build_ass(
    *,
    spec: FormatSpec,
    lines: Sequence[CaptionLine],
    look: CaptionLook,
    overlays: Sequence[TextOverlay] = (),
) -> str:
    """A complete ASS script: karaoke caption lines plus scene text overlays.

    Each caption line becomes one event per word interval (word start to next word start, so
    consecutive events abut and the line never blinks) with only that word in the highlight
    colour. Placement uses alignment and margins derived from ``spec.safe_box``; every line is
    measured with the same font file and shrunk rather than wrapped if it would overflow the
    safe width. Write the result as UTF-8.
    """
    left, _, right, bottom = spec.safe_box
    safe_width = (right - left) * _FIT_MARGIN
    pad = 2 * look.outline_px + look.shadow_px  # outline both sides; shadow offsets right/down
    edge = math.ceil(look.outline_px + look.shadow_px)
    margins = (left, spec.width - right, spec.height - bottom + edge)
    events = _caption_events(spec, lines, look, safe_width, pad)
    events += _overlay_events(spec, overlays, look, safe_width, pad, edge)
    out = _header(spec, look, margins, edge) + [e for e in events if e is not None]
    return "\n".join(out) + "\n"


def _fit_overlay(
    font: FontFile, size: int, words: Sequence[str], width: float, pad: float
) -> tuple[int, list[str]]:
    """Wrap to at most a few lines, shrinking until the lines fit the safe width."""
    floor = max(4, math.ceil(size * _MIN_SIZE_FRACTION))
    current = size
    while True:
        wrapped = _wrap(font, current, words, width - pad)
        if len(wrapped) > _OVERLAY_MAX_LINES and current > floor:
            current = max(floor, math.floor(current * 0.9))
            continue
        fitted = _fit_size(font, current, wrapped, width, pad)
        return fitted, wrapped


# ---------------------------------------------------------------------------- FFmpeg side


def _escape_option_value(value: str) -> str:
    """First level of FFmpeg filter escaping: a value inside a filter's ``key=value:...`` list."""
    return re.sub(r"([\\':])", r"\\\1", value)


def _escape_graph(text: str) -> str:
    """Second level: a filter's argument string inside a filtergraph description."""
    return re.sub(r"([\\'\[\],;])", r"\\\1", text)


def ass_filter_args(ass_path: Path, fonts_dir: Path | None = None) -> tuple[str, dict[str, str]]:
    """The ``ass`` filter's name and options, for ffmpeg-python's ``.filter(name, **options)``.

    The paths are left raw: ffmpeg-python escapes option values for both levels of the filter
    parser itself. Only our own file paths go in here, never user text. Without ``fonts_dir``
    libass can only use system fonts, so captions will not match across machines.
    """
    options = {"filename": str(ass_path)}
    if fonts_dir is not None:
        options["fontsdir"] = str(fonts_dir)
    return "ass", options


def ass_filter(ass_path: Path, fonts_dir: Path | None = None) -> str:
    """``ass=filename=...:fontsdir=...`` for ``-vf``/``-filter_complex``, paths escaped.

    The same filter as :func:`ass_filter_args`, written out for a hand-built filter string.
    """
    name, options = ass_filter_args(ass_path, fonts_dir)
    args = ":".join(f"{key}={_escape_option_value(value)}" for key, value in options.items())
    return f"{name}={_escape_graph(args)}"
