"""``reelforge analytics report | recommend | costs``: the performance report as a table, JSON or
chart, the template mix for the next batch, and cost per asset; and the user's dataset a batch's
``mix: recommended`` is drawn from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.analytics.cost import AssetCost, CostReport, CreditPrice, cost_report
from pipeline.analytics.model import Attribute, PerformanceRow, currency_code
from pipeline.analytics.recommend import Recommendation, recommend
from pipeline.analytics.recommend import all_templates as every_template
from pipeline.analytics.report import AttributeReport, GroupStats, Report, build_report
from pipeline.analytics.stats import (
    METRIC_BASES,
    METRIC_LABELS,
    METRICS,
    Difference,
    Metric,
    MetricSummary,
    format_metric,
)
from pipeline.cli.common import LOCAL_USER, UserOption, console, fail, load_settings, resolve_user
from pipeline.errors import BadInput, ReelforgeError

if TYPE_CHECKING:
    from uuid import UUID

    from pipeline.creative import CreativeAttributes
    from pipeline.settings import Settings
    from pipeline.store.analytics import AnalyticsRepository

__all__ = [
    "costs_command",
    "print_costs",
    "print_recommendation",
    "print_report",
    "recommend_command",
    "report_command",
    "user_dataset",
]

CurrencyOption = Annotated[
    str | None,
    typer.Option(
        "--currency", help="Report only rows in this currency, e.g. USD (needed when mixed)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _out() -> Console:
    probe = Console()
    # Piped or captured: wide enough that the table's columns are not squeezed into slivers.
    return probe if probe.is_terminal else Console(width=220)


@contextmanager
def _analytics(settings: Settings, user: str) -> Iterator[tuple[AnalyticsRepository, UUID]]:
    from pipeline.store.analytics import Analytics
    from pipeline.store.database import open_store

    store_settings = settings.store
    if store_settings.embedded and not store_settings.pgdata.exists():
        raise BadInput("analytics", "no database yet: render and import performance data first")
    user_id = resolve_user(store_settings, user).id
    with open_store(store_settings) as store:
        yield Analytics(store), user_id


def _dataset(
    settings: Settings, user: str
) -> tuple[list[CreativeAttributes], list[PerformanceRow]]:
    """The user's creatives and rows from the database (the seam tests replace)."""
    from pipeline.analytics.dataset import load_dataset

    with _analytics(settings, user) as (analytics, user_id):
        return load_dataset(analytics, user_id)


def user_dataset(
    settings: Settings, user: str
) -> tuple[list[CreativeAttributes], list[PerformanceRow]]:
    """The user's creatives and imported rows (for other commands: a batch's template mix);
    nothing yet when there is no database yet."""
    if settings.store.embedded and not settings.store.pgdata.exists():
        return [], []
    return _dataset(settings, user)


def _cost_inputs(settings: Settings, user: str) -> tuple[list[AssetCost], list[PerformanceRow]]:
    """The user's creatives with their ledger charges, and their rows (the seam tests replace)."""
    from pipeline.analytics.dataset import load_dataset

    with _analytics(settings, user) as (analytics, user_id):
        return analytics.asset_costs(user_id=user_id), load_dataset(analytics, user_id)[1]


def _cell(metric: Metric, summary: MetricSummary) -> Text:
    if summary.median is None:
        return Text("-", style="dim")
    low, high = format_metric(metric, summary.low), format_metric(metric, summary.high)
    # A value too thin to rank by is dimmed, whichever metric the table is ranked by.
    return Text.assemble(
        format_metric(metric, summary.median),
        (f"\n{low}–{high}", "dim"),
        style="dim" if summary.thin else "",
    )


def _creatives(group: GroupStats, metric: Metric) -> str:
    """How many of the group's creatives are measured for the ranked metric, of all of them."""
    n = group.metrics[metric].n
    return f"{n}/{group.creatives}" if n != group.creatives else str(group.creatives)


def _impressions(group: GroupStats, metric: Metric) -> Text:
    """The group's impressions, and those the ranked metric stands on when they differ."""
    base = group.metrics[metric].impressions
    if base == group.impressions:
        return Text(f"{group.impressions:,}")
    return Text.assemble(
        f"{group.impressions:,}", (f"\n{base:,} for {METRIC_LABELS[metric]}", "dim")
    )


def _lift(diff: Difference | None) -> Text:
    if diff is None:
        return Text("-", style="dim")
    text = f"{diff.estimate:+.0%}\n{diff.low:+.0%}…{diff.high:+.0%}"
    return Text(text, style=("green" if diff.estimate > 0 else "red") if diff.excludes_zero else "")


def _section_table(report: Report, section: AttributeReport) -> Table:
    label = METRIC_LABELS[report.metric]
    currency = f" · {report.currency}" if report.currency else ""
    table = Table(
        title=f"{section.attribute.replace('_', ' ')} · ranked by median {label}{currency}",
        caption=f"each cell: median per creative, then its "
        f"{report.rules.bootstrap.confidence:.0%} bootstrap interval",
        show_lines=True,
    )
    table.add_column("rank", justify="right")
    table.add_column(section.attribute)
    table.add_column(f"creatives\n(measured for {label})", justify="right")
    table.add_column("impressions", justify="right")
    for metric in METRICS:
        table.add_column(METRIC_LABELS[metric], justify="right")
    table.add_column(f"{label} vs rest", justify="right")
    table.add_column("note")
    for group in section.groups:
        table.add_row(
            str(group.rank) if group.rank is not None else "-",
            group.value,
            _creatives(group, report.metric),
            _impressions(group, report.metric),
            *(_cell(m, group.metrics[m]) for m in METRICS),
            _lift(group.vs_rest),
            Text(f"thin: {group.thin_reason}", style="yellow") if group.thin_reason else "",
            style="dim" if group.thin else None,
        )  # fmt: skip
    return table


def _report_notes(report: Report) -> list[str]:
    """What the report's tables leave out, and why: one sentence each."""
    rules, base = report.rules, METRIC_BASES[report.metric]
    notes = [
        f"thin (not ranked): fewer than {rules.min_creatives} creatives with "
        f"{rules.min_creative_impressions}+ {base}, or fewer than {rules.min_impressions:,} "
        f"{base} in all"
    ]
    if report.unattributed.rows:
        u = report.unattributed
        notes.append(
            f"unattributed: {u.rows:,} rows for {u.creative_ids:,} unknown creative ids "
            f"({u.impressions:,} impressions, spend {u.spend:,.2f}) are not in the report"
        )
    if report.other_currency_rows:
        notes.append(
            f"{report.other_currency_rows:,} rows in other currencies are not in the report"
        )
    if report.creatives_without_rows:
        notes.append(f"{report.creatives_without_rows:,} creatives have no performance rows yet")
    return notes


def print_report(report: Report, out: Console) -> None:
    """The report as rich tables, one per attribute, and what they leave out."""
    for section in report.attributes:
        out.print(_section_table(report, section))
    spend = f"{report.spend:,.2f} {report.currency}" if report.currency else "0"
    summary = (
        f"{report.creatives:,} creatives, {report.rows:,} rows, {report.impressions:,} "
        f"impressions, spend {spend}"
    )
    for line in (summary, *_report_notes(report)):
        out.print(line, highlight=False, soft_wrap=True)


def report_command(
    by: Annotated[
        Attribute | None,
        typer.Option("--by", help="One attribute (default: all of them)."),
    ] = None,
    metric: Annotated[
        Metric, typer.Option("--metric", help="The metric to rank by and to chart.")
    ] = "ctr",
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also write a PNG chart (of --by, default template) here."),
    ] = None,
    as_json: JsonOption = False,
    user: UserOption = LOCAL_USER,
    currency: CurrencyOption = None,
) -> None:
    """Per attribute value: impressions, CTR, CPC, CPM, hook rate, thruplay rate and ROAS, as
    medians per creative with bootstrap intervals; thin data is flagged, not ranked."""
    settings = load_settings()
    try:
        currency = currency_code(currency)
        creatives, rows = _dataset(settings, user)
        report = build_report(creatives, rows, by=by, metric=metric, currency=currency)
        if plot is not None:
            from pipeline.analytics.plot import write_chart

            if not plot.parent.is_dir():
                raise BadInput("--plot", f"folder not found: {plot.parent}")
            write_chart(report, plot, metric, attribute=by or "template")
    except ReelforgeError as exc:
        raise fail(exc) from None
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        print_report(report, _out())
    if plot is not None:
        console.print(f"chart: {plot}", highlight=False, soft_wrap=True)


def print_recommendation(rec: Recommendation, out: Console) -> None:
    """The mix, and one line per template on why it has its share."""
    label = METRIC_LABELS[rec.metric]
    out.print(
        f"Template mix for {rec.variants} variants, by {label}:", highlight=False, soft_wrap=True
    )
    for line in rec.lines():
        out.print(f"  {line}", highlight=False, soft_wrap=True)
    out.print(f"mix: {', '.join(rec.mix())}", highlight=False, soft_wrap=True)


def recommend_command(
    variants: Annotated[int, typer.Option("--variants", min=1, max=100, help="Batch size.")],
    metric: Annotated[Metric, typer.Option("--metric", help="What the mix optimises.")] = "ctr",
    all_templates: Annotated[
        bool,
        typer.Option("--all-templates", help="Also explore templates with no data yet."),
    ] = False,
    as_json: JsonOption = False,
    user: UserOption = LOCAL_USER,
    currency: CurrencyOption = None,
) -> None:
    """The template mix for the next batch (Thompson sampling), one line per template on why."""
    settings = load_settings()
    try:
        currency = currency_code(currency)
        creatives, rows = _dataset(settings, user)
        candidates = every_template(creatives) if all_templates else None
        rec = recommend(
            creatives, rows, variants=variants, metric=metric, candidates=candidates,
            currency=currency,
        )  # fmt: skip
    except ReelforgeError as exc:
        raise fail(exc) from None
    if as_json:
        print(rec.model_dump_json(indent=2))
    else:
        print_recommendation(rec, _out())


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def print_costs(costs: CostReport, out: Console) -> None:
    """Cost and return per asset, one row per template and a total."""
    table = Table(
        title=f"Cost and return per asset · {costs.currency} · a credit is "
        f"{costs.credit_price} {costs.currency}",
        caption="production cost: the render jobs' settled credits, split over their outputs",
    )
    for column in (
        "template", "assets", "costed", "credits", "production", "cost/asset", "ad spend",
        "revenue", "return/asset", "net/asset", "ROAS all-in",
    ):  # fmt: skip
        table.add_column(column, justify="left" if column == "template" else "right")
    for i, row in enumerate((*costs.templates, costs.total)):
        table.add_row(
            row.template, str(row.assets), str(row.costed), f"{row.credits:,.0f}",
            _money(row.production_cost), _money(row.cost_per_asset), _money(row.ad_spend),
            _money(row.revenue), _money(row.return_per_asset), _money(row.net_per_asset),
            "-" if row.roas_all_in is None else f"{row.roas_all_in:.2f}x",
            end_section=i == len(costs.templates) - 1,
            style="bold" if row is costs.total else None,
        )  # fmt: skip
    out.print(table)


def costs_command(
    as_json: JsonOption = False,
    user: UserOption = LOCAL_USER,
    currency: CurrencyOption = None,
) -> None:
    """Cost per asset from reelforge's credit ledger beside ad spend and revenue, per template."""
    settings = load_settings()
    try:
        currency = currency_code(currency)
        assets, rows = _cost_inputs(settings, user)
        price = CreditPrice.of(settings.analytics)
        costs = cost_report(assets, rows, price=price, currency=currency)
    except ReelforgeError as exc:
        raise fail(exc) from None
    if as_json:
        print(costs.model_dump_json(indent=2))
    else:
        print_costs(costs, _out())
