"""The report on a synthetic dataset with known effects: it recovers them with intervals that
exclude zero, flags thin data instead of ranking it, and keeps currencies and unknown creatives
apart."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from pipeline.analytics.model import ATTRIBUTES
from pipeline.analytics.report import MixedCurrencies, Report, build_report, compare
from tests.analytics.synthetic import Dataset, generate, lucky_hook


@pytest.fixture(scope="module")
def data() -> Dataset:
    return generate()


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_before_after_short_beats_long_lifestyle_by_about_40_percent(seed: int) -> None:
    data = generate(seed=seed)
    result = compare(
        data.creatives,
        data.rows,
        a={"template": "before_after", "duration_bucket": "<15s"},
        b={"template": "lifestyle_story", "duration_bucket": "30s+"},
    )
    assert result.a.creatives == 40 and result.b.creatives == 40
    lift = result.lift
    assert lift is not None and lift.excludes_zero and lift.low > 0
    assert 0.25 < lift.estimate < 0.55  # the true effect is +40%
    assert lift.low < 0.40 < lift.high
    assert result.difference is not None and result.difference.low > 0


def test_ranked_by_median_ctr_with_the_thin_template_flagged_not_ranked(data: Dataset) -> None:
    section = build_report(data.creatives, data.rows, by="template").section("template")
    assert [g.value for g in section.ranked] == [
        "before_after",
        "product_showcase",
        "lifestyle_story",
    ]
    best = section.group("before_after")
    assert best.rank == 1 and best.vs_rest is not None and best.vs_rest.low > 0
    worst = section.group("lifestyle_story")
    assert worst.vs_rest is not None and worst.vs_rest.high < 0

    thin = section.group("unboxing")
    # Its median CTR is the highest of all, on 6 creatives with a few hundred impressions each.
    assert thin.metrics["ctr"].median is not None and thin.metrics["ctr"].median > 0.015
    assert thin.thin and thin.rank is None and thin.vs_rest is None
    assert thin.thin_reason is not None and "impressions" in thin.thin_reason
    assert "creatives" not in thin.thin_reason.split("(")[0]  # enough creatives, too few views
    assert thin.impressions < 5000 and thin.creatives == 6
    assert section.groups[-1] is thin  # unranked groups come after the ranked ones


def test_thin_is_decided_by_the_ranked_metrics_own_creatives_and_impressions() -> None:
    data = lucky_hook()

    report = build_report(data.creatives, data.rows, by="template", metric="hook_rate")

    section = report.section("template")
    lucky, solid = section.group("tpl_a"), section.group("tpl_b")
    # tpl_a's 12,000 impressions would pass, but its hook rate stands on one creative's 2,000.
    assert lucky.impressions == 12_000 and lucky.metrics["hook_rate"].median == 0.95
    assert (lucky.metrics["hook_rate"].n, lucky.metrics["hook_rate"].impressions) == (1, 2000)
    assert lucky.thin and lucky.rank is None and lucky.vs_rest is None
    assert lucky.thin_reason is not None
    assert "1 creative measured for hook rate" in lucky.thin_reason
    assert "2,000 impressions with 3-second plays counted" in lucky.thin_reason
    assert lucky.metrics["hook_rate"].thin and not lucky.metrics["ctr"].thin
    assert [g.value for g in section.ranked] == ["tpl_b"]
    assert solid.metrics["hook_rate"].impressions == 12_000
    # A lift against one creative is a ranking by another name: none against a thin rest.
    assert solid.vs_rest is None
    # By CTR, which every row measures, both templates are ranked.
    by_ctr = build_report(data.creatives, data.rows, by="template").section("template")
    assert {g.value for g in by_ctr.ranked} == {"tpl_a", "tpl_b"}
    assert (
        report.model_dump(mode="json")["attributes"][0]["groups"][1]["metrics"]["hook_rate"]["thin"]
        is True
    )


def test_every_metric_has_a_median_inside_its_interval(data: Dataset) -> None:
    group = (
        build_report(data.creatives, data.rows, by="template")
        .section("template")
        .group("before_after")
    )
    for metric, summary in group.metrics.items():
        assert summary.n == 40, metric
        assert summary.low is not None and summary.median is not None and summary.high is not None
        assert summary.low <= summary.median <= summary.high, metric
    assert 0.25 < (group.metrics["hook_rate"].median or 0) < 0.35
    assert group.metrics["cpm"].median == pytest.approx(9.0, rel=0.15)


def test_without_by_every_attribute_gets_a_section(data: Dataset) -> None:
    report = build_report(data.creatives, data.rows)
    assert [s.attribute for s in report.attributes] == list(ATTRIBUTES)
    buckets = {g.value for g in report.section("duration_bucket").groups}
    assert buckets == {"<15s", "15-30s", "30s+"}
    for section in report.attributes:
        assert sum(g.creatives for g in section.groups) == report.creatives
        assert sum(g.impressions for g in section.groups) == report.impressions


def test_the_report_is_json_and_reproducible(data: Dataset) -> None:
    report = build_report(data.creatives, data.rows, by="template", metric="roas")
    text = report.model_dump_json()
    assert Report.model_validate_json(text) == report
    assert build_report(data.creatives, data.rows, by="template", metric="roas") == report
    assert report.metric == "roas" and report.currency == "USD"
    assert report.spend == sum((r.spend for r in data.rows), Decimal(0))


def test_rows_of_unknown_creatives_are_counted_as_unattributed(data: Dataset) -> None:
    stray = [r.model_copy(update={"creative_id": "rf-unknown01"}) for r in data.rows[:3]] + [
        r.model_copy(update={"creative_id": "rf-unknown02"}) for r in data.rows[3:5]
    ]
    report = build_report(data.creatives, [*data.rows, *stray], by="template")
    assert report.unattributed.rows == 5
    assert report.unattributed.creative_ids == 2
    assert report.unattributed.impressions == sum(r.impressions for r in stray)
    assert report.rows == len(data.rows)
    assert report.impressions == sum(r.impressions for r in data.rows)


def test_mixed_currencies_are_refused_unless_one_is_chosen(data: Dataset) -> None:
    euros = generate(seed=8, currency="EUR")
    creatives = [*data.creatives, *euros.creatives]
    rows = [*data.rows, *euros.rows]
    with pytest.raises(MixedCurrencies) as raised:
        build_report(creatives, rows, by="template")
    assert raised.value.where == "currency"
    assert "EUR, USD" in raised.value.message

    report = build_report(creatives, rows, by="template", currency="EUR")
    assert report.currency == "EUR"
    assert report.rows == len(euros.rows)
    assert report.other_currency_rows == len(data.rows)
    assert report.creatives_without_rows == len(data.creatives)


def test_no_data_gives_an_empty_report() -> None:
    report = build_report([], [], by="template")
    assert report.currency is None and report.creatives == 0
    assert report.section("template").groups == ()


def test_thousands_of_creatives_report_in_seconds() -> None:
    from tests.analytics.synthetic import DEFAULT_ARMS, Arm

    arms = [Arm(a.template, a.ctr, a.creatives * 25, a.durations) for a in DEFAULT_ARMS[:3]]
    data = generate(arms, days=2)
    started = time.perf_counter()
    report = build_report(data.creatives, data.rows)
    assert time.perf_counter() - started < 10
    assert report.creatives == 2750
