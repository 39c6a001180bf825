"""Credits: balance, ledger pages with a cursor, estimates from the price table."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.api.pricing import estimate_cost
from pipeline.formats import Format
from pipeline.store import Store
from pipeline.store.credits import Credits
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.integration

Auth = Callable[[uuid.UUID], dict[str, str]]


def _grant(store: Store, user: uuid.UUID, n: int) -> None:
    for i in range(n):
        Credits(store).adjust(user_id=user, amount=10 + i, reason="grant", idempotency_key=f"g{i}")


def test_balance_is_the_callers_own(
    client: ApiClient, store: Store, user_a: uuid.UUID, user_b: uuid.UUID, auth: Auth
) -> None:
    _grant(store, user_a, 2)
    assert client.get("/v1/credits", headers=auth(user_a)).json() == {"credits": 21}
    assert client.get("/v1/credits", headers=auth(user_b)).json() == {"credits": 0}


def test_ledger_pages_cover_every_entry_once_newest_first(
    client: ApiClient, store: Store, user_a: uuid.UUID, user_b: uuid.UUID, auth: Auth
) -> None:
    _grant(store, user_a, 5)
    _grant(store, user_b, 1)
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/credits/ledger", params=params, headers=auth(user_a)).json()
        seen += [item["delta"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [14, 13, 12, 11, 10]
    assert pages == 3


def test_a_forged_cursor_is_a_422_on_cursor(
    client: ApiClient, user_a: uuid.UUID, auth: Auth
) -> None:
    response = client.get("/v1/credits/ledger", params={"cursor": "!!"}, headers=auth(user_a))
    assert response.status_code == 422
    assert response.json()["field"] == "cursor"


def test_estimate_prices_the_brief_against_the_balance(
    client: ApiClient, store: Store, user_a: uuid.UUID, auth: Auth
) -> None:
    _grant(store, user_a, 1)
    brief = copy.deepcopy(BRIEF_EXAMPLE) | {"duration": 20}
    response = client.post(
        "/v1/estimates", json={"brief": brief, "formats": ["9x16"]}, headers=auth(user_a)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # (20 s + 1 s margin) x 10 credits a second, for one format.
    assert body["credits"] == 210
    assert body["balance"] == 10
    assert body["affordable"] is False
    assert [i["item"] for i in body["items"]] == ["video 9x16"]
    draft = client.post(
        "/v1/estimates",
        json={"brief": brief, "formats": ["9x16"], "preview": True},
        headers=auth(user_a),
    )
    assert draft.json()["credits"] == 42


def test_price_table_counts_started_seconds_and_unique_formats() -> None:
    assert estimate_cost(duration=15, formats=[Format.V9X16, Format.V1X1]).credits == 320
    assert estimate_cost(duration=15.5, formats=[Format.V9X16]).credits == 170
    assert estimate_cost(duration=6, formats=[Format.V9X16, Format.V9X16]).credits == 70
    assert estimate_cost(duration=15, formats=[Format.V9X16], preview=True).credits == 32


def test_the_estimate_is_the_hold_a_worker_takes(tmp_path: Path) -> None:
    from pipeline.worker import estimate_cost as worker_hold
    from pipeline.worker import parse_payload

    (tmp_path / "p.png").write_bytes(b"x")
    brief = copy.deepcopy(BRIEF_EXAMPLE) | {"duration": 23.5}
    brief["product"] = brief["product"] | {"photos": ["p.png"]}
    for formats, preview in ((["9x16"], False), (["9x16", "4x5", "16x9"], True)):
        spec = parse_payload(
            {"brief": brief, "formats": formats, "preview": preview}, base_dir=tmp_path
        )
        api = estimate_cost(duration=23.5, formats=[Format(f) for f in formats], preview=preview)
        assert api.credits == worker_hold(spec)


def test_the_estimate_includes_the_providers_a_render_will_pay_and_is_still_the_hold(
    client: ApiClient, store: Store, user_a: uuid.UUID, auth: Auth,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    from pipeline.worker import estimate_cost as worker_hold
    from pipeline.worker import parse_payload

    monkeypatch.setenv("KLING_ACCESS_KEY", "ak")
    monkeypatch.setenv("KLING_SECRET_KEY", "sk")
    _grant(store, user_a, 1)
    brief = copy.deepcopy(BRIEF_EXAMPLE) | {"duration": 20}
    response = client.post(
        "/v1/estimates", json={"brief": brief, "formats": ["9x16", "4x5"]}, headers=auth(user_a)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    items = {i["item"]: i["credits"] for i in body["items"]}
    assert items.keys() == {"video 9x16", "video 4x5", "providers (clips kling)"}
    assert items["providers (clips kling)"] > 0
    assert body["credits"] == sum(items.values())
    (tmp_path / "p.png").write_bytes(b"x")
    brief["product"] = brief["product"] | {"photos": ["p.png"]}
    spec = parse_payload({"brief": brief, "formats": ["9x16", "4x5"]}, base_dir=tmp_path)
    assert body["credits"] == worker_hold(spec)
