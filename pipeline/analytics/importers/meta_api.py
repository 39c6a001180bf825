"""Meta Marketing API Insights at ad level: ``GET /{object-id}/insights``, page by page.

The object is an ad, ad set, campaign or ad account (``act_<id>``); ``level=ad`` gives one row per
ad (and per day with ``daily``, per platform and position with ``placements``). Numbers arrive as
strings; purchases and their value are the ``purchase`` entries of ``actions`` and
``action_values`` (``omni_purchase`` when there is none), 3-second plays the ``video_view`` entry of
``actions``, ThruPlays the ``video_thruplay_watched_actions`` list. Pages follow ``paging.next``.
Insights carry the ad name, not its URL, so rows join to creatives by the id in the ad name;
``ad_id`` tells apart the ads one creative runs in.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from pipeline.analytics.importers.base import Report, ReportRow
from pipeline.analytics.model import Source
from pipeline.providers import CircuitBreaker, ProviderClient, ProviderError, RetryPolicy
from pipeline.providers.http import DEFAULT_TIMEOUT

__all__ = ["GRAPH_URL", "INSIGHT_FIELDS", "MetaInsightsApi"]

GRAPH_URL = "https://graph.facebook.com"
API_VERSION = "v25.0"
INSIGHT_FIELDS = (
    "ad_id",
    "ad_name",
    "account_currency",
    "impressions",
    "spend",
    "inline_link_clicks",
    "actions",
    "action_values",
    "video_thruplay_watched_actions",
)
_PURCHASE = ("purchase", "omni_purchase", "offsite_conversion.fb_pixel_purchase")
_MAX_PAGES = 1000
NAME = "meta_insights"


class MetaInsightsApi:
    """Ad-level insights of one Meta object over ``since``..``until``: a ``PerformanceSource``."""

    source: Source = "meta_api"

    def __init__(
        self,
        *,
        object_id: str,
        access_token: str,
        since: date,
        until: date,
        daily: bool = False,
        placements: bool = False,
        api_version: str = API_VERSION,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if until < since:
            raise ValueError("until is before since")
        self.object_id = object_id
        self.since, self.until = since, until
        self.daily, self.placements = daily, placements
        self.api_version = api_version
        self._token = access_token
        self._http = ProviderClient(
            NAME,
            httpx.Client(transport=transport, timeout=DEFAULT_TIMEOUT),
            policy=policy,
            breaker=breaker,
            sleep=sleep,
        )

    def close(self) -> None:
        self._http.client.close()

    def params(self) -> dict[str, str]:
        """The query of the first page (the token included)."""
        params = {
            "level": "ad",
            "fields": ",".join(INSIGHT_FIELDS),
            "time_range": json.dumps(
                {"since": self.since.isoformat(), "until": self.until.isoformat()},
                separators=(",", ":"),
            ),
            "time_increment": "1" if self.daily else "all_days",
            "limit": "500",
            "access_token": self._token,
        }
        if self.placements:
            params["breakdowns"] = "publisher_platform,platform_position"
        return params

    def _pages(self) -> Iterator[list[dict[str, Any]]]:
        url: str | None = f"{GRAPH_URL}/{self.api_version}/{self.object_id}/insights"
        params: dict[str, str] | None = self.params()
        for _ in range(_MAX_PAGES):
            if url is None:
                return
            body = self._http.json("GET", url, params=params)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise ProviderError(NAME, "insights answer has no data list")
            yield body["data"]
            paging = body.get("paging")
            # ``next`` is a full URL carrying every parameter, the token and the cursor.
            url = paging.get("next") if isinstance(paging, dict) else None
            params = None
        raise ProviderError(NAME, f"insights answer has more than {_MAX_PAGES} pages")

    def fetch(self) -> Report:
        rows: list[ReportRow] = []
        for page in self._pages():
            for item in page:
                rows.append(_row(item, position=len(rows) + 1))
        canonical = json.dumps([r.model_dump(mode="json") for r in rows], sort_keys=True)
        return Report(
            source=self.source,
            name=f"meta insights {self.object_id} {self.since}..{self.until}",
            digest=hashlib.sha256(canonical.encode()).hexdigest(),
            rows=tuple(rows),
        )


def _count(value: Any, what: str) -> int:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ProviderError(NAME, f"insights field {what} is not a number: {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ProviderError(NAME, f"insights field {what} is not a count: {value!r}")
    return int(number)


def _money(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ProviderError(NAME, f"insights field {what} is not a number: {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ProviderError(NAME, f"insights field {what} is not an amount: {value!r}")
    return number


def _actions(item: dict[str, Any], field: str) -> dict[str, str]:
    entries = item.get(field) or []
    if not isinstance(entries, list):
        raise ProviderError(NAME, f"insights field {field} is not a list")
    return {str(e.get("action_type")): e.get("value", "0") for e in entries if isinstance(e, dict)}


def _first(actions: dict[str, str], types: tuple[str, ...]) -> str | None:
    return next((actions[t] for t in types if t in actions), None)


def _row(item: Any, *, position: int) -> ReportRow:
    if not isinstance(item, dict):
        raise ProviderError(NAME, f"insights row {position} is not an object")
    try:
        start = date.fromisoformat(str(item["date_start"]))
        end = date.fromisoformat(str(item["date_stop"]))
    except (KeyError, ValueError):
        raise ProviderError(NAME, f"insights row {position} has no date_start/date_stop") from None
    actions = _actions(item, "actions")
    values = _actions(item, "action_values")
    thru = item.get("video_thruplay_watched_actions")
    purchases = _first(actions, _PURCHASE)
    revenue = _first(values, _PURCHASE)
    plays = actions.get("video_view")
    currency = str(item.get("account_currency") or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ProviderError(NAME, f"insights row {position} has no account_currency")
    placement = ":".join(
        str(item[k]).lower() for k in ("publisher_platform", "platform_position") if item.get(k)
    )
    return ReportRow(
        line=position,
        ad_name=str(item.get("ad_name") or ""),
        period_start=start,
        period_end=end,
        placement=placement,
        ad_key=str(item.get("ad_id") or ""),
        currency=currency,
        impressions=_count(item.get("impressions", 0), "impressions"),
        clicks=_count(item.get("inline_link_clicks", 0), "inline_link_clicks"),
        spend=_money(item.get("spend", 0), "spend"),
        purchases=_count(purchases, "actions[purchase]") if purchases is not None else 0,
        revenue=_money(revenue, "action_values[purchase]") if revenue is not None else Decimal(0),
        video_3s_plays=_count(plays, "actions[video_view]") if plays is not None else None,
        thruplays=sum(
            _count(v, "video_thruplay_watched_actions")
            for v in _actions(item, "video_thruplay_watched_actions").values()
        )
        if thru is not None
        else None,
    )
