"""The chart: one bar per value with interval bars, thin values grey and hatched, a valid PNG of
the documented size, written atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from pipeline.analytics import plot
from pipeline.analytics.plot import (
    BEST_COLOUR,
    HEIGHT_PX,
    RANKED_COLOUR,
    THIN_COLOUR,
    WIDTH_PX,
    chart,
    chart_png,
    write_chart,
)
from pipeline.analytics.report import Report, build_report
from tests.analytics.synthetic import generate


@pytest.fixture(scope="module")
def report() -> Report:
    data = generate()
    return build_report(data.creatives, data.rows, by="template")


def test_one_bar_per_template_best_first_and_the_thin_one_grey_and_hatched(
    report: Report,
) -> None:
    fig = chart(report.section("template"), "ctr")
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 4
    labels = [t.get_text().split("\n")[0] for t in ax.get_xticklabels()]
    assert labels == ["before_after", "product_showcase", "lifestyle_story", "unboxing"]
    colours = [bar.get_facecolor()[:3] for bar in bars]
    assert colours[0] == pytest.approx(to_rgb(BEST_COLOUR))
    assert colours[1] == pytest.approx(to_rgb(RANKED_COLOUR))
    assert colours[3] == pytest.approx(to_rgb(THIN_COLOUR))
    assert bars[3].get_hatch() == "//" and not bars[0].get_hatch()
    assert "thin" in [t.get_text() for t in ax.texts]
    # Bar heights are the medians; the error bars span the intervals.
    group = report.section("template").group("before_after")
    assert bars[0].get_height() == pytest.approx(group.metrics["ctr"].median)
    segments = ax.collections[0].get_segments()
    assert segments[0][:, 1] == pytest.approx([group.metrics["ctr"].low, group.metrics["ctr"].high])


def test_the_png_is_valid_with_the_documented_size_and_the_bar_colours(report: Report) -> None:
    data = chart_png(report)
    image = Image.open(io.BytesIO(data))
    image.verify()
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.format is None or image.format == "PNG"
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    pixels = np.asarray(image).reshape(-1, 3)

    def present(colour: str) -> bool:
        rgb = np.array([round(c * 255) for c in to_rgb(colour)])
        return bool((np.abs(pixels.astype(int) - rgb).sum(axis=1) <= 3).sum() > 500)

    assert present(BEST_COLOUR) and present(RANKED_COLOUR) and present(THIN_COLOUR)


def test_a_metric_without_data_draws_a_message_not_bars() -> None:
    data = generate()
    rows = [r.model_copy(update={"video_3s_plays": None}) for r in data.rows]
    section = build_report(data.creatives, rows, by="format").section("format")
    fig = chart(section, "hook_rate")
    assert len(fig.axes[0].patches) == 0
    assert "no hook rate data" in fig.axes[0].texts[0].get_text()


def test_the_chart_is_written_atomically_and_replaces_the_old_one(
    report: Report, tmp_path: Path
) -> None:
    target = tmp_path / "ctr.png"
    target.write_bytes(b"old")
    write_chart(report, target)
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ctr.png"]


def test_a_failed_write_leaves_the_old_chart_and_no_temp_file(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ctr.png"
    target.write_bytes(b"old")

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(plot.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_chart(report, target)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["ctr.png"]
