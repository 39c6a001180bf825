"""Generation claims over the API for containers without the database: allowed to a storage
grant that may write the shared provider cache, and nothing else."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from pipeline.api.app import create_app
from pipeline.claims import ClaimError, ClaimsUnavailable
from pipeline.providers.cache import SHARED_PREFIX
from pipeline.providers.granted_claims import GrantedClaims
from pipeline.settings import ServiceSettings, Settings
from pipeline.storage.grant import GRANT_PURPOSE, Grant, sign_grant
from pipeline.storage.granted import GRANT_HEADER
from pipeline.store import Repositories, Store
from pipeline.store.memory import MemoryRepositories
from pipeline.wiring import signing_key
from tests.api.conftest import ApiClient
from tests.live import free_port, serving

KEY = hashlib.sha256(b"a clip").hexdigest()
RENDER = Grant(read=("u1/uploads/", SHARED_PREFIX), write=("work/j1/", SHARED_PREFIX), expires=1)


def _token(settings: Settings, grant: Grant = RENDER, *, ttl: int = 600) -> str:
    fresh = grant.model_copy(update={"expires": int(time.time()) + ttl})
    return sign_grant(fresh, signing_key(settings, GRANT_PURPOSE))


@pytest.mark.integration
def test_a_render_container_claims_through_the_api_with_its_grant(
    store: Store, settings: Settings
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"service": ServiceSettings(public_url=public)})
    with serving(create_app(settings=settings, store=store), port):
        one, two = GrantedClaims(public, _token(settings)), GrantedClaims(public, _token(settings))
        assert one.acquire(KEY, owner="job:a:1", lease_seconds=60)
        assert not two.acquire(KEY, owner="job:b:1", lease_seconds=60)
        assert one.renew(KEY, owner="job:a:1", lease_seconds=60)
        assert not two.renew(KEY, owner="job:b:1", lease_seconds=60)
        assert one.fail(KEY, owner="job:a:1", error="kling: task T1 failed: " + "x" * 5000)
        assert two.acquire(KEY, owner="job:b:1", lease_seconds=60)
        assert not one.finish(KEY, owner="job:a:1")
        assert two.finish(KEY, owner="job:b:1")
        one.close()
        two.close()
    # the same claims the workers use with the database
    assert not Repositories.postgres(store).claims.finish(KEY, owner="job:b:1")


def _memory_client(settings: Settings) -> tuple[ApiClient, MemoryRepositories]:
    repos = MemoryRepositories()
    return ApiClient(create_app(settings=settings, repositories=repos)), repos


@pytest.mark.parametrize(
    "case", ["missing", "forged", "expired", "reads the cache only", "writes its job only"]
)
def test_a_claim_needs_a_grant_that_writes_the_shared_cache(settings: Settings, case: str) -> None:
    client, repos = _memory_client(settings)
    token = {
        "missing": None,
        "forged": _token(settings)[:-2] + "AA",
        "expired": _token(settings, ttl=-1),
        "reads the cache only": _token(settings, Grant(read=(SHARED_PREFIX,), expires=1)),
        "writes its job only": _token(settings, Grant(write=("work/j1/",), expires=1)),
    }[case]
    headers = {} if token is None else {GRANT_HEADER: token}
    for path in ("", "/lease", "/done", "/failed"):
        body = {"owner": "job:a:1", "lease_seconds": 60} if path in ("", "/lease") else {
            "owner": "job:a:1"
        }  # fmt: skip
        refused = client.post(f"/v1/claims/{KEY}{path}", json=body, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert repos._state.claims == {}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("not-a-key", {"owner": "o", "lease_seconds": 60}, "key"),
        (KEY.upper(), {"owner": "o", "lease_seconds": 60}, "key"),
        (KEY, {"owner": "", "lease_seconds": 60}, "owner"),
        (KEY, {"owner": "o", "lease_seconds": 0}, "lease_seconds"),
        (KEY, {"owner": "o", "lease_seconds": 3601}, "lease_seconds"),
        (KEY, {"owner": "o"}, "lease_seconds"),
    ],
)
def test_a_malformed_claim_is_refused_naming_its_field(
    settings: Settings, path: str, body: dict[str, object], field: str
) -> None:
    client, repos = _memory_client(settings)
    refused = client.post(f"/v1/claims/{path}", json=body, headers={GRANT_HEADER: _token(settings)})
    assert refused.status_code == 422, refused.text
    assert field in refused.text
    assert repos._state.claims == {}


def test_the_client_tells_an_outage_from_a_refusal() -> None:
    def answer(status: int) -> GrantedClaims:
        transport = httpx.MockTransport(lambda request: httpx.Response(status, text="no"))
        return GrantedClaims("http://api.test", "g", client=httpx.Client(transport=transport))

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for status in (429, 500, 503):
        with pytest.raises(ClaimsUnavailable, match=str(status)):
            answer(status).acquire(KEY, owner="o", lease_seconds=60)
    with pytest.raises(ClaimsUnavailable, match="network error"):
        GrantedClaims(
            "http://api.test", "g", client=httpx.Client(transport=httpx.MockTransport(down))
        ).renew(KEY, owner="o", lease_seconds=60)
    for status in (403, 422):
        with pytest.raises(ClaimError, match=str(status)) as refused:
            answer(status).finish(KEY, owner="o")
        assert not isinstance(refused.value, ClaimsUnavailable)
