"""Ad performance: the report (JSON or a PNG chart), the template mix for the next batch, and
cost per asset, over the caller's own creatives and imported rows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator

from pipeline.analytics.cost import CostReport, CreditPrice, cost_report
from pipeline.analytics.dataset import load_dataset
from pipeline.analytics.model import Attribute
from pipeline.analytics.plot import HEIGHT_PX, WIDTH_PX, chart_png
from pipeline.analytics.recommend import Recommendation, recommend
from pipeline.analytics.recommend import all_templates as every_template
from pipeline.analytics.report import Report, build_report
from pipeline.analytics.stats import Metric
from pipeline.api.deps import CurrentUser, ReposDep, SettingsDep
from pipeline.api.errors import problem_responses

router = APIRouter(
    prefix="/v1/analytics", tags=["analytics"], responses=problem_responses(401, 422)
)

MetricQuery = Annotated[
    Metric,
    Query(description="ctr, cpc, cpm, hook_rate, thruplay_rate or roas: what to rank or chart by"),
]
CurrencyQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z]{3}$",
        description="only rows in this currency, e.g. USD, in any case (required when the rows "
        "are in several)",
    ),
    AfterValidator(str.upper),
]


@router.get(
    "/report",
    summary="The performance report",
    description=(
        "Per value of each attribute (or only `by`): impressions, CTR, CPC, CPM, hook rate, "
        "thruplay rate and ROAS as medians per creative with 90% bootstrap intervals. Values "
        "with too little data are `thin`: reported, not ranked. Money is a decimal string."
    ),
)
def get_report(
    user: CurrentUser,
    repos: ReposDep,
    by: Annotated[Attribute | None, Query(description="one attribute (default: all)")] = None,
    metric: MetricQuery = "ctr",
    currency: CurrencyQuery = None,
) -> Report:
    creatives, rows = load_dataset(repos.analytics, user)
    return build_report(creatives, rows, by=by, metric=metric, currency=currency)


@router.get(
    "/report.png",
    summary="The report as a chart",
    description=(
        f"A {WIDTH_PX}x{HEIGHT_PX} PNG: the median of `metric` per value of `by`, with 90% "
        "bootstrap intervals as error bars; thin values are grey, hatched and labelled."
    ),
    response_class=Response,
    responses={
        200: {
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
            "description": "the chart",
        }
    },
)
def get_report_png(
    user: CurrentUser,
    repos: ReposDep,
    by: Annotated[Attribute, Query(description="the attribute to chart")] = "template",
    metric: MetricQuery = "ctr",
    currency: CurrencyQuery = None,
) -> Response:
    creatives, rows = load_dataset(repos.analytics, user)
    report = build_report(creatives, rows, by=by, metric=metric, currency=currency)
    return Response(
        chart_png(report), media_type="image/png", headers={"Cache-Control": "no-store"}
    )


@router.get(
    "/recommendation",
    summary="The template mix for the next batch",
    description=(
        "Thompson sampling over a shrinkage posterior per template: `variants` variants split "
        "across templates, one plain-language reason per template; templates with too little "
        "data get exploration slots, said as such."
    ),
)
def get_recommendation(
    user: CurrentUser,
    repos: ReposDep,
    variants: Annotated[int, Query(ge=1, le=100, description="how many variants to make")],
    metric: MetricQuery = "ctr",
    currency: CurrencyQuery = None,
    all_templates: Annotated[
        bool, Query(description="also explore built-in templates with no data yet")
    ] = False,
) -> Recommendation:
    creatives, rows = load_dataset(repos.analytics, user)
    candidates = every_template(creatives) if all_templates else None
    return recommend(
        creatives, rows, variants=variants, metric=metric, currency=currency,
        candidates=candidates,
    )  # fmt: skip




@router.get(
    "/costs",
    summary="Cost and return per asset, per template",
    description=(
        "Production cost from the credit ledger (each render job's settled credits, split over "
        "its outputs by billed seconds) beside ad spend and revenue."
    ),
)
def get_costs(
    user: CurrentUser, repos: ReposDep, settings: SettingsDep, currency: CurrencyQuery = None
) -> CostReport:
    assets = repos.analytics.asset_costs(user_id=user)
    _, rows = load_dataset(repos.analytics, user)
    price = CreditPrice.of(settings.analytics)
    return cost_report(assets, rows, price=price, currency=currency)
