"""Cost per asset: a job's settled credits split over its outputs by billed seconds, priced, and
set beside ad spend and revenue per template; read from the real ledger under RLS."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from pipeline.analytics.cost import (
    AssetCost,
    CreditPrice,
    asset_credits,
    cost_report,
)
from pipeline.analytics.model import PerformanceRow
from pipeline.analytics.report import MixedCurrencies
from pipeline.errors import BadInput
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.analytics import Analytics
from tests.analytics.seed import insert_creatives, insert_job, insert_rows
from tests.analytics.synthetic import Arm, generate
from tests.store.conftest import *  # noqa: F403  (the embedded PostgreSQL fixtures)

USD = CreditPrice(price=Decimal("0.01"), currency="USD")


def asset(creative_id: str, template: str = "before_after", **fields: Any) -> AssetCost:
    values: dict[str, Any] = {
        "creative_id": creative_id,
        "template": template,
        "job_id": uuid.uuid4(),
        "job_credits": 300,
        "duration_s": 10.0,
        "job_durations": (10.0,),
    }
    return AssetCost.model_validate(values | fields)


def perf(creative_id: str, spend: str, revenue: str, currency: str = "USD") -> PerformanceRow:
    return PerformanceRow(
        source="meta_csv",
        creative_id=creative_id,
        ad_name=creative_id,
        period_start=date(2026, 3, 2),
        period_end=date(2026, 3, 8),
        currency=currency,
        impressions=10_000,
        clicks=120,
        spend=Decimal(spend),
        revenue=Decimal(revenue),
    )


def test_a_jobs_credits_are_split_over_its_outputs_by_billed_seconds() -> None:
    job = {"job_credits": 300, "job_durations": (10.0, 20.0)}
    assert asset_credits(asset("rf-aaaa", duration_s=10.0, **job)) == 100
    assert asset_credits(asset("rf-bbbb", duration_s=20.0, **job)) == 200
    # Container drift within the billing tolerance is not billed: 8.04 s and 8.0 s cost the same.
    drift = {"job_credits": 160, "job_durations": (8.04, 8.0)}
    assert asset_credits(asset("rf-cccc", duration_s=8.04, **drift)) == 80
    # An output without a recorded render gets an average share; a job without renders is whole.
    assert asset_credits(asset("rf-dddd", duration_s=None, **job)) == 150
    assert asset_credits(asset("rf-eeee", job_durations=())) == 300


def test_an_uncharged_job_has_no_known_cost() -> None:
    assert asset_credits(asset("rf-aaaa", job_credits=None)) is None


def test_cost_and_return_per_asset_per_template() -> None:
    assets = [
        asset("rf-aaaa", "before_after", job_credits=200),
        asset("rf-bbbb", "before_after", job_credits=400),
        asset("rf-cccc", "lifestyle_story", job_credits=1000),
        asset("rf-dddd", "lifestyle_story", job_credits=None),  # rendered locally: no charge
    ]
    rows = [
        perf("rf-aaaa", "10.00", "40.00"),
        perf("rf-bbbb", "20.00", "50.00"),
        perf("rf-cccc", "30.00", "33.00"),
        perf("rf-dddd", "5.00", "0"),
        perf("rf-unknown", "99.00", "99.00"),  # not ours: left out
    ]
    report = cost_report(assets, rows, price=USD)
    assert report.currency == "USD" and report.credit_price == Decimal("0.01")
    best, other = report.templates
    assert best.template == "before_after"
    assert (best.assets, best.costed, best.credits) == (2, 2, Decimal(600))
    assert best.production_cost == Decimal("6.00")
    assert best.cost_per_asset == Decimal("3.00")
    assert (best.ad_spend, best.revenue) == (Decimal("30.00"), Decimal("90.00"))
    assert best.return_per_asset == Decimal("45.00")
    assert best.net_per_asset == Decimal("27.00")  # (90 - 30 - 6) / 2
    assert best.roas_all_in == pytest.approx(90 / 36)
    assert (other.assets, other.costed, other.cost_per_asset) == (2, 1, Decimal("10.00"))
    assert other.return_per_asset == Decimal("16.50")
    assert other.net_per_asset == Decimal("-7.00")  # only the costed asset: 33 - 30 - 10
    total = report.total
    assert (total.template, total.assets, total.costed) == ("all", 4, 3)
    assert total.production_cost == Decimal("16.00")
    assert total.ad_spend == Decimal("65.00")


def test_spend_in_another_currency_than_credits_is_refused_with_the_fix() -> None:
    rows = [perf("rf-aaaa", "10", "20", currency="EUR")]
    with pytest.raises(BadInput) as raised:
        cost_report([asset("rf-aaaa")], rows, price=USD)
    assert raised.value.where == "currency"
    assert "REELFORGE_CREDIT_CURRENCY" in raised.value.message
    euros = cost_report(
        [asset("rf-aaaa")], rows, price=CreditPrice(price=Decimal("0.009"), currency="EUR")
    )
    assert euros.total.production_cost == Decimal("2.70")
    with pytest.raises(MixedCurrencies):
        cost_report([asset("rf-aaaa")], [*rows, perf("rf-aaaa", "1", "1")], price=USD)


def test_the_credit_price_comes_from_the_settings() -> None:
    def price(env: dict[str, str]) -> CreditPrice:
        return CreditPrice.of(Settings.from_env(env).analytics)

    assert price({}) == CreditPrice(price=Decimal("0.01"), currency="USD")
    env = {"REELFORGE_CREDIT_PRICE": "0.02", "REELFORGE_CREDIT_CURRENCY": "EUR"}
    assert price(env) == CreditPrice(price=Decimal("0.02"), currency="EUR")
    with pytest.raises(BadInput) as raised:
        price({"REELFORGE_CREDIT_PRICE": "-1"})
    assert raised.value.where == "REELFORGE_CREDIT_PRICE"


@pytest.mark.integration
def test_ledger_costs_are_read_per_creative_under_rls(
    store: Store, user_a: uuid.UUID, user_b: uuid.UUID
) -> None:
    data = generate([Arm("before_after", 0.014, 4, (10, 14))])
    first, second, local, failed = data.creatives
    first = first.model_copy(update={"format": "9x16"})
    second = second.model_copy(update={"format": "1x1"})
    job = insert_job(store, user_a, {"9x16": 10.0, "1x1": 20.0}, hold=400, settled=300)
    failed_job = insert_job(store, user_a, {"4x5": 12.0}, hold=200, settled=None)
    insert_creatives(
        store,
        user_a,
        [first, second, local, failed],
        jobs={first.creative_id: job, second.creative_id: job, failed.creative_id: failed_job},
    )
    insert_rows(store, user_a, data.rows)

    costs = {a.creative_id: a for a in Analytics(store).asset_costs(user_id=user_a)}
    assert set(costs) == {c.creative_id for c in data.creatives}
    assert costs[first.creative_id].job_credits == 300
    assert costs[first.creative_id].job_durations == (20.0, 10.0)  # by format: 1x1, 9x16
    assert asset_credits(costs[first.creative_id]) == 100
    assert asset_credits(costs[second.creative_id]) == 200
    assert costs[local.creative_id].job_id is None
    assert asset_credits(costs[local.creative_id]) is None
    assert asset_credits(costs[failed.creative_id]) is None  # released, never charged
    assert Analytics(store).asset_costs(user_id=user_b) == []

    report = cost_report(list(costs.values()), data.rows, price=USD)
    assert report.total.production_cost == Decimal("3.00")
    assert report.total.costed == 2


@pytest.mark.integration
def test_a_preview_never_moves_a_creatives_cost_off_its_final_render(
    store: Store, user_a: uuid.UUID
) -> None:
    (creative,) = generate([Arm("before_after", 0.014, 1, (8, 8))]).creatives
    creative = creative.model_copy(update={"format": "9x16"})

    def record(job: uuid.UUID, *, preview: bool) -> Decimal | None:
        with store.as_service() as conn:
            Analytics(store).record_creatives(
                conn, user_id=user_a, job_id=job, project_id=None, creatives=[creative],
                preview=preview,
            )  # fmt: skip
        (cost,) = Analytics(store).asset_costs(user_id=user_a)
        return asset_credits(cost)

    draft = insert_job(store, user_a, {"9x16": 8.0}, hold=80, settled=80)
    final = insert_job(store, user_a, {"9x16": 8.0}, hold=400, settled=400)
    later = insert_job(store, user_a, {"9x16": 8.0}, hold=80, settled=80)

    assert record(draft, preview=True) == 80  # only ever previewed: the preview's job
    assert record(final, preview=False) == 400  # the final render takes the link
    assert record(later, preview=True) == 400  # a later preview is a draft: the cost stays
