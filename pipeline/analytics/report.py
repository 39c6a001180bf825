"""The performance report: per attribute value, totals and metric medians with intervals, ranked
unless thin. Pure: creatives and rows in, a frozen, JSON-ready Report out.

Thin is decided per metric: each MetricSummary says how many creatives and impressions the metric
stands on and whether that is too little; a group is ranked (and compared with the rest) by the
report's metric only when that metric's own data, and the rest's, is enough.

Currency: one report is in one currency. Rows in several currencies are refused
(MixedCurrencies, naming the currencies) unless ``currency`` picks one; the other rows are then
left out and counted in ``Report.other_currency_rows``. Converting would need exchange rates per
day, which is no business of a report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pipeline.analytics.model import ATTRIBUTES, Attribute, PerformanceRow
from pipeline.analytics.stats import (
    HIGHER_IS_BETTER,
    METRICS,
    MIN_CREATIVE_IMPRESSIONS,
    MIN_CREATIVES,
    MIN_IMPRESSIONS,
    Bootstrap,
    CreativeTotals,
    Difference,
    Metric,
    MetricSummary,
    creative_totals,
    median_difference,
    metric_values,
    summarize,
    thin_reason,
)
from pipeline.creative import CreativeAttributes
from pipeline.errors import BadInput

__all__ = [
    "AttributeReport",
    "Comparison",
    "GroupStats",
    "MixedCurrencies",
    "Report",
    "Rules",
    "Selection",
    "Unattributed",
    "build_report",
    "compare",
]


class MixedCurrencies(BadInput):
    """The rows are in more than one currency."""

    def __init__(self, currencies: Sequence[str]) -> None:
        super().__init__(
            "currency",
            f"the rows are in {', '.join(sorted(currencies))}; choose one currency per report",
        )


class Rules(BaseModel):
    """The thresholds and bootstrap settings a report was built with, so it can be reproduced."""

    model_config = ConfigDict(frozen=True)

    min_creatives: int = MIN_CREATIVES
    min_impressions: int = MIN_IMPRESSIONS
    min_creative_impressions: int = MIN_CREATIVE_IMPRESSIONS
    bootstrap: Bootstrap = Bootstrap()


class GroupStats(BaseModel):
    """One value of one attribute (e.g. template = before_after) over its creatives."""

    model_config = ConfigDict(frozen=True)

    value: str
    creatives: int = Field(description="creatives with rows")
    measured: int = Field(
        description=f"creatives with at least {MIN_CREATIVE_IMPRESSIONS} impressions"
    )
    impressions: int
    clicks: int
    purchases: int
    spend: Decimal
    revenue: Decimal
    metrics: dict[Metric, MetricSummary]
    thin: bool = Field(
        description="too little data to rank by the report's metric: too few creatives measured "
        "for it, or too few impressions behind it (``metrics[metric].impressions``)"
    )
    thin_reason: str | None = None
    rank: int | None = Field(description="1 is best by the report's metric; None when not ranked")
    vs_rest: Difference | None = Field(
        description="relative difference of the median metric against the attribute's other "
        "creatives; None for thin groups, and when the other creatives are too few (the same "
        "minimum-sample rule)"
    )


class AttributeReport(BaseModel):
    """One attribute's groups: ranked ones first, best first, then the unranked ones."""

    model_config = ConfigDict(frozen=True)

    attribute: Attribute
    groups: tuple[GroupStats, ...]

    def group(self, value: str) -> GroupStats:
        for group in self.groups:
            if group.value == value:
                return group
        raise KeyError(f"no {self.attribute} {value!r} in the report")

    @property
    def ranked(self) -> tuple[GroupStats, ...]:
        return tuple(g for g in self.groups if g.rank is not None)


class Unattributed(BaseModel):
    """Rows whose creative id matches no known creative (ads not made by reelforge, or renamed)."""

    model_config = ConfigDict(frozen=True)

    rows: int = 0
    creative_ids: int = 0
    impressions: int = 0
    clicks: int = 0
    spend: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)


class Report(BaseModel):
    """Per attribute, per value: totals, medians with intervals, thin groups flagged."""

    model_config = ConfigDict(frozen=True)

    metric: Metric = Field(description="the metric groups are ranked by")
    by: Attribute | None = Field(description="the one attribute reported, or None for all")
    currency: str | None = Field(description="currency of spend, revenue, CPC and CPM")
    creatives: int = Field(description="known creatives with rows")
    creatives_without_rows: int
    rows: int
    impressions: int
    clicks: int
    spend: Decimal
    revenue: Decimal
    other_currency_rows: int = 0
    attributes: tuple[AttributeReport, ...]
    unattributed: Unattributed
    rules: Rules

    def section(self, attribute: Attribute) -> AttributeReport:
        for section in self.attributes:
            if section.attribute == attribute:
                return section
        raise KeyError(f"the report has no section for {attribute}")


def _pick_currency(rows: Sequence[PerformanceRow], currency: str | None) -> str | None:
    found = {row.currency for row in rows}
    if currency is not None:
        return currency
    if len(found) > 1:
        raise MixedCurrencies(sorted(found))
    return next(iter(found), None)


def _unattributed(rows: Sequence[PerformanceRow]) -> Unattributed:
    return Unattributed(
        rows=len(rows),
        creative_ids=len({r.creative_id for r in rows}),
        impressions=sum(r.impressions for r in rows),
        clicks=sum(r.clicks for r in rows),
        spend=sum((r.spend for r in rows), Decimal(0)),
        revenue=sum((r.revenue for r in rows), Decimal(0)),
    )


def _sort_key(group: GroupStats, metric: Metric) -> tuple[float, int, str]:
    median = group.metrics[metric].median
    assert median is not None
    return (-median if HIGHER_IS_BETTER[metric] else median, -group.impressions, group.value)


def _section(
    attribute: Attribute,
    groups: Mapping[str, list[CreativeTotals]],
    *,
    metric: Metric,
    bootstrap: Bootstrap,
) -> AttributeReport:
    values = {value: metric_values(members, metric) for value, members in groups.items()}
    summaries = {
        value: {
            m: summarize(members, m, bootstrap=bootstrap, key=(attribute, value)) for m in METRICS
        }
        for value, members in groups.items()
    }
    all_n = sum(s[metric].n for s in summaries.values())
    all_impressions = sum(s[metric].impressions for s in summaries.values())
    stats: list[GroupStats] = []
    for value, members in groups.items():
        own = summaries[value][metric]
        # Thin by the ranked metric's own creatives and impressions (a hook rate by those that
        # counted plays), not the group's: other metrics' data cannot rank this one.
        reason = own.thin_reason
        # Thin groups are not compared either, nor against a thin rest: a lift is a ranking by
        # another name.
        rest_thin = thin_reason(all_n - own.n, all_impressions - own.impressions, metric)
        rest = [v for other, v in values.items() if other != value]
        stats.append(
            GroupStats(
                value=value,
                creatives=len(members),
                measured=sum(1 for c in members if c.measured),
                impressions=sum(c.impressions for c in members),
                clicks=sum(c.clicks for c in members),
                purchases=sum(c.purchases for c in members),
                spend=sum((c.spend for c in members), Decimal(0)),
                revenue=sum((c.revenue for c in members), Decimal(0)),
                metrics=summaries[value],
                thin=reason is not None,
                thin_reason=reason,
                rank=None,
                vs_rest=None
                if reason is not None or rest_thin is not None
                else median_difference(
                    values[value],
                    np.concatenate(rest) if rest else np.empty(0),
                    bootstrap=bootstrap,
                    key=(attribute, value, metric, "rest"),
                ),
            )
        )
    rankable = sorted(
        (g for g in stats if not g.thin and g.metrics[metric].median is not None),
        key=lambda g: _sort_key(g, metric),
    )
    ranked = [g.model_copy(update={"rank": i}) for i, g in enumerate(rankable, start=1)]
    chosen = {g.value for g in ranked}
    others = sorted(
        (g for g in stats if g.value not in chosen), key=lambda g: (-g.impressions, g.value)
    )
    return AttributeReport(attribute=attribute, groups=(*ranked, *others))


def build_report(
    creatives: Sequence[CreativeAttributes],
    rows: Sequence[PerformanceRow],
    *,
    by: Attribute | None = None,
    metric: Metric = "ctr",
    currency: str | None = None,
    bootstrap: Bootstrap | None = None,
) -> Report:
    """The report for one attribute (``by``) or all of them, ranked by ``metric``.

    Raises MixedCurrencies when the rows are in several currencies and ``currency`` is None.
    """
    bootstrap = bootstrap or Bootstrap()
    chosen = _pick_currency(rows, currency)
    kept = [r for r in rows if r.currency == chosen]
    known = {c.creative_id: c for c in creatives}
    attributed = [r for r in kept if r.creative_id in known]
    totals = creative_totals(attributed)
    sections = []
    for attribute in (by,) if by is not None else ATTRIBUTES:
        groups: dict[str, list[CreativeTotals]] = defaultdict(list)
        for cid, total in totals.items():
            groups[str(getattr(known[cid], attribute))].append(total)
        sections.append(
            _section(attribute, dict(sorted(groups.items())), metric=metric, bootstrap=bootstrap)
        )
    return Report(
        metric=metric,
        by=by,
        currency=chosen,
        creatives=len(totals),
        creatives_without_rows=len(known.keys() - totals.keys()),
        rows=len(attributed),
        impressions=sum(t.impressions for t in totals.values()),
        clicks=sum(t.clicks for t in totals.values()),
        spend=sum((t.spend for t in totals.values()), Decimal(0)),
        revenue=sum((t.revenue for t in totals.values()), Decimal(0)),
        other_currency_rows=len(rows) - len(kept),
        attributes=tuple(sections),
        unattributed=_unattributed([r for r in kept if r.creative_id not in known]),
        rules=Rules(bootstrap=bootstrap),
    )


class Selection(BaseModel):
    """The creatives matching some attribute values, and their metric summary."""

    model_config = ConfigDict(frozen=True)

    where: dict[Attribute, str]
    creatives: int
    impressions: int
    summary: MetricSummary


class Comparison(BaseModel):
    """Two selections of creatives compared on one metric: ``lift`` = median(a) / median(b) - 1."""

    model_config = ConfigDict(frozen=True)

    metric: Metric
    currency: str | None
    a: Selection
    b: Selection
    difference: Difference | None = Field(description="median(a) - median(b)")
    lift: Difference | None = Field(description="median(a) / median(b) - 1")


def compare(
    creatives: Sequence[CreativeAttributes],
    rows: Sequence[PerformanceRow],
    *,
    a: Mapping[Attribute, str],
    b: Mapping[Attribute, str],
    metric: Metric = "ctr",
    currency: str | None = None,
    bootstrap: Bootstrap | None = None,
) -> Comparison:
    """Compares creatives matching ``a`` with those matching ``b`` (e.g. before_after under 15 s
    against lifestyle_story over 30 s), resampling creatives within each side."""
    bootstrap = bootstrap or Bootstrap()
    chosen = _pick_currency(rows, currency)
    totals = creative_totals(r for r in rows if r.currency == chosen)

    def select(where: Mapping[Attribute, str], name: str) -> tuple[Selection, list[CreativeTotals]]:
        members = [
            totals[c.creative_id]
            for c in creatives
            if c.creative_id in totals and all(str(getattr(c, k)) == v for k, v in where.items())
        ]
        key = (name, *(f"{k}={v}" for k, v in sorted(where.items())))
        selection = Selection(
            where=dict(where),
            creatives=len(members),
            impressions=sum(m.impressions for m in members),
            summary=summarize(members, metric, bootstrap=bootstrap, key=key),
        )
        return selection, members

    sel_a, members_a = select(a, "a")
    sel_b, members_b = select(b, "b")
    values_a, values_b = metric_values(members_a, metric), metric_values(members_b, metric)
    return Comparison(
        metric=metric,
        currency=chosen,
        a=sel_a,
        b=sel_b,
        difference=median_difference(
            values_a, values_b, bootstrap=bootstrap, key=("compare", metric), relative=False
        ),
        lift=median_difference(
            values_a, values_b, bootstrap=bootstrap, key=("compare", metric), relative=True
        ),
    )
