"""The analytics API: the report as JSON and as a PNG chart, the template mix and cost per asset,
each for the caller's own data only, with 422s that name the bad query field."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi import FastAPI
from PIL import Image

from pipeline.analytics.plot import HEIGHT_PX, WIDTH_PX
from pipeline.settings import AnalyticsSettings, Settings
from pipeline.store import Store
from tests.analytics.seed import insert_creatives, insert_job, insert_rows
from tests.analytics.synthetic import generate
from tests.api.conftest import *  # noqa: F403  (app, client, auth and the database fixtures)
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.integration

DATA = generate()
Auth = Callable[[uuid.UUID], dict[str, str]]


@pytest.fixture
def seeded(store: Store, user_a: uuid.UUID) -> uuid.UUID:
    first = DATA.creatives[0]
    job = insert_job(store, user_a, {first.format: first.duration_s}, hold=500, settled=400)
    insert_creatives(store, user_a, DATA.creatives, jobs={first.creative_id: job})
    insert_rows(store, user_a, DATA.rows)
    return user_a


def test_the_report_is_json_ranked_with_thin_data_flagged(
    client: ApiClient, auth: Auth, seeded: uuid.UUID
) -> None:
    response = client.get("/v1/analytics/report?by=template&metric=ctr", headers=auth(seeded))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["by"] == "template" and body["currency"] == "USD"
    assert body["creatives"] == len(DATA.creatives)
    (section,) = body["attributes"]
    groups = {g["value"]: g for g in section["groups"]}
    assert section["groups"][0]["value"] == "before_after"
    assert groups["before_after"]["rank"] == 1
    assert groups["before_after"]["vs_rest"]["excludes_zero"] is True
    ctr = groups["before_after"]["metrics"]["ctr"]
    assert ctr["low"] <= ctr["median"] <= ctr["high"]
    assert groups["unboxing"]["thin"] is True and groups["unboxing"]["rank"] is None
    assert Decimal(body["spend"]) == sum((r.spend for r in DATA.rows), Decimal(0))


def test_without_by_the_report_has_every_attribute(
    client: ApiClient, auth: Auth, seeded: uuid.UUID
) -> None:
    body = client.get("/v1/analytics/report", headers=auth(seeded)).json()
    assert [s["attribute"] for s in body["attributes"]] == [
        "template", "duration_bucket", "palette_colour", "voice", "format", "hook",
    ]  # fmt: skip


def test_the_chart_is_a_png(client: ApiClient, auth: Auth, seeded: uuid.UUID) -> None:
    response = client.get(
        "/v1/analytics/report.png?by=duration_bucket&metric=hook_rate", headers=auth(seeded)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "PNG" and image.size == (WIDTH_PX, HEIGHT_PX)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/analytics/report?by=colourway", "by"),
        ("/v1/analytics/report?metric=likes", "metric"),
        ("/v1/analytics/report.png?by=colourway", "by"),
        ("/v1/analytics/report.png?metric=likes", "metric"),
        ("/v1/analytics/report?currency=us", "currency"),
        ("/v1/analytics/costs?currency=usd1", "currency"),
        ("/v1/analytics/recommendation?variants=2&currency=%E2%82%AC", "currency"),
        ("/v1/analytics/recommendation?variants=0", "variants"),
        ("/v1/analytics/recommendation", "variants"),
    ],
)
def test_a_bad_query_is_a_422_naming_the_field(
    client: ApiClient, auth: Auth, user_a: uuid.UUID, url: str, field: str
) -> None:
    response = client.get(url, headers=auth(user_a))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field


def test_mixed_currencies_are_a_422_on_currency(
    client: ApiClient, auth: Auth, store: Store, seeded: uuid.UUID
) -> None:
    euros = generate(seed=5, currency="EUR")
    insert_creatives(store, seeded, euros.creatives)
    insert_rows(store, seeded, euros.rows)
    response = client.get("/v1/analytics/report", headers=auth(seeded))
    assert response.status_code == 422
    assert response.json()["field"] == "currency"
    assert "EUR, USD" in response.json()["detail"]
    chosen = client.get("/v1/analytics/report?currency=EUR", headers=auth(seeded)).json()
    assert chosen["currency"] == "EUR" and chosen["creatives"] == len(euros.creatives)
    # A currency is taken in any case, as the CLI takes it.
    lower = client.get("/v1/analytics/report?currency=eur", headers=auth(seeded))
    assert lower.status_code == 200, lower.text
    assert lower.json()["currency"] == "EUR"
    for url in ("/v1/analytics/report.png?currency=usd", "/v1/analytics/costs?currency=usd",
                "/v1/analytics/recommendation?variants=2&currency=usd"):  # fmt: skip
        assert client.get(url, headers=auth(seeded)).status_code == 200, url


def test_a_token_is_required(client: ApiClient) -> None:
    for url in ("/v1/analytics/report", "/v1/analytics/report.png", "/v1/analytics/costs"):
        assert client.get(url).status_code == 401


def test_another_user_sees_none_of_it(
    client: ApiClient, auth: Auth, seeded: uuid.UUID, user_b: uuid.UUID
) -> None:
    body = client.get("/v1/analytics/report?by=template", headers=auth(user_b)).json()
    assert body["creatives"] == 0 and body["attributes"][0]["groups"] == []
    costs = client.get("/v1/analytics/costs", headers=auth(user_b)).json()
    assert costs["total"]["assets"] == 0


def test_the_recommendation_favours_the_better_template(
    client: ApiClient, auth: Auth, seeded: uuid.UUID
) -> None:
    response = client.get("/v1/analytics/recommendation?variants=10", headers=auth(seeded))
    assert response.status_code == 200, response.text
    body = response.json()
    first = body["templates"][0]
    assert first["template"] == "before_after" and first["variants"] >= 7
    assert first["reason"].startswith(f"before_after: {first['variants']} of 10")
    assert sum(t["variants"] for t in body["templates"]) == 10
    explored = client.get(
        "/v1/analytics/recommendation?variants=10&all_templates=true", headers=auth(seeded)
    ).json()
    untested = next(t for t in explored["templates"] if t["template"] == "testimonial")
    assert untested["competing"] is False and "no data yet" in untested["reason"]


def test_costs_split_the_ledger_charge_and_use_the_credit_price(
    app: FastAPI, client: ApiClient, auth: Auth, seeded: uuid.UUID
) -> None:
    body = client.get("/v1/analytics/costs", headers=auth(seeded)).json()
    assert body["currency"] == "USD"
    assert body["total"]["assets"] == len(DATA.creatives)
    assert body["total"]["costed"] == 1
    assert Decimal(body["total"]["production_cost"]) == Decimal("4.00")  # 400 credits x 0.01
    settings: Settings = app.state.settings
    analytics = AnalyticsSettings.from_env({"REELFORGE_CREDIT_PRICE": "0.05"})
    app.state.settings = settings.model_copy(update={"analytics": analytics})
    priced = client.get("/v1/analytics/costs", headers=auth(seeded)).json()
    assert Decimal(priced["total"]["production_cost"]) == Decimal("20.00")
