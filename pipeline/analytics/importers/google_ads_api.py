"""Google Ads API (REST): ad-level metrics by GAQL through ``googleAds:searchStream``.

``POST https://googleads.googleapis.com/{version}/customers/{id}/googleAds:searchStream`` with
headers ``developer-token``, ``Authorization: Bearer`` and, through a manager account,
``login-customer-id``. The answer is a JSON array of batches, each with ``results``: rows in
lowerCamelCase (``adGroupAd.ad.name``, ``metrics.costMicros``), int64 values as strings, and
fields at their default value (0, "") left out. Cost is in micros of the account currency;
conversions may be fractional and are rounded to whole purchases; TrueView views (30 s or to the
end, ``video_trueview_views`` since v22) stand in for thruplays.

A failure answers ``{"error": {"message", "status", "details": [{"errors": [{"message"}]}]}}``
(inside the array when it happens mid-stream); the GoogleAdsFailure messages are reported.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx

from pipeline.analytics.importers.base import Report, ReportRow, utm_content_of
from pipeline.analytics.model import Source
from pipeline.providers import CircuitBreaker, ProviderClient, ProviderError, RetryPolicy
from pipeline.providers.http import DEFAULT_TIMEOUT

__all__ = ["ADS_URL", "GoogleAdsApi", "gaql"]

ADS_URL = "https://googleads.googleapis.com"
API_VERSION = "v22"
NAME = "google_ads"
_MICROS = Decimal(1_000_000)


def gaql(since: date, until: date, *, daily: bool) -> str:
    """The query: one row per ad (and per day with ``daily``) over the range."""
    fields = [
        "customer.currency_code",
        "ad_group_ad.ad.id",
        "ad_group_ad.ad.name",
        "ad_group_ad.ad.final_urls",
        "ad_group_ad.ad.final_url_suffix",
        "metrics.impressions",
        "metrics.clicks",
        "metrics.cost_micros",
        "metrics.conversions",
        "metrics.conversions_value",
        "metrics.video_trueview_views",
    ]
    if daily:
        fields.append("segments.date")
    return (
        f"SELECT {', '.join(fields)} FROM ad_group_ad "
        f"WHERE segments.date BETWEEN '{since.isoformat()}' AND '{until.isoformat()}'"
    )


def _digits(customer_id: str, what: str) -> str:
    digits = customer_id.replace("-", "").strip()
    if not re.fullmatch(r"\d{10}", digits):
        raise ValueError(f"{what} must be 10 digits (dashes allowed), got {customer_id!r}")
    return digits


def failure_message(body: Any) -> str | None:
    """The specific messages of a Google Ads error body, else its top-level message."""
    if isinstance(body, list):
        body = next((b for b in body if isinstance(b, dict) and "error" in b), None)
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    found = [
        str(e["message"])
        for detail in error.get("details") or []
        if isinstance(detail, dict)
        for e in detail.get("errors") or []
        if isinstance(e, dict) and e.get("message")
    ]
    if found:
        return "; ".join(found)
    return str(error.get("message") or error.get("status") or "") or None


class GoogleAdsApi:
    """Ad-level metrics of one Google Ads customer over ``since``..``until``: a ``PerformanceSource``."""

    source: Source = "google_api"

    def __init__(
        self,
        *,
        customer_id: str,
        developer_token: str,
        access_token: str,
        since: date,
        until: date,
        login_customer_id: str | None = None,
        daily: bool = False,
        api_version: str = API_VERSION,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if until < since:
            raise ValueError("until is before since")
        self.customer_id = _digits(customer_id, "customer_id")
        self.login_customer_id = (
            _digits(login_customer_id, "login_customer_id") if login_customer_id else None
        )
        self.since, self.until, self.daily = since, until, daily
        self.api_version = api_version
        self._developer_token = developer_token
        self._token = access_token
        self._failure: str | None = None
        self._http = ProviderClient(
            NAME,
            httpx.Client(
                transport=transport,
                timeout=DEFAULT_TIMEOUT,
                event_hooks={"response": [self._keep_failure]},
            ),
            policy=policy,
            breaker=breaker,
            sleep=sleep,
        )

    def close(self) -> None:
        self._http.client.close()

    def _keep_failure(self, response: httpx.Response) -> None:
        # The shared client reports only the top-level message ("Request contains an invalid
        # argument."); what went wrong is in the GoogleAdsFailure details.
        if response.status_code >= 400:
            response.read()
            try:
                self._failure = failure_message(response.json())
            except ValueError:
                self._failure = None

    @property
    def url(self) -> str:
        return f"{ADS_URL}/{self.api_version}/customers/{self.customer_id}/googleAds:searchStream"

    def headers(self) -> dict[str, str]:
        headers = {
            "developer-token": self._developer_token,
            "Authorization": f"Bearer {self._token}",
        }
        if self.login_customer_id:
            headers["login-customer-id"] = self.login_customer_id
        return headers

    def fetch(self) -> Report:
        query = gaql(self.since, self.until, daily=self.daily)
        self._failure = None
        try:
            body = self._http.json("POST", self.url, json={"query": query}, headers=self.headers())
        except ProviderError as exc:
            if self._failure is None:
                raise
            raise type(exc)(
                NAME,
                f"{self.url.removeprefix(ADS_URL)} failed (HTTP {exc.status}): {self._failure}",
                status=exc.status,
                provider_message=self._failure,
                retry_after=exc.retry_after,
            ) from exc
        batches = body if isinstance(body, list) else [body]
        problem = failure_message(batches)
        if problem:
            raise ProviderError(NAME, f"searchStream failed mid-stream: {problem}")
        rows: list[ReportRow] = []
        for batch in batches:
            if not isinstance(batch, dict):
                raise ProviderError(NAME, "searchStream batch is not an object")
            for item in batch.get("results") or []:
                rows.append(self._row(item, position=len(rows) + 1))
        canonical = json.dumps([r.model_dump(mode="json") for r in rows], sort_keys=True)
        return Report(
            source=self.source,
            name=f"google ads {self.customer_id} {self.since}..{self.until}",
            digest=hashlib.sha256(canonical.encode()).hexdigest(),
            rows=tuple(rows),
        )

    def _row(self, item: Any, *, position: int) -> ReportRow:
        if not isinstance(item, dict):
            raise ProviderError(NAME, f"searchStream row {position} is not an object")
        ad = (item.get("adGroupAd") or {}).get("ad") or {}
        metrics = item.get("metrics") or {}
        currency = str((item.get("customer") or {}).get("currencyCode") or "").upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise ProviderError(NAME, f"searchStream row {position} has no customer.currencyCode")
        day = (item.get("segments") or {}).get("date")
        try:
            start = end = date.fromisoformat(day) if day else None
        except (TypeError, ValueError):
            raise ProviderError(
                NAME, f"searchStream row {position}: bad segments.date {day!r}"
            ) from None
        urls = [str(u) for u in ad.get("finalUrls") or []] + [str(ad.get("finalUrlSuffix") or "")]
        utm = next((v for v in map(utm_content_of, urls) if v), "")
        views = metrics.get("videoTrueviewViews")
        return ReportRow(
            line=position,
            ad_name=str(ad.get("name") or ""),
            utm_content=utm,
            period_start=start or self.since,
            period_end=end or self.until,
            ad_key=str(ad.get("id") or ""),
            currency=currency,
            impressions=int(_number(metrics.get("impressions", 0), "impressions", whole=True)),
            clicks=int(_number(metrics.get("clicks", 0), "clicks", whole=True)),
            spend=_number(metrics.get("costMicros", 0), "costMicros", whole=True) / _MICROS,
            purchases=int(
                _number(metrics.get("conversions", 0), "conversions").quantize(
                    Decimal(1), rounding=ROUND_HALF_UP
                )
            ),
            revenue=_number(metrics.get("conversionsValue", 0), "conversionsValue"),
            thruplays=int(_number(views, "videoTrueviewViews", whole=True))
            if views is not None
            else None,
        )


def _number(value: Any, what: str, *, whole: bool = False) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ProviderError(NAME, f"metrics.{what} is not a number: {value!r}") from None
    if not number.is_finite() or number < 0 or (whole and number != number.to_integral_value()):
        raise ProviderError(
            NAME, f"metrics.{what} is not a {'count' if whole else 'value'}: {value!r}"
        )
    return number
