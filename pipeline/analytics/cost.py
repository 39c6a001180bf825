"""Cost per asset: what reelforge charged to make each creative, beside its ad spend and revenue,
per template.

What a creative cost comes from the credit ledger: a render job holds credits, then settles the
hold with its actual cost (every provider call and all compute, priced by ``pipeline.pricing``).
A job makes one output per format, so its settled credits are split across its outputs in
proportion to what each output is billed (its started seconds, as ``pricing.charge_for``
counts them); a creative whose job has no settled hold (rendered locally by the command line,
or still running) has no known cost and is counted apart. A creative's job is the latest final
render that made it: a preview is a draft, not the ad that runs, so a preview rendered before or
after the final never moves a creative's cost onto itself (it is the creative's job only while
the creative has never been rendered otherwise; ``pipeline.store.analytics``). Credits become
money at the price of a credit (``CreditPrice`` from the settings: REELFORGE_CREDIT_PRICE, default 0.01, in
REELFORGE_CREDIT_CURRENCY, default USD), which must be the ad spend's currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.analytics.model import PerformanceRow
from pipeline.analytics.report import MixedCurrencies
from pipeline.errors import BadInput
from pipeline.pricing import charge_for
from pipeline.settings import AnalyticsSettings
from pipeline.store.models import AssetCost

__all__ = [
    "AssetCost",
    "CostReport",
    "CreditPrice",
    "TemplateCost",
    "asset_credits",
    "cost_report",
]

_CENT = Decimal("0.01")


class CreditPrice(BaseModel):
    """What one credit is worth (the settings' REELFORGE_CREDIT_PRICE and _CURRENCY)."""

    model_config = ConfigDict(frozen=True)

    price: Decimal = Field(default=Decimal("0.01"), gt=0, le=1000)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

    @classmethod
    def of(cls, settings: AnalyticsSettings) -> CreditPrice:
        return cls(price=settings.credit_price, currency=settings.credit_currency)


class TemplateCost(BaseModel):
    """One template's assets: production cost beside ad spend and revenue (money in ``currency``)."""

    model_config = ConfigDict(frozen=True)

    template: str
    assets: int = Field(description="creatives made with this template")
    costed: int = Field(description="assets whose job has a settled ledger charge")
    credits: Decimal
    production_cost: Decimal
    cost_per_asset: Decimal | None = Field(description="production cost / costed assets")
    ad_spend: Decimal
    revenue: Decimal
    return_per_asset: Decimal | None = Field(description="revenue / assets")
    net_per_asset: Decimal | None = Field(
        description="(revenue - ad spend - production cost) / assets, over costed assets"
    )
    roas_all_in: float | None = Field(description="revenue / (ad spend + production cost)")


class CostReport(BaseModel):
    """Cost and return per asset, per template, and for all templates together."""

    model_config = ConfigDict(frozen=True)

    currency: str
    credit_price: Decimal
    templates: tuple[TemplateCost, ...]
    total: TemplateCost


def _weight(duration: float) -> Decimal:
    """What an output of this length is billed, in credits at any one rate."""
    return Decimal(charge_for([duration], preview=False))


def asset_credits(asset: AssetCost) -> Decimal | None:
    """The creative's share of its job's settled credits; None when the job was not charged."""
    if asset.job_credits is None:
        return None
    durations = asset.job_durations
    if not durations:
        return Decimal(asset.job_credits)  # no recorded outputs: the job made only this one
    total = sum((_weight(d) for d in durations), Decimal(0))
    own = _weight(asset.duration_s) if asset.duration_s is not None else total / len(durations)
    return Decimal(asset.job_credits) * own / total


def _per(amount: Decimal, count: int) -> Decimal | None:
    return (amount / count).quantize(_CENT) if count else None


def _summary(
    template: str,
    assets: Sequence[AssetCost],
    credits: dict[str, Decimal | None],
    spend: dict[str, Decimal],
    revenue: dict[str, Decimal],
    price: Decimal,
) -> TemplateCost:
    known = [credits[a.creative_id] for a in assets if credits[a.creative_id] is not None]
    total_credits = sum((c for c in known if c is not None), Decimal(0))
    production = (total_credits * price).quantize(_CENT)
    ad_spend = sum((spend[a.creative_id] for a in assets), Decimal(0))
    income = sum((revenue[a.creative_id] for a in assets), Decimal(0))
    costed = [a for a in assets if credits[a.creative_id] is not None]
    costed_net = (
        sum((revenue[a.creative_id] - spend[a.creative_id] for a in costed), Decimal(0))
        - production
    )
    outlay = ad_spend + production
    return TemplateCost(
        template=template,
        assets=len(assets),
        costed=len(known),
        credits=total_credits.quantize(_CENT),
        production_cost=production,
        cost_per_asset=_per(production, len(known)),
        ad_spend=ad_spend,
        revenue=income,
        return_per_asset=_per(income, len(assets)),
        net_per_asset=_per(costed_net, len(costed)),
        roas_all_in=float(income / outlay) if outlay > 0 else None,
    )


def cost_report(
    assets: Sequence[AssetCost],
    rows: Sequence[PerformanceRow],
    *,
    price: CreditPrice,
    currency: str | None = None,
) -> CostReport:
    """Per template: assets, production cost and ad results. Rows for unknown creatives are left
    out (the performance report counts them); rows in one currency only, the credit's."""
    found = {r.currency for r in rows}
    if currency is None and len(found) > 1:
        raise MixedCurrencies(sorted(found))
    chosen = currency or next(iter(found), price.currency)
    if chosen != price.currency:
        raise BadInput(
            "currency",
            f"ad spend is in {chosen} but a credit is priced in {price.currency}; set "
            f"REELFORGE_CREDIT_PRICE and REELFORGE_CREDIT_CURRENCY to a credit's price in {chosen}",
        )
    spend: dict[str, Decimal] = defaultdict(Decimal)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.currency == chosen:
            spend[row.creative_id] += row.spend
            revenue[row.creative_id] += row.revenue
    credits = {a.creative_id: asset_credits(a) for a in assets}
    by_template: dict[str, list[AssetCost]] = defaultdict(list)
    for asset in assets:
        by_template[asset.template].append(asset)
    templates = [
        _summary(t, members, credits, spend, revenue, price.price)
        for t, members in sorted(by_template.items())
    ]
    # Best net return per asset first; templates without a costed asset last.
    templates.sort(
        key=lambda s: (s.net_per_asset is None, -(s.net_per_asset or Decimal(0)), s.template)
    )
    return CostReport(
        currency=chosen,
        credit_price=price.price,
        templates=tuple(templates),
        total=_summary("all", assets, credits, spend, revenue, price.price),
    )
