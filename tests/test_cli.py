"""The command line as a user meets it: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

WriteBrief = Callable[[dict[str, Any]], Path]


def reelforge(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )  # fmt: skip


def _bomb(path: Path) -> None:
    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    head = (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )
    path.write_bytes(head + end)


def _corrupt(path: Path) -> None:
    good = (Path(__file__).parent.parent / "examples" / "photos" / "coffee.png").read_bytes()
    path.write_bytes(good[:5000])


def _setup_photo(kind: str) -> Callable[[Path], None]:
    def make(photo_dir: Path) -> None:
        target = photo_dir / "bad.png"
        if kind == "zero":
            target.write_bytes(b"")
        elif kind == "text":
            target.write_text("not an image at all")
        elif kind == "corrupt":
            _corrupt(target)
        elif kind == "bomb":
            _bomb(target)

    return make


BAD_CASES: list[tuple[str, Callable[[dict[str, Any]], None], Callable[[Path], None] | None, str]] = [
    ("unknown field", lambda d: d.update(colour="red"), None, "colour: unknown field"),
    ("invalid field", lambda d: d.update(duration="long"), None, "duration:"),
    ("unknown template", lambda d: d.update(template="space_opera"), None, "template: unknown template 'space_opera'"),
    ("unknown format", lambda d: d.update(formats=["9x16", "2x3"]), None, "formats[1]:"),
    ("missing photo", lambda d: d["product"].update(photos=["photos/nope.png"]), None, "product.photos[0]: file not found"),
    ("zero-byte photo", lambda d: d["product"].update(photos=["photos/bad.png"]), _setup_photo("zero"), "product.photos[0]: file is empty"),
    ("non-image photo", lambda d: d["product"].update(photos=["photos/bad.png"]), _setup_photo("text"), "product.photos[0]: bad.png is not an image file"),
    ("corrupt photo", lambda d: d["product"].update(photos=["photos/bad.png"]), _setup_photo("corrupt"), "product.photos[0]: image is corrupt"),
    ("huge photo", lambda d: d["product"].update(photos=["photos/coffee.png", "photos/bad.png"]), _setup_photo("bomb"), "product.photos[1]: image is over the 40 megapixel limit"),
    ("text too long", lambda d: d["product"].update(name="The Extraordinarily Long Named Double Walled Porcelain Cup"), None, "product.name"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "mutate", "prepare", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path,
    photo_dir: Path,
    write_brief: WriteBrief,
    brief_data: dict[str, Any],
    case: str,
    mutate: Callable[[dict[str, Any]], None],
    prepare: Callable[[Path], None] | None,
    message: str,
) -> None:
    mutate(brief_data)
    if prepare:
        prepare(photo_dir)
    out = tmp_path / "out"
    result = reelforge("render", str(write_brief(brief_data)), "--out", str(out))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_unknown_format_option_exits_2(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    result = reelforge(
        "render",
        str(write_brief(brief_data)),
        "--out",
        str(tmp_path / "o"),
        "--formats",
        "9x16,3x2",
    )
    assert result.returncode == 2
    assert "--formats: unknown format '3x2'" in result.stderr


def test_option_out_of_range_exits_2(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    result = reelforge(
        "render", str(write_brief(brief_data)), "--out", str(tmp_path / "o"), "--option", "7"
    )
    assert result.returncode == 2
    assert "--option: must be between 1 and 2" in result.stderr
    assert not (tmp_path / "o").exists()


def test_missing_brief_file_exits_2(tmp_path: Path) -> None:
    result = reelforge("render", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "brief file not found" in result.stderr


def test_unexpected_failure_exits_1_naming_the_stage(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    out = tmp_path / "o"
    result = reelforge(
        "render",
        str(write_brief(brief_data)),
        "--out",
        str(out),
        env={"IMAGEIO_FFMPEG_EXE": "/bin/false"},
    )
    assert result.returncode == 1, result.stderr
    assert "stage soundtrack failed" in result.stderr
    assert not out.exists()


def test_templates_lists_all_twelve() -> None:
    result = reelforge("templates")
    assert result.returncode == 0
    for name in ("product_showcase", "before_after", "ugc_hook", "offer_countdown", "listicle"):
        assert name in result.stdout


def test_out_that_is_a_file_exits_2(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    target = tmp_path / "taken"
    target.write_text("a file")
    result = reelforge("render", str(write_brief(brief_data)), "--out", str(target))
    assert result.returncode == 2
    assert "--out:" in result.stderr and "not a folder" in result.stderr
    assert target.read_text() == "a file"


def test_a_malformed_setting_exits_2_naming_its_variable() -> None:
    result = reelforge("db", "status", env={"REELFORGE_DB_CONNECT_TIMEOUT": "soon"})
    assert result.returncode == 2, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("error: REELFORGE_DB_CONNECT_TIMEOUT: ")


def test_every_command_is_registered_on_the_root_app() -> None:
    from pipeline.cli import app

    groups = {g.name: g.typer_instance for g in app.registered_groups}
    assert {c.name for c in app.registered_commands} == {
        "render", "demo", "compose", "token", "serve", "providers", "templates",
    }  # fmt: skip
    assert set(groups) == {"db", "analytics", "credits"}
    assert {c.name for c in groups["credits"].registered_commands} == {"grant", "balance", "config"}
    assert {c.name for c in groups["db"].registered_commands} == {
        "migrate", "status", "sync-supabase",
    }  # fmt: skip
    assert {c.name for c in groups["analytics"].registered_commands} == {
        "import", "pull-meta", "pull-google", "creatives", "report", "recommend", "costs",
    }  # fmt: skip
