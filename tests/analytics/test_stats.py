"""Per-creative metrics, the order-statistic bootstrap of the median, differences and the
minimum-sample rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from pipeline.analytics.model import PerformanceRow
from pipeline.analytics.stats import (
    MIN_CREATIVE_IMPRESSIONS,
    MIN_CREATIVES,
    MIN_IMPRESSIONS,
    Bootstrap,
    bootstrap_medians,
    creative_totals,
    format_metric,
    median_difference,
    metric_values,
    summarize,
    thin_reason,
)


def row(creative_id: str = "rf-aaaa0001", **fields: Any) -> PerformanceRow:
    values: dict[str, Any] = {
        "source": "meta_csv",
        "creative_id": creative_id,
        "ad_name": creative_id,
        "period_start": date(2026, 3, 2),
        "period_end": date(2026, 3, 2),
        "currency": "USD",
        "impressions": 1000,
        "clicks": 20,
        "spend": Decimal("10.00"),
    }
    return PerformanceRow.model_validate(values | fields)


def test_rows_sum_per_creative_and_metrics_follow_their_definitions() -> None:
    totals = creative_totals(
        [
            row(impressions=1000, clicks=20, spend=Decimal("8"), purchases=2,
                revenue=Decimal("30"), video_3s_plays=300, thruplays=100),
            row(impressions=3000, clicks=40, spend=Decimal("12"), purchases=1,
                revenue=Decimal("20"), video_3s_plays=900, thruplays=200),
            row("rf-bbbb0002", impressions=500, clicks=0, spend=Decimal("0")),
        ]
    )  # fmt: skip
    a = totals["rf-aaaa0001"]
    assert (a.rows, a.impressions, a.clicks, a.spend, a.purchases) == (2, 4000, 60, 20, 3)
    assert a.value("ctr") == pytest.approx(60 / 4000)
    assert a.value("cpc") == pytest.approx(20 / 60)
    assert a.value("cpm") == pytest.approx(1000 * 20 / 4000)
    assert a.value("hook_rate") == pytest.approx(1200 / 4000)
    assert a.value("thruplay_rate") == pytest.approx(300 / 4000)
    assert a.value("roas") == pytest.approx(50 / 20)
    b = totals["rf-bbbb0002"]
    # No click, no spend, no video metrics: those metrics are undefined, not zero.
    assert b.value("ctr") == 0.0
    assert b.value("cpc") is None
    assert b.value("roas") is None
    assert b.value("hook_rate") is None


def test_hook_rate_counts_only_impressions_of_rows_that_report_video_plays() -> None:
    # A Google CSV row has no 3-second plays; its impressions must not dilute the hook rate.
    totals = creative_totals(
        [
            row(impressions=1000, video_3s_plays=400, thruplays=100),
            row(source="google_csv", impressions=9000, video_3s_plays=None, thruplays=None),
        ]
    )
    total = totals["rf-aaaa0001"]
    assert total.value("hook_rate") == pytest.approx(0.4)
    assert total.value("thruplay_rate") == pytest.approx(0.1)
    assert total.value("ctr") == pytest.approx(40 / 10_000)


def test_a_creative_below_the_impression_floor_is_counted_but_not_measured() -> None:
    totals = creative_totals(
        [
            row("rf-aaaa0001", impressions=MIN_CREATIVE_IMPRESSIONS - 1, clicks=5),
            row("rf-bbbb0002", impressions=MIN_CREATIVE_IMPRESSIONS, clicks=1),
        ]
    )
    values = metric_values(totals.values(), "ctr")
    assert list(values) == [pytest.approx(1 / MIN_CREATIVE_IMPRESSIONS)]


@pytest.mark.parametrize("n", [1, 2, 7, 8, 25])
def test_order_statistic_bootstrap_matches_resampling_and_taking_the_median(n: int) -> None:
    values = np.sort(np.random.default_rng(n).lognormal(0.0, 1.0, size=n))
    fast = bootstrap_medians(values, np.random.default_rng(1), 200_000)
    idx = np.random.default_rng(2).integers(0, n, size=(200_000, n))
    naive = np.median(values[idx], axis=1)
    # Both are distributions over the same few values (single values or means of two): compare
    # the probability of each, by total variation distance.
    atoms = np.union1d(fast, naive)
    p_fast = np.array([np.mean(fast == a) for a in atoms])
    p_naive = np.array([np.mean(naive == a) for a in atoms])
    assert len(atoms) <= n * (n + 1) // 2
    assert 0.5 * np.abs(p_fast - p_naive).sum() < 0.02


def test_summary_is_a_median_with_an_interval_around_it_and_reproducible() -> None:
    rng = np.random.default_rng(3)
    rows = [
        row(f"rf-c{i:07d}", impressions=10_000, clicks=int(rng.binomial(10_000, 0.01)))
        for i in range(30)
    ]
    members = list(creative_totals(rows).values())
    summary = summarize(members, "ctr", bootstrap=Bootstrap(), key=("template", "x"))
    assert summary.n == 30
    assert summary.median is not None and summary.low is not None and summary.high is not None
    assert summary.low <= summary.median <= summary.high
    assert summary.low > 0.008 and summary.high < 0.012
    assert summary.pooled == pytest.approx(sum(r.clicks for r in rows) / 300_000)
    again = summarize(members, "ctr", bootstrap=Bootstrap(), key=("template", "x"))
    other_seed = summarize(members, "ctr", bootstrap=Bootstrap(seed=1), key=("template", "x"))
    assert again == summary
    assert (other_seed.low, other_seed.high) != (summary.low, summary.high)


def test_a_metric_without_any_value_has_no_median() -> None:
    members = list(creative_totals([row(video_3s_plays=None)]).values())
    summary = summarize(members, "hook_rate", bootstrap=Bootstrap(), key=("k",))
    assert (summary.n, summary.median, summary.low, summary.high) == (0, None, None, None)


def test_difference_of_medians_finds_a_real_shift_and_not_a_missing_one() -> None:
    rng = np.random.default_rng(4)
    base = rng.lognormal(np.log(0.01), 0.2, size=40)
    lifted = rng.lognormal(np.log(0.014), 0.2, size=40)
    lift = median_difference(lifted, base, bootstrap=Bootstrap(), key=("t",))
    assert lift is not None and lift.relative and lift.excludes_zero
    assert lift.low < lift.estimate < lift.high
    assert 0.2 < lift.estimate < 0.6
    same = median_difference(
        rng.lognormal(np.log(0.01), 0.2, size=40), base, bootstrap=Bootstrap(), key=("t",)
    )
    assert same is not None and not same.excludes_zero
    absolute = median_difference(lifted, base, bootstrap=Bootstrap(), key=("t",), relative=False)
    assert absolute is not None and absolute.estimate == pytest.approx(
        float(np.median(lifted) - np.median(base))
    )
    assert median_difference(lifted, np.empty(0), bootstrap=Bootstrap(), key=("t",)) is None


def test_thin_rule_names_what_is_missing() -> None:
    assert thin_reason(MIN_CREATIVES, MIN_IMPRESSIONS) is None
    assert thin_reason(MIN_CREATIVES - 1, MIN_IMPRESSIONS).startswith(
        f"{MIN_CREATIVES - 1} measured creatives"
    )
    few = thin_reason(MIN_CREATIVES, 1200)
    assert few is not None and few.startswith("1,200 impressions")
    both = thin_reason(1, 10)
    assert both is not None and "1 measured creative and 10 impressions" in both
    hooks = thin_reason(2, 900, "hook_rate")
    assert hooks is not None and hooks.startswith(
        "2 creatives measured for hook rate and 900 impressions with 3-second plays counted"
    )


def test_each_metric_measures_a_creative_on_its_own_impressions() -> None:
    # 10,000 impressions, but only 50 of them from rows that counted 3-second plays.
    (total,) = creative_totals(
        [
            row(impressions=50, video_3s_plays=40),
            row(source="google_csv", impressions=9950, clicks=0, video_3s_plays=None),
        ]
    ).values()

    assert total.measured and total.measured_for("ctr") and total.measured_for("cpc")
    assert (total.base("hook_rate"), total.measured_for("hook_rate")) == (50, False)
    assert len(metric_values([total], "hook_rate")) == 0
    summary = summarize([total], "ctr", bootstrap=Bootstrap(resamples=100), key=("t",))
    assert (summary.n, summary.impressions, summary.thin) == (1, 10_000, True)


def test_values_are_formatted_as_people_read_them() -> None:
    assert format_metric("ctr", 0.0137) == "1.37%"
    assert format_metric("roas", 2.5) == "2.50x"
    assert format_metric("cpm", 9.123) == "9.12"
    assert format_metric("cpc", None) == "-"
