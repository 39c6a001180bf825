"""Contract tests of the Meta Insights and Google Ads API adapters against httpx.MockTransport:
the requests they send and the documented answers (and error bodies) they read."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest

from pipeline.analytics.importers import GoogleAdsApi, MetaInsightsApi, PerformanceSource
from pipeline.creative import CreativeAttributes
from pipeline.providers import CircuitBreaker, ProviderError, ProviderRejected, RetryPolicy
from pipeline.store import Store
from pipeline.store.analytics import Analytics
from tests.api.conftest import *  # noqa: F403
from tests.api.conftest import ApiClient

DATA = Path(__file__).with_name("data")
Auth = Callable[[uuid.UUID], dict[str, str]]

MAY = (date(2024, 5, 1), date(2024, 5, 31))
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """Plays back responses in order and keeps every request."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0)


def _quiet() -> dict[str, Any]:
    return {
        "policy": RetryPolicy(max_attempts=3, base_delay=0, max_delay=0),
        "breaker": CircuitBreaker("test"),
        "sleep": lambda _: None,
    }


def meta(handler: Handler, **kwargs: Any) -> MetaInsightsApi:
    return MetaInsightsApi(
        object_id="act_1234",
        access_token="EAAB-token",
        since=MAY[0],
        until=MAY[1],
        transport=httpx.MockTransport(handler),
        **(_quiet() | kwargs),
    )


NEXT = (
    "https://graph.facebook.com/v25.0/act_1234/insights?access_token=EAAB-token"
    "&fields=ad_name&level=ad&limit=500&after=MjQZD"
)
PAGE_1 = {
    "data": [
        {
            "ad_id": "120210000000001",
            "ad_name": "AUR-ESP-01_product_showcase_9x16_o1_rf-0a1b2c3d4e5f",
            "account_currency": "USD",
            "impressions": "12345",
            "spend": "1234.56",
            "inline_link_clicks": "234",
            "actions": [
                {"action_type": "link_click", "value": "234"},
                {"action_type": "video_view", "value": "4321"},
                {"action_type": "omni_purchase", "value": "12"},
                {"action_type": "purchase", "value": "12"},
            ],
            "action_values": [
                {"action_type": "omni_purchase", "value": "359.88"},
                {"action_type": "purchase", "value": "359.88"},
            ],
            "video_thruplay_watched_actions": [{"action_type": "video_view", "value": "1234"}],
            "date_start": "2024-05-01",
            "date_stop": "2024-05-31",
        }
    ],
    "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}, "next": NEXT},
}
PAGE_2 = {
    "data": [
        {
            "ad_id": "120210000000002",
            "ad_name": "Static image, no id",
            "account_currency": "USD",
            "impressions": "900",
            "spend": "4.5",
            "date_start": "2024-05-01",
            "date_stop": "2024-05-31",
        }
    ],
    "paging": {"cursors": {"before": "MjQZD", "after": "MjUZD"}},
}


def test_meta_asks_for_ad_level_insights_over_the_range_and_follows_paging_next() -> None:
    calls = Recorder(httpx.Response(200, json=PAGE_1), httpx.Response(200, json=PAGE_2))

    report = meta(calls).fetch()

    first, second = calls.requests
    assert first.method == "GET"
    assert first.url.host == "graph.facebook.com"
    assert first.url.path == "/v25.0/act_1234/insights"
    query = {k: v[0] for k, v in parse_qs(first.url.query.decode()).items()}
    assert query["level"] == "ad"
    assert json.loads(query["time_range"]) == {"since": "2024-05-01", "until": "2024-05-31"}
    assert query["time_increment"] == "all_days"
    assert query["access_token"] == "EAAB-token"
    assert {"ad_name", "spend", "impressions", "inline_link_clicks", "actions", "action_values",
            "video_thruplay_watched_actions", "account_currency"} <= set(query["fields"].split(","))  # fmt: skip
    assert "breakdowns" not in query
    assert str(second.url) == NEXT  # the cursor URL as given, token and all
    assert report.source == "meta_api" and len(report.rows) == 2
    assert len(report.digest) == 64


def test_meta_rows_read_actions_values_plays_and_thruplays() -> None:
    report = meta(
        Recorder(httpx.Response(200, json=PAGE_1), httpx.Response(200, json=PAGE_2))
    ).fetch()

    ad, static = report.rows
    assert ad.candidates() == ["rf-0a1b2c3d4e5f"]
    assert (ad.period_start, ad.period_end, ad.currency) == (*MAY, "USD")
    assert (ad.impressions, ad.clicks, ad.spend) == (12345, 234, Decimal("1234.56"))
    assert (ad.purchases, ad.revenue) == (12, Decimal("359.88"))
    assert (ad.video_3s_plays, ad.thruplays) == (4321, 1234)
    # Fields Meta leaves out when there is nothing to count.
    assert (static.clicks, static.purchases, static.revenue) == (0, 0, Decimal(0))
    assert (static.video_3s_plays, static.thruplays) == (None, None)
    assert [r.line for r in report.rows] == [1, 2]
    # The ad id tells apart the ads (campaigns, ad sets) one creative runs in.
    assert (ad.ad_key, static.ad_key) == ("120210000000001", "120210000000002")


def test_meta_daily_rows_by_placement() -> None:
    page = {
        "data": [
            {
                "ad_name": "x rf-0a1b2c3d4e5f",
                "account_currency": "EUR",
                "impressions": "10",
                "spend": "0.10",
                "publisher_platform": "instagram",
                "platform_position": "instagram_reels",
                "date_start": "2024-05-02",
                "date_stop": "2024-05-02",
            }
        ]
    }
    calls = Recorder(httpx.Response(200, json=page))

    (row,) = meta(calls, daily=True, placements=True).fetch().rows

    query = parse_qs(calls.requests[0].url.query.decode())
    assert query["time_increment"] == ["1"]
    assert query["breakdowns"] == ["publisher_platform,platform_position"]
    assert row.placement == "instagram:instagram_reels"
    assert (row.period_start, row.period_end, row.currency) == (
        date(2024, 5, 2),
        date(2024, 5, 2),
        "EUR",
    )


def test_meta_error_body_is_reported_and_not_retried() -> None:
    error = {
        "error": {
            "message": "Invalid OAuth access token - Cannot parse access token",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": "AbCdEf",
        }
    }
    calls = Recorder(httpx.Response(400, json=error))

    with pytest.raises(ProviderRejected, match="Cannot parse access token") as failure:
        meta(calls).fetch()

    assert failure.value.status == 400 and len(calls.requests) == 1
    assert "EAAB-token" not in failure.value.message  # the query (and token) is never shown


def test_meta_server_errors_are_retried() -> None:
    calls = Recorder(
        httpx.Response(500, json={"error": {"message": "An unknown error occurred", "code": 1}}),
        httpx.Response(200, json=PAGE_2),
    )

    assert len(meta(calls).fetch().rows) == 1
    assert len(calls.requests) == 2


@pytest.mark.parametrize(
    "body",
    [{"paging": {}}, {"data": [{"ad_name": "x", "account_currency": "USD"}]}, {"data": ["x"]}],
    ids=["no data", "no dates", "not an object"],
)
def test_meta_answers_of_the_wrong_shape_are_errors(body: dict[str, Any]) -> None:
    with pytest.raises(ProviderError):
        meta(Recorder(httpx.Response(200, json=body))).fetch()


def google(handler: Handler, **kwargs: Any) -> GoogleAdsApi:
    return GoogleAdsApi(
        customer_id="123-456-7890",
        developer_token="dev-token",
        access_token="ya29.token",
        login_customer_id="987-654-3210",
        since=MAY[0],
        until=MAY[1],
        transport=httpx.MockTransport(handler),
        **(_quiet() | kwargs),
    )


STREAM = [
    {
        "results": [
            {
                "customer": {"resourceName": "customers/1234567890", "currencyCode": "USD"},
                "adGroupAd": {
                    "resourceName": "customers/1234567890/adGroupAds/111~222",
                    "ad": {
                        "resourceName": "customers/1234567890/ads/222",
                        "id": "222",
                        "name": "AUR-ESP-01_product_showcase_16x9_o1_rf-2c3d4e5f6071",
                        "finalUrls": ["https://example.com/cup?utm_content=rf-2c3d4e5f6071"],
                    },
                },
                "metrics": {
                    "impressions": "1234",
                    "clicks": "56",
                    "costMicros": "25200000",
                    "conversions": 2.5,
                    "conversionsValue": 74.75,
                    "videoTrueviewViews": "1010",
                },
            }
        ],
        "fieldMask": "customer.currencyCode,adGroupAd.ad.id,adGroupAd.ad.name,metrics.impressions",
        "requestId": "req-1",
    },
    {
        "results": [
            {
                "customer": {"currencyCode": "USD"},
                "adGroupAd": {"ad": {"id": "333", "finalUrls": ["https://example.com/"]}},
                "metrics": {"impressions": "900"},
            }
        ],
        "fieldMask": "customer.currencyCode,adGroupAd.ad.id",
        "requestId": "req-1",
    },
]


def test_google_posts_gaql_to_search_stream_with_the_required_headers() -> None:
    calls = Recorder(httpx.Response(200, json=STREAM))

    report = google(calls).fetch()

    (request,) = calls.requests
    assert request.method == "POST"
    assert str(request.url) == (
        "https://googleads.googleapis.com/v22/customers/1234567890/googleAds:searchStream"
    )
    assert request.headers["developer-token"] == "dev-token"
    assert request.headers["Authorization"] == "Bearer ya29.token"
    assert request.headers["login-customer-id"] == "9876543210"
    assert request.headers["content-type"] == "application/json"
    query = json.loads(request.content)["query"]
    assert "FROM ad_group_ad" in query
    assert "segments.date BETWEEN '2024-05-01' AND '2024-05-31'" in query
    for field in ("ad_group_ad.ad.name", "ad_group_ad.ad.final_urls", "metrics.cost_micros",
                  "metrics.conversions_value", "metrics.video_trueview_views",
                  "customer.currency_code"):  # fmt: skip
        assert field in query
    assert "segments.date," not in query.split("FROM")[0]  # not daily: one row per ad
    assert report.source == "google_api" and len(report.rows) == 2


def test_google_rows_read_micros_int64_strings_and_omitted_zeros() -> None:
    video, bare = google(Recorder(httpx.Response(200, json=STREAM))).fetch().rows

    assert video.candidates() == ["rf-2c3d4e5f6071"]
    assert (video.ad_key, bare.ad_key) == ("222", "333")
    assert video.utm_content == "rf-2c3d4e5f6071"
    assert (video.impressions, video.clicks, video.spend) == (1234, 56, Decimal("25.2"))
    assert (video.purchases, video.revenue, video.thruplays) == (3, Decimal("74.75"), 1010)
    assert (video.period_start, video.period_end, video.currency) == (*MAY, "USD")
    assert (bare.ad_name, bare.clicks, bare.spend, bare.purchases) == ("", 0, Decimal(0), 0)
    assert bare.thruplays is None and bare.candidates() == []


def test_google_daily_rows_use_segments_date() -> None:
    stream = [
        {
            "results": [
                {
                    "customer": {"currencyCode": "EUR"},
                    "adGroupAd": {"ad": {"name": "rf-2c3d4e5f6071"}},
                    "metrics": {"impressions": "5", "costMicros": "10000"},
                    "segments": {"date": "2024-05-07"},
                }
            ]
        }
    ]
    calls = Recorder(httpx.Response(200, json=stream))

    (row,) = google(calls, daily=True).fetch().rows

    assert "segments.date" in json.loads(calls.requests[0].content)["query"].split("FROM")[0]
    assert (row.period_start, row.period_end, row.spend) == (
        date(2024, 5, 7),
        date(2024, 5, 7),
        Decimal("0.01"),
    )


GOOGLE_FAILURE = {
    "error": {
        "code": 400,
        "message": "Request contains an invalid argument.",
        "status": "INVALID_ARGUMENT",
        "details": [
            {
                "@type": "type.googleapis.com/google.ads.googleads.v22.errors.GoogleAdsFailure",
                "errors": [
                    {
                        "errorCode": {"queryError": "UNRECOGNIZED_FIELD"},
                        "message": "Unrecognized field in the query: 'metrics.video_views'.",
                    }
                ],
                "requestId": "req-2",
            }
        ],
    }
}


def test_google_failure_details_are_reported_and_not_retried() -> None:
    calls = Recorder(httpx.Response(400, json=[GOOGLE_FAILURE]))

    with pytest.raises(ProviderRejected) as failure:
        google(calls).fetch()

    assert "Unrecognized field in the query: 'metrics.video_views'." in failure.value.message
    assert failure.value.status == 400 and len(calls.requests) == 1
    assert "ya29.token" not in failure.value.message and "dev-token" not in failure.value.message


def test_google_authentication_failure_without_details_gives_its_message() -> None:
    body = {
        "error": {
            "code": 401,
            "message": "Request is missing required authentication credential.",
            "status": "UNAUTHENTICATED",
        }
    }

    with pytest.raises(ProviderRejected, match="missing required authentication credential"):
        google(Recorder(httpx.Response(401, json=body))).fetch()


def test_google_error_in_the_middle_of_the_stream_fails_the_whole_pull() -> None:
    stream = [STREAM[0], GOOGLE_FAILURE]

    with pytest.raises(ProviderError, match="mid-stream: Unrecognized field"):
        google(Recorder(httpx.Response(200, json=stream))).fetch()


def test_google_rate_limits_are_retried() -> None:
    quota = {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted",
            "status": "RESOURCE_EXHAUSTED",
        }
    }
    calls = Recorder(
        httpx.Response(429, json=quota, headers={"Retry-After": "0"}),
        httpx.Response(200, json=STREAM),
    )

    assert len(google(calls).fetch().rows) == 2
    assert len(calls.requests) == 2


def test_customer_ids_must_be_ten_digits() -> None:
    with pytest.raises(ValueError, match="customer_id"):
        GoogleAdsApi(
            customer_id="12345",
            developer_token="d",
            access_token="a",
            since=MAY[0],
            until=MAY[1],
        )


def test_both_apis_are_performance_sources() -> None:
    sources: list[PerformanceSource] = [
        meta(Recorder(httpx.Response(200, json=PAGE_2))),
        google(Recorder(httpx.Response(200, json=STREAM))),
    ]

    assert [s.fetch().source for s in sources] == ["meta_api", "google_api"]


def test_the_digest_of_an_api_pull_depends_only_on_its_rows() -> None:
    one = meta(Recorder(httpx.Response(200, json=PAGE_2))).fetch()
    two = meta(Recorder(httpx.Response(200, json=PAGE_2))).fetch()

    assert one.digest == two.digest
    assert urlsplit(NEXT).netloc == "graph.facebook.com"


# The HTTPS routes: POST /v1/analytics/imports and GET /v1/creatives.


def _seed(store: Store, user: uuid.UUID) -> None:
    creatives = [
        CreativeAttributes.model_validate(
            {
                "creative_id": cid,
                "sku": "AUR-ESP-01",
                "product": "Aurora Espresso Cup",
                "template": "product_showcase",
                "duration_s": 8.0,
                "duration_bucket": "<15s",
                "palette_colour": "sage green",
                "voice": "on",
                "caption_style": "bold_pop",
                "hook": "Crema stays hot.",
                "format": "9x16",
                "script_option": 1,
                "ad_name": f"AUR-ESP-01_{cid}",
                "landing_url": f"https://example.com/?utm_content={cid}",
            }
        )
        for cid in ("rf-0a1b2c3d4e5f", "rf-1b2c3d4e5f60")
    ]
    with store.as_service() as conn:
        Analytics(store).record_creatives(
            conn, user_id=user, job_id=None, project_id=None, creatives=creatives
        )


@pytest.mark.integration
def test_upload_imports_once_and_a_second_upload_changes_nothing(
    client: ApiClient, auth: Auth, store: Store, user_a: uuid.UUID
) -> None:
    _seed(store, user_a)
    body = (DATA / "meta_usd.csv").read_bytes()
    headers = auth(user_a) | {"Content-Type": "text/csv"}

    first = client.post("/v1/analytics/imports?name=may.csv", content=body, headers=headers)
    second = client.post("/v1/analytics/imports?name=may.csv", content=body, headers=headers)

    assert first.status_code == 201, first.text
    assert first.json() | {"import_id": None} == {
        "import_id": None,
        "source": "meta_csv",
        "rows": 3,
        "imported": 2,
        "updated": 0,
        "unchanged": 0,
        "unmatched": [{"line": 5, "ad_name": "Summer sale static image"}],
    }
    assert (second.json()["imported"], second.json()["unchanged"]) == (0, 2)


@pytest.mark.integration
def test_utf16_upload_with_explicit_source(
    client: ApiClient, auth: Auth, store: Store, user_a: uuid.UUID
) -> None:
    _seed(store, user_a)

    answer = client.post(
        "/v1/analytics/imports?source=meta",
        content=(DATA / "meta_utf16.tsv").read_bytes(),
        headers=auth(user_a) | {"Content-Type": "text/tab-separated-values"},
    )

    assert answer.status_code == 201 and answer.json()["imported"] == 2


@pytest.mark.integration
def test_the_account_currency_is_taken_in_any_case(
    client: ApiClient, auth: Auth, store: Store, user_a: uuid.UUID
) -> None:
    _seed(store, user_a)
    body = b"Ad report\nMay 1, 2024 - May 31, 2024\nAd name,Impr.,Clicks,Cost\nA rf-0a1b2c3d4e5f,1,1,1.00\n"
    headers = auth(user_a) | {"Content-Type": "text/csv"}

    bad = client.post("/v1/analytics/imports?currency=eu", content=body, headers=headers)
    good = client.post("/v1/analytics/imports?currency=eur", content=body, headers=headers)

    assert bad.status_code == 422 and bad.json()["field"] == "currency"
    assert good.status_code == 201, good.text
    assert good.json()["imported"] == 1


@pytest.mark.integration
@pytest.mark.parametrize(
    ("body", "detail", "field"),
    [
        (b"Date,Views\n2024-05-01,1\n", "upload.csv, line 1: unknown report source", "file"),
        (
            b"Reporting starts,Reporting ends,Ad name,Amount spent (USD),Impressions,Link clicks\n"
            b"2024-05-01,2024-05-31,rf-0a1b2c3d4e5f,1.00,10,1\n"
            b"2024-05-01,2024-05-31,rf-1b2c3d4e5f60,1.00,ten,1\n",
            "upload.csv, line 3, column \"Impressions\": 'ten' is not a number",
            "Impressions",
        ),
        ("Ad name;Café\n".encode("cp1252"), "upload.csv, line 1: is not UTF-8 text", "file"),
        (b"", "upload.csv, line 1: is empty", "file"),
    ],
    ids=["unknown source", "non-numeric", "encoding", "empty"],
)
def test_a_bad_upload_is_a_422_problem_naming_line_and_column_and_imports_nothing(
    client: ApiClient,
    auth: Auth,
    store: Store,
    user_a: uuid.UUID,
    admin: psycopg.Connection[tuple[object, ...]],
    body: bytes,
    detail: str,
    field: str,
) -> None:
    _seed(store, user_a)

    answer = client.post(
        "/v1/analytics/imports",
        content=body,
        headers=auth(user_a) | {"Content-Type": "text/csv"},
    )

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["detail"].startswith(detail) and problem["field"] == field
    assert admin.execute("select count(*) from public.ad_performance").fetchone() == (0,)
    assert admin.execute("select count(*) from public.analytics_imports").fetchone() == (0,)


@pytest.mark.integration
def test_creatives_are_listed_for_their_owner_only(
    client: ApiClient, auth: Auth, store: Store, user_a: uuid.UUID, user_b: uuid.UUID
) -> None:
    _seed(store, user_a)

    mine = client.get("/v1/creatives", headers=auth(user_a))
    theirs = client.get("/v1/creatives", headers=auth(user_b))
    nobody = client.get("/v1/creatives")

    assert mine.status_code == 200
    assert sorted(c["creative_id"] for c in mine.json()["creatives"]) == [
        "rf-0a1b2c3d4e5f",
        "rf-1b2c3d4e5f60",
    ]
    assert {"landing_url", "palette_colour", "created_at", "job_id"} <= set(
        mine.json()["creatives"][0]
    )
    assert theirs.json() == {"creatives": []}
    assert nobody.status_code == 401


@pytest.mark.integration
def test_the_routes_are_documented(client: ApiClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    upload = paths["/v1/analytics/imports"]["post"]
    assert set(upload["requestBody"]["content"]) == {"text/csv", "text/tab-separated-values"}
    assert "422" in upload["responses"] and upload["tags"] == ["analytics"]
    assert "get" in paths["/v1/creatives"]


@pytest.mark.integration
def test_a_report_larger_than_other_bodies_is_accepted_up_to_its_own_limit(
    client: ApiClient, auth: Auth, store: Store, user_a: uuid.UUID
) -> None:
    _seed(store, user_a)
    header = "Reporting starts,Reporting ends,Ad name,Amount spent (USD),Impressions,Link clicks\n"
    rows = "".join(
        f"2024-05-{day:02d},2024-05-{day:02d},AUR-ESP-01_rf-0a1b2c3d4e5f ad set {n},1.00,100,1\n"
        for n in range(40)
        for day in range(1, 31)
    )
    body = (header + rows).encode()
    assert len(body) > 64 * 1024  # over the API's general body limit in these tests
    response = client.post(
        "/v1/analytics/imports?name=big.csv",
        content=body,
        headers=auth(user_a) | {"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 1200
    # and a body over the report limit is refused before it is read
    too_big = client.post(
        "/v1/analytics/imports",
        content=b"x" * (32 * 1024 * 1024 + 1),
        headers=auth(user_a) | {"Content-Type": "text/csv"},
    )
    assert too_big.status_code == 413
