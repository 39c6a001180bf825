"""``reelforge analytics pull-meta`` and ``pull-google``: API pulls into the same idempotent import."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.store import Store
from tests.analytics.test_import_api import PAGE_1, PAGE_2, _seed
from tests.store.conftest import *  # noqa: F403

pytestmark = pytest.mark.integration

Admin = psycopg.Connection[tuple[object, ...]]


class Api:
    def __init__(self, *bodies: dict[str, Any] | list[Any]) -> None:
        self.bodies = list(bodies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=self.bodies[min(len(self.requests), len(self.bodies)) - 1])


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, db_uri: str) -> None:
    monkeypatch.setenv("DATABASE_URL", db_uri)
    monkeypatch.setenv("COLUMNS", "200")


def _use(monkeypatch: pytest.MonkeyPatch, api: Api) -> None:
    monkeypatch.setattr("pipeline.cli.analytics._transport", lambda: httpx.MockTransport(api))


def test_pull_meta_imports_matched_rows_once_and_reports_the_rest(
    env: None, monkeypatch: pytest.MonkeyPatch, store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    _seed(store, user_a)
    monkeypatch.setenv("META_ACCESS_TOKEN", "EAAB-token")
    runner = CliRunner()
    args = ["analytics", "pull-meta", "--object", "act_1234", "--since", "2024-05-01",
            "--until", "2024-05-31", "--user", str(user_a)]  # fmt: skip
    api = Api(PAGE_1, PAGE_2)
    _use(monkeypatch, api)
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "2 rows from meta_api: imported 1, updated 0, unchanged 0, unmatched 1" in first.output
    assert "Static image, no id" in first.output
    assert api.requests[0].url.params["access_token"] == "EAAB-token"
    assert json.loads(api.requests[0].url.params["time_range"]) == {
        "since": "2024-05-01",
        "until": "2024-05-31",
    }
    _use(monkeypatch, Api(PAGE_1, PAGE_2))
    again = runner.invoke(app, args)
    assert "imported 0, updated 0, unchanged 1, unmatched 1" in again.output
    assert admin.execute(
        "select creative_id, impressions, source from public.ad_performance where user_id = %s",
        (user_a,),
    ).fetchall() == [("rf-0a1b2c3d4e5f", 12345, "meta_api")]


def test_pull_google_needs_its_tokens_and_valid_dates(
    env: None, monkeypatch: pytest.MonkeyPatch, user_a: uuid.UUID
) -> None:
    monkeypatch.delenv("GOOGLE_ADS_DEVELOPER_TOKEN", raising=False)
    monkeypatch.setenv("GOOGLE_ADS_ACCESS_TOKEN", "ya29.token")
    runner = CliRunner()
    base = ["analytics", "pull-google", "--customer", "1234567890", "--user", str(user_a)]
    missing = runner.invoke(app, [*base, "--since", "2024-05-01", "--until", "2024-05-31"])
    assert missing.exit_code == 2
    assert "GOOGLE_ADS_DEVELOPER_TOKEN: is not set" in missing.output
    monkeypatch.setenv("GOOGLE_ADS_DEVELOPER_TOKEN", "dev-token")
    backwards = runner.invoke(app, [*base, "--since", "2024-05-31", "--until", "2024-05-01"])
    assert backwards.exit_code == 2 and "--until: is before --since" in backwards.output
    bad = runner.invoke(app, [*base, "--since", "May 1", "--until", "2024-05-31"])
    assert bad.exit_code == 2 and "--since: must be a date" in bad.output


def test_pull_google_posts_gaql_and_imports(
    env: None, monkeypatch: pytest.MonkeyPatch, store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    _seed(store, user_a)
    monkeypatch.setenv("GOOGLE_ADS_DEVELOPER_TOKEN", "dev-token")
    monkeypatch.setenv("GOOGLE_ADS_ACCESS_TOKEN", "ya29.token")
    stream = [{
        "results": [{
            "customer": {"currencyCode": "EUR"},
            "adGroupAd": {"ad": {"id": "1", "name": "AUR-ESP-01_rf-1b2c3d4e5f60", "finalUrls": ["https://example.com/"]}},
            "metrics": {"impressions": "5000", "clicks": "80", "costMicros": "12500000", "conversions": 3.0, "conversionsValue": 90.5},
            "segments": {"date": "2024-05-01"},
        }],
        "fieldMask": "customer.currencyCode,adGroupAd.ad.id,adGroupAd.ad.name,metrics.impressions",
    }]  # fmt: skip
    api = Api(stream)
    _use(monkeypatch, api)
    result = CliRunner().invoke(app, ["analytics", "pull-google", "--customer", "123-456-7890",
                                      "--since", "2024-05-01", "--until", "2024-05-31", "--user", str(user_a)])  # fmt: skip
    assert result.exit_code == 0, result.output
    request = api.requests[0]
    assert request.url.path.endswith("/customers/1234567890/googleAds:searchStream")
    assert request.headers["developer-token"] == "dev-token"
    assert request.headers["authorization"] == "Bearer ya29.token"
    assert "imported 1" in result.output
    assert admin.execute(
        "select creative_id, impressions, spend::text, currency from public.ad_performance where user_id = %s",
        (user_a,),
    ).fetchall() == [("rf-1b2c3d4e5f60", 5000, "12.5", "EUR")]
