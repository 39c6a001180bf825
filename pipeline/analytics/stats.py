"""Per-creative metrics, medians across creatives with bootstrap intervals, and the thin-data rule.

The unit of analysis is the creative: a group's CTR is the median of its creatives' CTRs, and the
bootstrap resamples creatives, not impressions, because creatives differ far more from each other
than binomial noise suggests (pooling impressions would give intervals that are much too narrow).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, computed_field

from pipeline.analytics.model import PerformanceRow

__all__ = [
    "HIGHER_IS_BETTER",
    "METRICS",
    "METRIC_BASES",
    "METRIC_LABELS",
    "MIN_CREATIVES",
    "MIN_CREATIVE_IMPRESSIONS",
    "MIN_IMPRESSIONS",
    "RATE_METRICS",
    "Bootstrap",
    "CreativeTotals",
    "Difference",
    "Metric",
    "MetricSummary",
    "bootstrap_medians",
    "creative_totals",
    "format_metric",
    "median_difference",
    "metric_values",
    "rng_for",
    "summarize",
    "thin_reason",
]

Metric = Literal["ctr", "cpc", "cpm", "hook_rate", "thruplay_rate", "roas"]
METRICS: tuple[Metric, ...] = ("ctr", "cpc", "cpm", "hook_rate", "thruplay_rate", "roas")
METRIC_LABELS: Final[Mapping[Metric, str]] = {
    "ctr": "CTR",
    "cpc": "CPC",
    "cpm": "CPM",
    "hook_rate": "hook rate",
    "thruplay_rate": "thruplay rate",
    "roas": "ROAS",
}
# Costs are better low; rates and return are better high. Ranking follows this.
HIGHER_IS_BETTER: Final[Mapping[Metric, bool]] = {
    "ctr": True,
    "cpc": False,
    "cpm": False,
    "hook_rate": True,
    "thruplay_rate": True,
    "roas": True,
}
RATE_METRICS: Final = frozenset({"ctr", "hook_rate", "thruplay_rate"})
# The impressions each metric stands on (``CreativeTotals.base``), as a report says them.
METRIC_BASES: Final[Mapping[Metric, str]] = {
    "ctr": "impressions",
    "cpc": "impressions with clicks",
    "cpm": "impressions",
    "hook_rate": "impressions with 3-second plays counted",
    "thruplay_rate": "impressions with thruplays counted",
    "roas": "impressions with spend",
}

# The minimum-sample rule, per metric. A group (one template, one duration bucket, ...) is "thin"
# for a metric, shown but not ranked by it, when fewer than MIN_CREATIVES of its creatives are
# measured for that metric (a median of four values has no useful interval: the bootstrap can only
# return four distinct values) or the metric stands on fewer than MIN_IMPRESSIONS impressions in
# all (at a 1% CTR that is about 50 clicks, a relative standard error near 14%, about the size of
# the effects worth acting on). Each metric counts its own creatives and impressions: a hook rate
# only those of rows that counted 3-second plays, so a group measured by a source without video
# metrics is not ranked on one lucky creative's hook rate.
MIN_CREATIVES: Final = 5
MIN_IMPRESSIONS: Final = 5_000
# A creative with fewer impressions (behind the metric) is counted in the group's totals but not
# measured: its rates are noise (one click in 40 impressions is a 2.5% CTR) and would drag medians
# around.
MIN_CREATIVE_IMPRESSIONS: Final = 100


class Bootstrap(BaseModel):
    """How intervals are computed: resamples, two-sided confidence and the seed (reproducible)."""

    model_config = ConfigDict(frozen=True)

    resamples: int = Field(default=4000, ge=100, le=1_000_000)
    confidence: float = Field(default=0.90, gt=0, lt=1)
    seed: int = Field(default=0, ge=0)


class MetricSummary(BaseModel):
    """One metric over a group's measured creatives: the median with its bootstrap interval."""

    model_config = ConfigDict(frozen=True)

    metric: Metric
    n: int = Field(
        description=f"creatives measured for the metric: a value (e.g. CPC needs a click) from "
        f"at least {MIN_CREATIVE_IMPRESSIONS} impressions behind it"
    )
    median: float | None
    low: float | None
    high: float | None
    pooled: float | None = Field(description="the group's totals, e.g. all clicks / impressions")
    impressions: int = Field(
        default=0,
        description="the impressions the metric stands on, over the n creatives (for hook "
        "rate only those of rows that counted 3-second plays)",
    )
    thin_reason: str | None = Field(
        default=None, description="why too little data to rank by this metric; None: enough"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def thin(self) -> bool:
        """Too little data to rank by this metric (the minimum-sample rule)."""
        return self.thin_reason is not None


class Difference(BaseModel):
    """A difference of two groups' medians (``relative``: a/b - 1) with its bootstrap interval."""

    model_config = ConfigDict(frozen=True)

    relative: bool
    estimate: float
    low: float
    high: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def excludes_zero(self) -> bool:
        """The interval lies entirely on one side of no difference."""
        return self.low > 0 or self.high < 0


@dataclass(frozen=True, slots=True)
class CreativeTotals:
    """A creative's rows summed. Video counts keep their own impression base, because a source
    without video metrics (a Google CSV) would otherwise dilute the hook rate."""

    creative_id: str
    rows: int
    impressions: int
    clicks: int
    spend: Decimal
    purchases: int
    revenue: Decimal
    video_3s_plays: int
    video_3s_impressions: int  # impressions of the rows that reported 3-second plays
    thruplays: int
    thruplay_impressions: int

    @property
    def measured(self) -> bool:
        return self.impressions >= MIN_CREATIVE_IMPRESSIONS

    def base(self, metric: Metric) -> int:
        """The impressions ``metric`` stands on: all of them for CTR and CPM, those of the rows
        that counted video plays for hook and thruplay rates, and none when the metric has no
        value (CPC without a click, ROAS without spend)."""
        match metric:
            case "ctr" | "cpm":
                return self.impressions
            case "cpc":
                return self.impressions if self.clicks > 0 else 0
            case "hook_rate":
                return self.video_3s_impressions
            case "thruplay_rate":
                return self.thruplay_impressions
            case "roas":
                return self.impressions if self.spend > 0 else 0

    def measured_for(self, metric: Metric) -> bool:
        """Enough impressions behind the creative's ``metric`` for its value to count."""
        return self.base(metric) >= MIN_CREATIVE_IMPRESSIONS

    def value(self, metric: Metric) -> float | None:
        """The creative's metric; None when its denominator is zero."""
        return _ratio(metric, *self.parts(metric))

    def parts(self, metric: Metric) -> tuple[float, float]:
        """The metric's numerator and denominator (CPM's value is 1000 times their ratio)."""
        match metric:
            case "ctr":
                return self.clicks, self.impressions
            case "cpc":
                return float(self.spend), self.clicks
            case "cpm":
                return float(self.spend), self.impressions
            case "hook_rate":
                return self.video_3s_plays, self.video_3s_impressions
            case "thruplay_rate":
                return self.thruplays, self.thruplay_impressions
            case "roas":
                return float(self.revenue), float(self.spend)


def _ratio(metric: Metric, numerator: float, denominator: float) -> float | None:
    if denominator <= 0:
        return None
    return numerator / denominator * (1000.0 if metric == "cpm" else 1.0)


def creative_totals(rows: Iterable[PerformanceRow]) -> dict[str, CreativeTotals]:
    """Rows summed per creative id (all periods, placements and sources)."""
    acc: dict[str, list[int | Decimal]] = {}
    for row in rows:
        a = acc.get(row.creative_id)
        if a is None:
            a = acc[row.creative_id] = [0, 0, 0, Decimal(0), 0, Decimal(0), 0, 0, 0, 0]
        a[0] += 1
        a[1] += row.impressions
        a[2] += row.clicks
        a[3] += row.spend
        a[4] += row.purchases
        a[5] += row.revenue
        if row.video_3s_plays is not None:
            a[6] += row.video_3s_plays
            a[7] += row.impressions
        if row.thruplays is not None:
            a[8] += row.thruplays
            a[9] += row.impressions
    return {
        cid: CreativeTotals(
            creative_id=cid,
            rows=int(a[0]),
            impressions=int(a[1]),
            clicks=int(a[2]),
            spend=Decimal(a[3]),
            purchases=int(a[4]),
            revenue=Decimal(a[5]),
            video_3s_plays=int(a[6]),
            video_3s_impressions=int(a[7]),
            thruplays=int(a[8]),
            thruplay_impressions=int(a[9]),
        )
        for cid, a in acc.items()
    }


def _measured(members: Iterable[CreativeTotals], metric: Metric) -> list[CreativeTotals]:
    return [
        c
        for c in members
        if c.measured_for(metric) and (v := c.value(metric)) is not None and math.isfinite(v)
    ]


def metric_values(members: Iterable[CreativeTotals], metric: Metric) -> npt.NDArray[np.float64]:
    """The metric of each creative measured for it, sorted ascending."""
    values = [c.value(metric) for c in _measured(members, metric)]
    return np.sort(np.asarray(values, dtype=np.float64))


def metric_impressions(members: Iterable[CreativeTotals], metric: Metric) -> int:
    """The impressions ``metric`` stands on over the creatives measured for it."""
    return sum(c.base(metric) for c in _measured(members, metric))


def pooled_value(members: Iterable[CreativeTotals], metric: Metric) -> float | None:
    """The metric of the group's totals (impression-weighted), over the creatives measured for
    it."""
    numerator = denominator = 0.0
    for c in members:
        if c.measured_for(metric):
            n, d = c.parts(metric)
            numerator += n
            denominator += d
    return _ratio(metric, numerator, denominator)


def rng_for(seed: int, *parts: str) -> np.random.Generator:
    """A generator keyed by the seed and names, so a group's interval does not depend on which
    other groups were computed before it."""
    return np.random.default_rng([seed, *(zlib.crc32(p.encode()) for p in parts)])


def bootstrap_medians(
    values: npt.NDArray[np.float64], rng: np.random.Generator, resamples: int
) -> npt.NDArray[np.float64]:
    """Medians of ``resamples`` bootstrap resamples of sorted ``values``, in O(resamples).

    Resampling n values and taking the median only needs the middle order statistics of n
    uniform draws: the k-th smallest of n Uniform(0,1) is Beta(k, n-k+1), and since ``values``
    is sorted, index floor(n*U) maps order statistics to order statistics. For even n the next
    one is U_(k) + (1 - U_(k)) * Beta(1, n-k). This is exactly the distribution of the naive
    resample-and-take-the-median, without drawing n indices per resample.
    """
    n = len(values)
    if n == 0:
        raise ValueError("no values to resample")
    if n == 1:
        return np.full(resamples, values[0])
    k = (n + 1) // 2
    u = rng.beta(k, n - k + 1, size=resamples)
    lower = values[np.minimum((u * n).astype(np.int64), n - 1)]
    if n % 2:
        return lower
    u_next = u + (1.0 - u) * rng.beta(1, n - k, size=resamples)
    upper = values[np.minimum((u_next * n).astype(np.int64), n - 1)]
    return (lower + upper) / 2.0


def _interval(draws: npt.NDArray[np.float64], confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return float(low), float(high)


def summarize(
    members: Sequence[CreativeTotals], metric: Metric, *, bootstrap: Bootstrap, key: Sequence[str]
) -> MetricSummary:
    """The group's median of ``metric`` with a percentile bootstrap interval over its creatives;
    ``key`` names the group for its random stream."""
    values = metric_values(members, metric)
    pooled = pooled_value(members, metric)
    impressions = metric_impressions(members, metric)
    reason = thin_reason(len(values), impressions, metric)
    if len(values) == 0:
        return MetricSummary(
            metric=metric, n=0, median=None, low=None, high=None, pooled=pooled,
            impressions=impressions, thin_reason=reason,
        )  # fmt: skip
    draws = bootstrap_medians(values, rng_for(bootstrap.seed, metric, *key), bootstrap.resamples)
    low, high = _interval(draws, bootstrap.confidence)
    return MetricSummary(
        metric=metric,
        n=len(values),
        median=float(np.median(values)),
        low=low,
        high=high,
        pooled=pooled,
        impressions=impressions,
        thin_reason=reason,
    )


def median_difference(
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    *,
    bootstrap: Bootstrap,
    key: Sequence[str],
    relative: bool = True,
) -> Difference | None:
    """median(a) - median(b), or median(a) / median(b) - 1 when ``relative``, with an interval
    from resampling each group's creatives independently. None when either group is empty or,
    for a relative difference, b's median is not positive."""
    if len(a) == 0 or len(b) == 0:
        return None
    rng = rng_for(bootstrap.seed, "difference", *key)
    draws_a = bootstrap_medians(np.sort(a), rng, bootstrap.resamples)
    draws_b = bootstrap_medians(np.sort(b), rng, bootstrap.resamples)
    median_a, median_b = float(np.median(a)), float(np.median(b))
    if relative:
        if median_b <= 0:
            return None
        keep = draws_b > 0
        if keep.mean() < 0.99:
            return None  # b's median is zero too often for a ratio to mean anything
        draws = draws_a[keep] / draws_b[keep] - 1.0
        estimate = median_a / median_b - 1.0
    else:
        draws = draws_a - draws_b
        estimate = median_a - median_b
    low, high = _interval(draws, bootstrap.confidence)
    return Difference(relative=relative, estimate=estimate, low=low, high=high)


def thin_reason(measured: int, impressions: int, metric: Metric | None = None) -> str | None:
    """Why a group is too thin to rank, or None when it has enough data: ``measured`` creatives
    and ``impressions``, those of ``metric`` when given (``CreativeTotals.base``)."""
    problems = []
    if measured < MIN_CREATIVES:
        plural = "s" if measured != 1 else ""
        problems.append(
            f"{measured} measured creative{plural}"
            if metric is None
            else f"{measured} creative{plural} measured for {METRIC_LABELS[metric]}"
        )
    if impressions < MIN_IMPRESSIONS:
        problems.append(f"{impressions:,} {METRIC_BASES[metric] if metric else 'impressions'}")
    if not problems:
        return None
    return (
        " and ".join(problems)
        + f" (needs {MIN_CREATIVES} creatives and {MIN_IMPRESSIONS:,} impressions)"
    )


def format_metric(metric: Metric, value: float | None) -> str:
    """A value as people read it: rates in percent, CPC and CPM in money, ROAS as a multiple."""
    if value is None:
        return "-"
    if metric in RATE_METRICS:
        return f"{value * 100:.2f}%"
    if metric == "roas":
        return f"{value:.2f}x"
    return f"{value:.2f}"
