"""The template mix for the next batch: Thompson sampling over a shrinkage posterior per template,
with a share kept for exploring templates whose data is too thin to rank, and one line per
template saying why.

Each template's posterior is over the mean log-metric of its creatives (creatives are the unit, as
in the report), shrunk towards the all-template mean by empirical Bayes: a template with few
creatives leans on the others, one with many stands on its own. Thompson sampling then draws from
every posterior many times; a template's share of the exploit slots is how often it was best.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from pipeline.analytics.model import PerformanceRow
from pipeline.analytics.report import GroupStats, build_report
from pipeline.analytics.stats import (
    HIGHER_IS_BETTER,
    METRIC_BASES,
    METRIC_LABELS,
    RATE_METRICS,
    Bootstrap,
    CreativeTotals,
    Metric,
    creative_totals,
    format_metric,
    rng_for,
)
from pipeline.brief import Brief
from pipeline.creative import CreativeAttributes
from pipeline.errors import BadInput, BriefError
from pipeline.templates.registry import load_templates

__all__ = [
    "DRAWS",
    "EXPLORATION_SHARE",
    "Recommendation",
    "TemplateAdvice",
    "all_templates",
    "allocate",
    "mix_for_brief",
    "recommend",
]

# Posterior draws per template for Thompson sampling.
DRAWS: Final = 4000
# Up to this share of a batch (at least one variant when any template is thin or untested and the
# batch has two or more) goes to templates without enough data to rank: without it a template that
# starts badly is never tried again.
EXPLORATION_SHARE: Final = 0.2
# Between-template spread never assumed below this (log scale, ~5%): with a handful of templates
# the moment estimate is often zero, which would shrink every template onto the mean.
MIN_TAU: Final = 0.05
# Within-template spread of log CTR when no template has two creatives yet (creatives differ by
# about a third).
DEFAULT_SIGMA: Final = 0.35
# A template's own spread counts as this many degrees of freedom of the pooled spread.
PRIOR_DF: Final = 4
# Pseudo-data added to each creative, as a share of the typical creative's denominator (at a
# 1% CTR and 20,000 impressions: 400 impressions and 4 clicks).
PSEUDO_SHARE: Final = 0.02
_Z90: Final = 1.6448536269514722


class TemplateAdvice(BaseModel):
    """One template's part of the mix, and why."""

    model_config = ConfigDict(frozen=True)

    template: str
    variants: int
    competing: bool = Field(description="enough data to rank; False: explored, not exploited")
    p_best: float = Field(
        description="ranked: share of posterior draws in which it was the best ranked template; "
        "thin or untested: share in which it beat every ranked template"
    )
    estimate: float | None = Field(description="shrunk posterior median of the metric")
    low: float | None
    high: float | None
    creatives: int
    impressions: int
    metric_impressions: int = Field(
        default=0, description="the impressions the metric stands on (MetricSummary.impressions)"
    )
    reason: str


class Recommendation(BaseModel):
    """The mix for ``variants`` variants: templates with most variants first."""

    model_config = ConfigDict(frozen=True)

    metric: Metric
    variants: int
    draws: int
    templates: tuple[TemplateAdvice, ...]

    def mix(self) -> tuple[str, ...]:
        """The template of each variant."""
        return tuple(t.template for t in self.templates for _ in range(t.variants))

    def lines(self) -> tuple[str, ...]:
        return tuple(t.reason for t in self.templates)


def allocate(shares: Mapping[str, float], n: int) -> dict[str, int]:
    """``n`` slots in proportion to ``shares`` by largest remainder; ties go to the larger share,
    then the name, so the result is deterministic."""
    total = sum(shares.values())
    if n <= 0 or not shares:
        return dict.fromkeys(shares, 0)
    if total <= 0:
        shares = dict.fromkeys(shares, 1.0)
        total = float(len(shares))
    exact = {k: v / total * n for k, v in shares.items()}
    counts = {k: math.floor(v) for k, v in exact.items()}
    order = sorted(shares, key=lambda k: (-(exact[k] - counts[k]), -shares[k], k))
    for k in order[: n - sum(counts.values())]:
        counts[k] += 1
    return counts


class _Posterior:
    """Normal posteriors of each template's mean log-metric (empirical Bayes).

    Each creative's value is smoothed with a few pseudo-impressions at the all-template rate
    (so a creative with no click yet is low, not minus infinity, and a small creative counts
    less); each template's spread is moderated towards the pooled spread (PRIOR_DF), and the
    between-template variance is the DerSimonian-Laird moment estimate.
    """

    def __init__(self, logs: Mapping[str, npt.NDArray[np.float64]]) -> None:
        present = {t: x for t, x in logs.items() if len(x)}
        df = sum(len(x) - 1 for x in present.values())
        pooled = (
            sum(float(np.var(x, ddof=1)) * (len(x) - 1) for x in present.values() if len(x) > 1)
            / df
            if df > 0
            else DEFAULT_SIGMA**2
        )
        pooled = max(pooled, 1e-8)
        means = {t: float(np.mean(x)) for t, x in present.items()}
        se2 = {}
        for t, x in present.items():
            own = float(np.var(x, ddof=1)) if len(x) > 1 else pooled
            moderated = ((len(x) - 1) * own + PRIOR_DF * pooled) / (len(x) - 1 + PRIOR_DF)
            se2[t] = moderated / len(x)
        tau2 = MIN_TAU**2
        if len(means) >= 2:
            w = {t: 1.0 / se2[t] for t in means}
            fixed = sum(w[t] * means[t] for t in means) / sum(w.values())
            q = sum(w[t] * (means[t] - fixed) ** 2 for t in means)
            c = sum(w.values()) - sum(x * x for x in w.values()) / sum(w.values())
            tau2 = max(tau2, (q - (len(means) - 1)) / c if c > 0 else 0.0)
        weights = {t: 1.0 / (se2[t] + tau2) for t in means}
        self.mu = (
            sum(weights[t] * means[t] for t in means) / sum(weights.values()) if means else 0.0
        )
        self.params: dict[str, tuple[float, float]] = {}
        for t in logs:
            if t in means:
                precision = 1.0 / tau2 + 1.0 / se2[t]
                mean = (self.mu / tau2 + means[t] / se2[t]) / precision
                self.params[t] = (mean, math.sqrt(1.0 / precision))
            else:  # untested: the all-template mean, with the spread between templates
                self.params[t] = (self.mu, math.sqrt(tau2))

    def interval(self, template: str) -> tuple[float, float, float]:
        """Posterior median and 90% interval, back on the metric's scale."""
        mean, sd = self.params[template]
        return math.exp(mean), math.exp(mean - _Z90 * sd), math.exp(mean + _Z90 * sd)


def _smoothed_logs(
    members: Mapping[str, Sequence[CreativeTotals]], metric: Metric
) -> dict[str, npt.NDArray[np.float64]]:
    """Log of each measured creative's (numerator + m * rate) / (denominator + m), where rate is
    the all-template rate and m is PSEUDO_SHARE of the typical creative's denominator."""
    parts = {
        t: [c.parts(metric) for c in cs if c.measured_for(metric) and c.parts(metric)[1] > 0]
        for t, cs in members.items()
    }
    everything = [p for ps in parts.values() for p in ps]
    if not everything:
        return {t: np.empty(0) for t in members}
    numerators = np.array([p[0] for p in everything])
    denominators = np.array([p[1] for p in everything])
    rate = float(numerators.sum() / denominators.sum())
    m = PSEUDO_SHARE * float(np.median(denominators))
    scale = 1000.0 if metric == "cpm" else 1.0
    out = {}
    for t, ps in parts.items():
        num = np.array([p[0] for p in ps], dtype=np.float64)
        den = np.array([p[1] for p in ps], dtype=np.float64)
        out[t] = np.log(np.maximum((num + m * rate) / (den + m) * scale, 1e-12))
    return out


def _span(metric: Metric, low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "-"
    if metric in RATE_METRICS:
        return f"{low * 100:.2f}–{high * 100:.2f}%"
    suffix = "x" if metric == "roas" else ""
    return f"{low:.2f}–{high:.2f}{suffix}"


def _observed(metric: Metric, group: GroupStats | None) -> str:
    label = METRIC_LABELS[metric]
    if group is None or group.metrics[metric].median is None:
        return "no measured creatives yet"
    s = group.metrics[metric]
    return (
        f"median {label} {format_metric(metric, s.median)} (90% {_span(metric, s.low, s.high)}) "
        f"over {s.n} creative{'s' if s.n != 1 else ''}, {s.impressions:,} {METRIC_BASES[metric]}"
    )


def _reason(
    advice: TemplateAdvice,
    *,
    metric: Metric,
    variants: int,
    group: GroupStats | None,
    leader: GroupStats | None,
    draws: int,
) -> str:
    head = f"{advice.template}: {advice.variants} of {variants} — "
    if not advice.competing:
        why = group.thin_reason if group is not None and group.thin_reason else "no data yet"
        if not advice.variants:
            return head + f"too little data to rank: {why}; the exploration slots went elsewhere"
        so_far = f"so far {_observed(metric, group)}; " if group is not None else ""
        return (
            head + f"exploring, too little data to rank: {why}; {so_far}"
            f"could beat the ranked templates in {advice.p_best:.0%} of posterior draws"
        )
    observed = _observed(metric, group)
    if group is not None and group.rank == 1:
        observed = ("highest " if HIGHER_IS_BETTER[metric] else "lowest ") + observed
    if advice.variants:
        return head + f"{observed}; best in {advice.p_best:.0%} of {draws:,} posterior draws"
    behind = ""
    if leader is not None and leader.value != advice.template:
        behind = f", behind {leader.value}"
    return head + f"{observed}{behind}; best in only {advice.p_best:.1%} of posterior draws"


def recommend(
    creatives: Sequence[CreativeAttributes],
    rows: Sequence[PerformanceRow],
    *,
    variants: int,
    metric: Metric = "ctr",
    candidates: Sequence[str] | None = None,
    currency: str | None = None,
    seed: int = 0,
) -> Recommendation:
    """The template mix for ``variants`` variants, over ``candidates`` (default: every template
    with creatives). A candidate without data is explored, never exploited."""
    if variants < 1:
        raise BadInput("variants", "must be at least 1")
    report = build_report(
        creatives, rows, by="template", metric=metric, currency=currency,
        bootstrap=Bootstrap(seed=seed),
    )  # fmt: skip
    section = report.section("template")
    groups = {g.value: g for g in section.groups}
    names = list(dict.fromkeys(candidates)) if candidates is not None else sorted(groups)
    if not names:
        raise BadInput("templates", "no templates to choose from: import performance data first")

    kept = [r for r in rows if r.currency == report.currency]
    totals = creative_totals(kept)
    members: dict[str, list[CreativeTotals]] = {t: [] for t in names}
    for c in creatives:
        if c.template in members and c.creative_id in totals:
            members[c.template].append(totals[c.creative_id])
    logs = _smoothed_logs(members, metric)
    posterior = _Posterior(logs)
    # Thin by the metric's own creatives and impressions (the report was built by ``metric``).
    competing = {t: t in groups and not groups[t].thin and len(logs[t]) > 0 for t in names}
    p_best = _thompson(names, posterior, competing, metric=metric, seed=seed)

    counts = _split(names, p_best, competing, variants)
    leader = section.ranked[0] if section.ranked else None
    advice = []
    for t in names:
        estimate, low, high = posterior.interval(t)
        group = groups.get(t)
        item = TemplateAdvice(
            template=t,
            variants=counts[t],
            competing=competing[t],
            p_best=p_best[t],
            estimate=estimate,
            low=low,
            high=high,
            creatives=group.creatives if group else 0,
            impressions=group.impressions if group else 0,
            metric_impressions=group.metrics[metric].impressions if group else 0,
            reason="",
        )
        reason = _reason(
            item, metric=metric, variants=variants, group=group, leader=leader, draws=DRAWS
        )
        advice.append(item.model_copy(update={"reason": reason}))
    advice.sort(key=lambda a: (-a.variants, not a.competing, -a.p_best, a.template))
    return Recommendation(metric=metric, variants=variants, draws=DRAWS, templates=tuple(advice))


def _thompson(
    names: Sequence[str],
    posterior: _Posterior,
    competing: Mapping[str, bool],
    *,
    metric: Metric,
    seed: int,
) -> dict[str, float]:
    """For a ranked template, how often it is best among the ranked ones; for a thin one, how
    often it beats them all (how likely exploring it finds a better template)."""
    rng = rng_for(seed, "recommend", metric)
    sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
    means = np.array([posterior.params[t][0] for t in names])
    sds = np.array([posterior.params[t][1] for t in names])
    samples = sign * rng.normal(means, sds, size=(DRAWS, len(names)))
    ranked = [i for i, t in enumerate(names) if competing[t]]
    out: dict[str, float] = {}
    if ranked:
        best = np.asarray(ranked)[samples[:, ranked].argmax(axis=1)]
        top = samples[:, ranked].max(axis=1)
    for i, t in enumerate(names):
        if competing[t]:
            out[t] = float(np.mean(best == i))
        elif ranked:
            out[t] = float(np.mean(samples[:, i] > top))
        else:
            out[t] = float(np.mean(samples.argmax(axis=1) == i))
    return out


def _split(
    names: Sequence[str], p_best: Mapping[str, float], competing: Mapping[str, bool], n: int
) -> dict[str, int]:
    """Exploration slots to the thin templates most likely to be best, the rest by P(best)."""
    exploit = [t for t in names if competing[t]]
    explore = sorted((t for t in names if not competing[t]), key=lambda t: (-p_best[t], t))
    if not exploit:
        return {**dict.fromkeys(names, 0), **allocate(dict.fromkeys(explore, 1.0), n)}
    slots = 0
    if explore and n >= 2:
        slots = min(len(explore), n - 1, max(1, round(EXPLORATION_SHARE * n)))
    counts = dict.fromkeys(names, 0)
    for t in explore[:slots]:
        counts[t] = 1
    counts.update(allocate({t: p_best[t] for t in exploit}, n - slots))
    return counts


def all_templates(creatives: Sequence[CreativeAttributes]) -> list[str]:
    """Candidates for ``recommend``: the templates with creatives, then every built-in one."""
    seen = sorted({c.template for c in creatives})
    return list(dict.fromkeys([*seen, *load_templates()]))


def mix_for_brief(
    brief: Brief, recommendation: Recommendation | None, *, variants: int | None = None
) -> tuple[str, ...]:
    """The template of each variant a brief asks for (``variants``, default the brief's script
    ``options``). Without a recommendation every variant keeps the brief's template."""
    n = variants if variants is not None else brief.options
    if n < 1:
        raise BriefError("options", "must be at least 1")
    if recommendation is None or not recommendation.templates:
        return (brief.template,) * n
    if n == recommendation.variants:
        mix = recommendation.mix()
    else:
        p_best = {t.template: t.p_best for t in recommendation.templates}
        competing = {t.template: t.competing for t in recommendation.templates}
        counts = _split(list(p_best), p_best, competing, n)
        mix = tuple(t.template for t in recommendation.templates for _ in range(counts[t.template]))
    known = load_templates()
    for template in dict.fromkeys(mix):
        if template not in known:
            raise BriefError(
                "template",
                f"the recommended template {template!r} is not a known template; "
                "recommend over known templates only",
            )
    return mix
