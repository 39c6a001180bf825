"""Charts of a report as PNG: the median of one metric per attribute value, with its bootstrap
interval as error bars; thin groups are grey, hatched and labelled "thin", never mistaken for
ranked ones. Drawn on the Agg canvas with no pyplot state, so it is safe in the API's threads.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pipeline.analytics.model import Attribute
from pipeline.analytics.report import AttributeReport, GroupStats, Report
from pipeline.analytics.stats import HIGHER_IS_BETTER, METRIC_LABELS, RATE_METRICS, Metric

if TYPE_CHECKING:  # matplotlib takes about a second to import: only the charts pay for it
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["HEIGHT_PX", "WIDTH_PX", "chart", "chart_png", "write_chart"]

WIDTH_PX: Final = 960
HEIGHT_PX: Final = 540
_DPI: Final = 100
RANKED_COLOUR: Final = "#2f6db5"
BEST_COLOUR: Final = "#1b4f8a"
THIN_COLOUR: Final = "#c8c8c8"
# matplotlib keeps process-wide caches (fonts, text layout); the API draws from worker threads.
_LOCK = threading.Lock()


def _short(label: str, limit: int = 24) -> str:
    """Hooks are whole sentences: a tick label keeps their start."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _ranked(section: AttributeReport, metric: Metric) -> tuple[list[GroupStats], dict[str, bool]]:
    """The groups with a median of ``metric``, best first and thin last, ranked by this chart's
    metric (the report may rank by another) and thin by its own data (a group can be ranked by
    CTR and thin on hook rate)."""
    shown = [g for g in section.groups if g.metrics[metric].median is not None]
    sign = -1.0 if HIGHER_IS_BETTER[metric] else 1.0
    thin = {g.value: g.metrics[metric].thin for g in shown}
    shown.sort(
        key=lambda g: (thin[g.value], sign * float(g.metrics[metric].median or 0.0), g.value)
    )
    return shown, thin


def _bars(
    ax: Axes, shown: list[GroupStats], metric: Metric, thin: dict[str, bool]
) -> tuple[list[float], list[float]]:
    """One bar per group with its interval as error bars; thin groups hatched and labelled.
    Returns the medians and the interval tops."""
    summaries = [g.metrics[metric] for g in shown]
    medians = [float(s.median or 0.0) for s in summaries]
    lows = [
        float(s.low if s.low is not None else m) for m, s in zip(medians, summaries, strict=True)
    ]
    highs = [
        float(s.high if s.high is not None else m) for m, s in zip(medians, summaries, strict=True)
    ]
    colours = [
        THIN_COLOUR if thin[g.value] else BEST_COLOUR if i == 0 else RANKED_COLOUR
        for i, g in enumerate(shown)
    ]
    bars = ax.bar(
        list(range(len(shown))), medians,
        yerr=[[m - lo for m, lo in zip(medians, lows, strict=True)],
              [hi - m for m, hi in zip(medians, highs, strict=True)]],
        color=colours,
        edgecolor=["#808080" if thin[g.value] else c for g, c in zip(shown, colours, strict=True)],
        capsize=4, error_kw={"elinewidth": 1.2, "ecolor": "#333333"},
    )  # fmt: skip
    for bar, group, high in zip(bars, shown, highs, strict=True):
        if thin[group.value]:
            bar.set_hatch("//")
            ax.annotate(
                "thin", (bar.get_x() + bar.get_width() / 2, high), xytext=(0, 3),
                textcoords="offset points", ha="center", va="bottom", fontsize=8, color="#555555",
            )  # fmt: skip
    return medians, highs


def _axes(ax: Axes, shown: list[GroupStats], metric: Metric, top: float) -> None:
    """Value labels with their creative counts, the metric's axis, a grid and the legend."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    crowded = len(shown) > 6
    ax.set_xticks(
        list(range(len(shown))),
        [f"{_short(g.value)}\nn={g.metrics[metric].n}" for g in shown],
        rotation=30 if crowded else 0, ha="right" if crowded else "center",
        fontsize=8 if crowded else 9,
    )  # fmt: skip
    ax.set_ylabel(f"median {METRIC_LABELS[metric]} per creative")
    if metric in RATE_METRICS:
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=1))
    ax.set_ylim(bottom=0, top=max(top, 1e-12) * 1.25)  # headroom for the legend
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(
        handles=[
            Patch(color=RANKED_COLOUR, label="ranked"),
            Patch(facecolor=THIN_COLOUR, edgecolor="#808080", hatch="//", label="thin: not ranked"),
        ],
        loc="upper center", ncols=2, fontsize=8,
    )  # fmt: skip


def chart(
    section: AttributeReport,
    metric: Metric,
    *,
    confidence: float = 0.90,
    currency: str | None = None,
) -> Figure:
    """One bar per value with a median of ``metric``, best first and thin values last, with the
    interval as error bars."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / _DPI, HEIGHT_PX / _DPI), dpi=_DPI)
    ax = fig.add_subplot()
    label = METRIC_LABELS[metric]
    unit = "" if metric in RATE_METRICS or metric == "roas" or not currency else f" ({currency})"
    ax.set_title(
        f"Median {label} by {section.attribute.replace('_', ' ')} "
        f"with {confidence:.0%} bootstrap intervals{unit}"
    )
    shown, thin = _ranked(section, metric)
    if not shown:
        ax.text(0.5, 0.5, f"no {label} data", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    medians, highs = _bars(ax, shown, metric, thin)
    _axes(ax, shown, metric, max(max(highs), max(medians)))
    missing = [g.value for g in section.groups if g.metrics[metric].median is None]
    if missing:
        fig.text(0.01, 0.01, f"no {label} data: {', '.join(missing)}", fontsize=7, color="#555555")
    fig.tight_layout()
    return fig


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(fig)  # attaches itself to the figure: Agg, whatever the default backend
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def chart_png(
    report: Report, metric: Metric | None = None, *, attribute: Attribute | None = None
) -> bytes:
    """The chart of one attribute of the report (default: its first) as PNG bytes,
    WIDTH_PX x HEIGHT_PX."""
    if not report.attributes:
        raise ValueError("the report has no attribute to chart")
    section = report.section(attribute) if attribute is not None else report.attributes[0]
    with _LOCK:
        return _png(
            chart(
                section,
                metric or report.metric,
                confidence=report.rules.bootstrap.confidence,
                currency=report.currency,
            )
        )


def write_chart(
    report: Report, path: Path, metric: Metric | None = None, *, attribute: Attribute | None = None
) -> Path:
    """Writes the chart to ``path`` atomically: a reader sees the old file or the whole new one."""
    data = chart_png(report, metric, attribute=attribute)
    path = path.expanduser()
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
