"""A render's timelines saved to a file and composed again: how a bad ad is debugged without
rerunning every stage."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from pipeline.errors import BadInput
from pipeline.media.probe import probe
from pipeline.render.compose import compose_file
from pipeline.render.timelines import load_timeline_file
from tests.test_cli import reelforge

pytestmark = pytest.mark.integration
WriteBrief = Callable[[dict[str, Any]], Path]


def _frames(path: Path) -> list[np.ndarray[Any, Any]]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture
def exported(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> tuple[Path, Path]:
    """A preview render of two formats through the command line, with its timelines saved."""
    brief_data["formats"] = ["9x16", "1x1"]
    timeline = tmp_path / "debug" / "ad.json"
    result = reelforge(
        "render", str(write_brief(brief_data)), "--out", str(tmp_path / "out"), "--preview",
        "--export-timeline", str(timeline),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return timeline, tmp_path / "out" / "AUR-ESP-01"


def test_an_exported_timeline_composes_the_same_ad_again(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    timeline, rendered = exported
    data = json.loads(timeline.read_text())
    assert data["version"] == 1 and [t["spec"]["format"] for t in data["timelines"]] == [
        "9x16",
        "1x1",
    ]
    # Paths are relative to the file, into its media folder: the pair can move.
    moved = tmp_path / "elsewhere"
    (timeline.parent).rename(moved)
    again = reelforge("compose", str(moved / "ad.json"), "--out", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert "qc passed" in again.stdout
    for fmt in ("9x16", "1x1"):
        original, composed = _frames(rendered / f"{fmt}.mp4"), _frames(tmp_path / "again" / f"{fmt}.mp4")
        assert len(original) == len(composed) > 0
        assert all(np.array_equal(a, b) for a, b in zip(original, composed, strict=True))


def test_an_edited_timeline_renders_the_edit(exported: tuple[Path, Path], tmp_path: Path) -> None:
    timeline, _ = exported
    data = json.loads(timeline.read_text())
    first = data["timelines"][0]
    first["duration"] = 4.0  # cut the ad short: the first scenes only
    first["scenes"] = [s for s in first["scenes"] if s["start"] < 4.0]
    first["scenes"][-1]["transition"] = None
    data["timelines"] = [first]
    timeline.write_text(json.dumps(data))
    entries = compose_file(timeline, tmp_path / "edited")
    assert [e.format for e in entries] == ["9x16"]
    assert abs(probe(tmp_path / "edited" / "9x16.mp4").duration - 4.0) < 0.1


def test_a_broken_timeline_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "timelines": []}')
    with pytest.raises(BadInput, match="not a timeline file") as info:
        load_timeline_file(bad)
    assert info.value.where == str(bad)
    result = reelforge("compose", str(bad), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "not a timeline file" in result.stderr
    assert not (tmp_path / "o").exists()


def test_a_timeline_naming_a_missing_file_is_refused(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    timeline, _ = exported
    media = timeline.parent / "ad-media"
    next(p for p in media.iterdir() if p.suffix == ".m4a").unlink()
    result = reelforge("compose", str(timeline), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "does not exist" in result.stderr
