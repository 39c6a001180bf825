"""Karaoke captions: line breaking, ASS escaping and layout, and real libass renders."""

from __future__ import annotations

import itertools
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import pytest

from pipeline.captions import (
    CaptionLine,
    CaptionLook,
    TextOverlay,
    ass_colour,
    ass_filter,
    break_lines,
    build_ass,
    caption_look_for,
    escape_ass_text,
    measure_text,
)
from pipeline.fonts import default_caption_font, fonts_dir_for, foreign_font_selections
from pipeline.formats import FORMATS, Format
from pipeline.palette.model import PaletteRoles
from pipeline.voice.model import WordTiming

SPEC = FORMATS[Format.V9X16].scaled(540)  # 540x960


def timed(
    text: str, *, step: float = 0.35, gaps: dict[int, float] | None = None
) -> list[WordTiming]:
    """Evenly spoken words; ``gaps`` adds a pause (seconds) before word i."""
    words, t = [], 0.0
    for i, token in enumerate(text.split()):
        t += (gaps or {}).get(i, 0.0)
        words.append(WordTiming(text=token, start=round(t, 3), end=round(t + step - 0.05, 3)))
        t += step
    return words


def texts(lines: Sequence[CaptionLine]) -> list[str]:
    return [line.text for line in lines]


def look(**changes: object) -> CaptionLook:
    base = CaptionLook(
        font=default_caption_font(),
        size_px=40,
        text_colour="#ffffff",
        highlight_colour="#ffcc00",
        outline_colour="#102030",
        outline_px=3,
        shadow_px=1,
        uppercase=True,
        position="lower",
    )
    return base.model_copy(update=changes)


# ------------------------------------------------------------------------------ line breaking

SENTENCE = "Meet the cup that keeps your espresso hot for twenty whole minutes, no matter what"


@pytest.mark.parametrize("max_words", [1, 2, 3, 4])
def test_lines_respect_max_words_and_keep_every_word_once(max_words: int) -> None:
    words = timed(SENTENCE)
    lines = break_lines(words, max_words=max_words, max_chars=40)
    assert all(1 <= len(line.words) <= max_words for line in lines)
    assert [w for line in lines for w in line.words] == words
    for line, nxt in itertools.pairwise(lines):
        assert line.start < line.end <= nxt.start
    for line in lines:
        assert line.start == line.words[0].start
        assert line.end >= line.words[-1].end


def test_sentence_punctuation_always_breaks() -> None:
    lines = break_lines(timed("Hot coffee. Cold hands? Not today!"), max_words=4, max_chars=40)
    assert texts(lines) == ["Hot coffee.", "Cold hands?", "Not today!"]


def test_long_pause_breaks_the_line() -> None:
    words = timed("Shop the new collection", gaps={2: 0.8})
    assert texts(break_lines(words, max_words=4, max_chars=40)) == ["Shop the", "new collection"]
    # A pause below max_gap keeps the words together.
    assert texts(break_lines(words, max_words=4, max_chars=40, max_gap=1.0)) == [
        "Shop the new collection"
    ]


def test_clause_punctuation_is_the_preferred_split() -> None:
    lines = break_lines(timed("Brewed slow, served hot"), max_words=3, max_chars=40)
    assert texts(lines) == ["Brewed slow,", "served hot"]


def test_no_one_word_orphan_when_a_balanced_split_exists() -> None:
    lines = break_lines(timed("Keeps espresso hot longer"), max_words=3, max_chars=40)
    assert texts(lines) == ["Keeps espresso", "hot longer"]


def test_max_chars_is_respected_except_for_a_single_long_word() -> None:
    words = timed("Extraordinarily comfortable linen shirts for everyone")
    lines = break_lines(words, max_words=4, max_chars=16)
    assert all(len(line.text) <= 16 or len(line.words) == 1 for line in lines)
    assert texts(lines)[0] == "Extraordinarily"


def test_lines_linger_but_never_overlap_even_with_overlapping_timings() -> None:
    words = [
        WordTiming(text="One.", start=0.0, end=0.5),
        WordTiming(text="Two.", start=0.6, end=1.0),  # close behind: line one runs up to it
        WordTiming(text="Three.", start=0.9, end=1.4),  # starts before "Two." ends
        WordTiming(text="Four.", start=5.0, end=5.5),
    ]
    lines = break_lines(words, max_words=4, max_chars=40, linger=0.3)
    assert [(line.start, line.end) for line in lines] == [
        (0.0, 0.6),
        (0.6, 0.9),
        (0.9, pytest.approx(1.7)),
        (5.0, pytest.approx(5.8)),
    ]


def test_blank_words_are_dropped_and_bad_arguments_rejected() -> None:
    words = [WordTiming(text=" ", start=0, end=0.1), *timed("Hello there")]
    assert texts(break_lines(words, max_words=2, max_chars=20)) == ["Hello there"]
    assert break_lines([], max_words=2, max_chars=20) == ()
    with pytest.raises(ValueError, match="max_words"):
        break_lines(words, max_words=5, max_chars=20)
    with pytest.raises(ValueError, match="out of order"):
        break_lines(list(reversed(timed("a b"))), max_words=2, max_chars=20)


# ------------------------------------------------------------------------------ escaping

WJ = "\u2060"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain, text: 50%", "plain, text: 50%"),
        ("{\\p1}m 0 0 l 100 0", "\\{\\" + WJ + "p1\\}m 0 0 l 100 0"),
        ("C:\\new\\path", "C:\\" + WJ + "new\\" + WJ + "path"),
        ("\\N\\n\\h", "\\" + WJ + "N\\" + WJ + "n\\" + WJ + "h"),
        ("\\{", "\\" + WJ + "\\{"),
        ("ends with \\", "ends with \\" + WJ),
        ("a:textfile=/etc/passwd", "a:textfile=/etc/passwd"),
        ("x,movie=/etc/passwd", "x,movie=/etc/passwd"),
        ("two\nDialogue: 0,0:00:00.00", "two Dialogue: 0,0:00:00.00"),
        ("cr\rlf\r\ntab\tnul\x00ls\u2028", "cr lf  tab nul ls "),
    ],
)
def test_escape_ass_text(text: str, expected: str) -> None:
    assert escape_ass_text(text) == expected


def test_escaped_text_has_no_live_override_or_escape() -> None:
    nasty = "{\\b1}}{\\\\N\\{\\}\\h{"
    escaped = escape_ass_text(nasty)
    assert re.search(r"(?<!\\)[{}]", escaped) is None  # every brace is \{ or \}
    assert re.search(r"\\[Nnh]", escaped) is None  # no backslash pairs with N, n or h
    assert "\n" not in escaped


def test_user_newline_cannot_inject_script_lines() -> None:
    words = [
        WordTiming(text="hi\nDialogue: 0,0:00:00.00,0:00:09.00,Caption,,0,0,0,,x", start=0, end=1)
    ]
    ass = build_ass(spec=SPEC, lines=break_lines(words, max_words=1, max_chars=99), look=look())
    assert sum(line.startswith("Dialogue:") for line in ass.splitlines()) == 1


def test_ass_colour() -> None:
    assert ass_colour("#ff8800") == "&H000088FF"
    assert ass_colour("#102030", alpha=0x80) == "&H80302010"
    with pytest.raises(ValueError, match="colour"):
        ass_colour("red")


def test_ass_filter_escapes_paths_for_the_filtergraph() -> None:
    path = Path("/tmp/my dir:x,y[1];it's\\odd/captions.ass")
    assert ass_filter(path, Path("/tmp/fonts")) == (
        "ass=filename=/tmp/my dir\\\\:x\\,y\\[1\\]\\;it\\\\\\'s\\\\\\\\odd/captions.ass"
        ":fontsdir=/tmp/fonts"
    )
    assert ass_filter(Path("/a/b.ass")) == "ass=filename=/a/b.ass"


# ------------------------------------------------------------------------------ ASS document

# Regenerate by writing build_ass's output here after checking a render by eye.
EXPECTED_ASS = Path(__file__).with_name("captions") / "basic.ass"


def test_build_ass_matches_stored_output() -> None:
    words = [
        WordTiming(text="Hot", start=0.0, end=0.3),
        WordTiming(text="{cup}", start=0.35, end=0.8),
        WordTiming(text="now!", start=0.9, end=1.25),
        WordTiming(text="C:\\new", start=2.5, end=3.0),
    ]
    lines = break_lines(words, max_words=3, max_chars=20)
    overlays = [
        TextOverlay(text="Only $24", start=0.0, end=2.0),
        TextOverlay(text="€24", start=0.5, end=2.0, role="price"),  # stacks under the headline
    ]
    expected = EXPECTED_ASS.read_text(encoding="utf-8")
    assert build_ass(spec=SPEC, lines=lines, look=look(), overlays=overlays) == expected


def _events(ass: str) -> list[list[str]]:
    return [line.split(",", 9) for line in ass.splitlines() if line.startswith("Dialogue:")]


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_word_events_abut_so_the_line_never_blinks() -> None:
    words = timed("one two three four five six seven", gaps={3: 0.3})
    lines = break_lines(words, max_words=4, max_chars=40, linger=5)
    events = _events(build_ass(spec=SPEC, lines=lines, look=look()))
    assert len(events) == len(words)
    for event, nxt in itertools.pairwise(events):
        assert event[2] == nxt[1]  # end of one == start of the next, same centisecond
    for event in events:
        highlighted = re.findall(r"\{\\1c&H00CCFF&\}", event[9])
        assert len(highlighted) == 1


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("position", ["lower", "middle"])
def test_margins_keep_text_inside_the_safe_box(fmt: Format, position: str) -> None:
    spec = FORMATS[fmt]
    roles = PaletteRoles(
        background="#000000",
        on_background="#ffffff",
        accent="#ff0000",
        on_accent="#ffffff",
        caption_text="#ffffff",
        caption_highlight="#ffcc00",
        caption_outline="#000000",
    )
    the_look = caption_look_for(spec, roles, position=position)  # type: ignore[arg-type]
    left, top, right, bottom = spec.safe_box
    words = timed("Extraordinarily comfortable mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm linen")
    lines = break_lines(words, max_words=4, max_chars=60)
    ass = build_ass(spec=spec, lines=lines, look=the_look)
    styles = {s.split(",")[0][7:]: s.split(",") for s in ass.splitlines() if s.startswith("Style:")}
    caption = styles["Caption"]
    assert (int(caption[19]), int(caption[20])) == (left, spec.width - right)
    assert spec.height - int(caption[21]) <= bottom
    assert int(styles["Headline"][21]) >= top
    pad = 2 * the_look.outline_px + the_look.shadow_px
    for event in _events(ass):
        size = the_look.size_px
        if match := re.match(r"\{\\fs(\d+)\}", event[9]):
            size = int(match[1])
        text = re.sub(r"\{[^}]*\}", "", event[9])
        assert measure_text(the_look.font, size, text) + pad <= right - left
        if position == "middle":
            centre = spec.height - int(event[7]) - size / 2
            assert abs(centre - (top + bottom) / 2) <= 1
    assert "\\fs" in ass  # the long line had to shrink


# ------------------------------------------------------------------------------ integration

BG = (0x30, 0x30, 0x30)
TEXT = (255, 255, 255)
HIGHLIGHT = (255, 204, 0)
FPS = 30


def render(tmp_path: Path, ass: str, times: Sequence[float]) -> tuple[list[np.ndarray], str]:
    """Burn ``ass`` onto 2 s of dark grey with the real FFmpeg; RGB frames at ``times``."""
    from pipeline.containers import INPUT_PROTOCOLS
    from pipeline.media.ffmpeg import ffmpeg_exe

    ass_path = tmp_path / "captions.ass"
    ass_path.write_text(ass, encoding="utf-8")
    fonts_dir = fonts_dir_for([default_caption_font()], tmp_path)
    out = tmp_path / "out.mkv"
    # -protocol_whitelist is an input option and is accepted for the lavfi input too. It does
    # not cover the ass filter: libass reads the script (a path we chose) with plain fopen.
    proc = subprocess.run(
        [
            *(ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "verbose", "-y"),
            *("-protocol_whitelist", INPUT_PROTOCOLS, "-f", "lavfi"),
            *("-i", f"color=c=0x303030:s={SPEC.width}x{SPEC.height}:d=2:r={FPS}"),
            # Render and store in RGB so the colours checked are exactly what libass drew.
            *("-vf", f"format=rgb24,{ass_filter(ass_path, fonts_dir)}", "-c:v", "png", str(out)),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    wanted = {round(t * FPS): t for t in times}
    frames: dict[float, np.ndarray] = {}
    with av.open(str(out)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                frames[wanted[index]] = frame.to_ndarray(format="rgb24")
    return [frames[t] for t in times], proc.stderr


def near(image: np.ndarray, colour: tuple[int, int, int], tolerance: int = 24) -> np.ndarray:
    distance: np.ndarray = np.abs(image.astype(int) - np.array(colour)).max(axis=2)
    return distance <= tolerance


def word_spans(the_look: CaptionLook, words: Sequence[str]) -> list[tuple[float, float]]:
    """Expected x range of each word: the line is centred on the safe box."""
    left, _, right, _ = SPEC.safe_box
    line = " ".join(words)
    x = (left + right) / 2 - measure_text(the_look.font, the_look.size_px, line) / 2
    spans = []
    for i, word in enumerate(words):
        before = (
            measure_text(the_look.font, the_look.size_px, " ".join(words[:i]) + " ") if i else 0
        )
        spans.append((x + before, x + before + measure_text(the_look.font, the_look.size_px, word)))
    return spans


@pytest.mark.integration
def test_karaoke_highlights_only_the_spoken_word(tmp_path: Path) -> None:
    the_look = look(size_px=56, outline_colour="#000000")
    words = [
        WordTiming(text="Hot", start=0.0, end=0.5),
        WordTiming(text="fresh", start=0.6, end=1.1),
        WordTiming(text="coffee", start=1.2, end=1.8),
    ]
    ass = build_ass(spec=SPEC, lines=break_lines(words, max_words=3, max_chars=30), look=the_look)
    (first, second), log = render(tmp_path, ass, [0.3, 0.85])
    assert foreign_font_selections(log, [the_look.font]) == []

    _, top, _, bottom = SPEC.safe_box
    spans = word_spans(the_look, ["HOT", "FRESH", "COFFEE"])
    slack = the_look.outline_px + 3
    for frame, lit in ((first, 0), (second, 1)):
        highlight, text = near(frame, HIGHLIGHT), near(frame, TEXT)
        ys, xs = np.nonzero(highlight)
        assert len(xs) > 300, "the spoken word is drawn in the highlight colour"
        # ... inside the safe box and exactly where the layout put that word
        assert top <= ys.min()
        assert ys.max() <= bottom
        lo, hi = spans[lit]
        assert lo - slack <= xs.min()
        assert xs.max() <= hi + slack
        for other, (lo, hi) in enumerate(spans):
            if other == lit:
                continue
            region = slice(int(lo), int(hi) + 1)
            assert text[:, region].sum() > 100, f"word {other} is drawn in text colour"
            assert highlight[:, region].sum() == 0, f"word {other} is not highlighted"


HOSTILE = [
    "{\\p1}m 0 0 l 100 0 100 100",
    "C:\\new\\path",
    "a:textfile=/etc/passwd",
    "x,movie=/etc/passwd",
]


@pytest.mark.integration
def test_hostile_text_renders_literally(tmp_path: Path) -> None:
    the_look = look(size_px=30, uppercase=False)
    lines = [
        CaptionLine(
            words=(WordTiming(text=text, start=i * 0.5, end=i * 0.5 + 0.4),),
            start=i * 0.5,
            end=i * 0.5 + 0.5,
        )
        for i, text in enumerate(HOSTILE)
    ]
    ass = build_ass(spec=SPEC, lines=lines, look=the_look)
    assert "\\fs" not in ass  # drawn at the nominal size, so widths below are comparable
    frames, log = render(tmp_path, ass, [i * 0.5 + 0.25 for i in range(len(HOSTILE))])
    # The word joiner after each backslash is shaped away; it never sends libass to a system font.
    assert foreign_font_selections(log, [the_look.font]) == []
    for text, frame in zip(HOSTILE, frames, strict=True):
        ink = ~near(frame, BG, tolerance=8)
        ys, xs = np.nonzero(ink)
        width, height = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
        expected = measure_text(the_look.font, the_look.size_px, text)
        # Whole literal text drawn: ink as wide as the glyphs (+ outline), one line tall, and
        # no 100x100 vector drawing from {\p1}.
        assert abs(width - expected) <= 0.05 * expected + 2 * the_look.outline_px + 2, text
        assert height <= the_look.size_px + 2 * the_look.outline_px + 2, text


@pytest.mark.integration
def test_overlay_and_awkward_paths_render(tmp_path: Path) -> None:
    folder = tmp_path / "it's a [dir]: a,b;c"
    folder.mkdir()
    ass = build_ass(
        spec=SPEC,
        lines=(),
        look=look(),
        overlays=[TextOverlay(text="Only {today}", start=0, end=2)],
    )
    (frame,), _ = render(folder, ass, [1.0])
    _, top, _, bottom = SPEC.safe_box
    ys, _ = np.nonzero(near(frame, TEXT))
    assert len(ys) > 200
    assert top <= ys.min()
    assert ys.max() <= (top + bottom) / 2
