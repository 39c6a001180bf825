"""Credits: balance, ledger pages with a cursor, estimates from the price table."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable

import pytest

from pipeline.api.app import create_app
from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.formats import Format
from pipeline.pricing import Estimate, video_items
from pipeline.render import Ports
from pipeline.settings import ProviderSettings, Settings
from pipeline.store import Repositories, Store
from pipeline.store.credits import Credits
from pipeline.voice import FakeVoice
from pipeline.wiring import blob_store
from pipeline.worker import JobContext, run_job
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


def _video(duration: float, formats: list[Format], preview: bool = False) -> int:
    return Estimate.of(video_items(duration=duration, formats=formats, preview=preview)).credits


def test_price_table_counts_started_seconds_and_unique_formats() -> None:
    assert _video(15, [Format.V9X16, Format.V1X1]) == 320
    assert _video(15.5, [Format.V9X16]) == 170
    assert _video(6, [Format.V9X16, Format.V9X16]) == 70
    assert _video(15, [Format.V9X16], preview=True) == 32


@pytest.mark.parametrize("providers", [{}, {"KLING_ACCESS_KEY": "ak", "KLING_SECRET_KEY": "sk"}])
def test_the_estimate_is_the_hold_a_job_takes(
    client: ApiClient, store: Store, user_a: uuid.UUID, auth: Auth, settings: Settings,
    upload_photo: Callable[[uuid.UUID], str], providers: dict[str, str],
) -> None:  # fmt: skip
    """What /v1/estimates answers is what job creation checks against the balance and what the
    worker holds: one function prices all three."""
    settings = settings.model_copy(update={"providers": ProviderSettings.from_env(providers)})
    app = create_app(settings=settings, store=store)
    api = ApiClient(app)
    _grant(store, user_a, 100)
    brief = copy.deepcopy(BRIEF_EXAMPLE) | {"duration": 20}
    brief["product"] = brief["product"] | {"photos": [upload_photo(user_a)]}
    body = {"brief": brief, "formats": ["9x16", "4x5"]}
    estimated = api.post("/v1/estimates", json=body, headers=auth(user_a)).json()
    items = {i["item"]: i["credits"] for i in estimated["items"]}
    assert set(items) >= {"video 9x16", "video 4x5"}
    assert ("providers (clips kling)" in items) == bool(providers)
    project = api.post("/v1/projects", json=brief, headers=auth(user_a)).json()
    job = api.post(
        f"/v1/projects/{project['id']}/jobs", json={"formats": ["9x16", "4x5"]},
        headers=auth(user_a) | {"Idempotency-Key": str(uuid.uuid4())},
    ).json()  # fmt: skip
    repos = Repositories.postgres(store)
    claimed = repos.jobs.claim(worker="w1")
    assert claimed is not None and str(claimed.id) == job["id"]
    context = JobContext(
        repos=repos, settings=settings, blobs=blob_store(settings), worker="w1",
        ports=lambda request, runtime: Ports(voice=FakeVoice()),  # offline: nothing is paid
    )  # fmt: skip
    assert run_job(context, claimed).state == "delivered"
    done = api.get(f"/v1/jobs/{job['id']}", headers=auth(user_a)).json()
    assert done["cost"]["held"] == estimated["credits"]
