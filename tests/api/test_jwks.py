"""Supabase's JWKS endpoint behind the token verifier: keys fetched in Supabase's shape (ES256,
``key_ops: ["verify"]``), cached, refreshed after a rotation, rate-limited against forged kids,
and a static SUPABASE_JWKS that needs no network."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pipeline.api.auth import InvalidToken, TokenVerifier
from pipeline.errors import BadInput
from pipeline.settings import ApiSettings, Settings, supabase_jwks_url
from tests.api.conftest import ISSUER, claims_for

SUPABASE_URL = "https://abcdefghijklmnop.supabase.co"
JWKS_URL = SUPABASE_URL + "/auth/v1/.well-known/jwks.json"


def supabase_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    """A public key as Supabase Auth publishes it."""
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "alg": "ES256", "ext": True, "key_ops": ["verify"], "kid": kid}


@dataclass
class SupabaseAuth:
    """The project's JWKS endpoint: serves ``keys``, counts requests, may be down."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    down: bool = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            return httpx.Response(503, json={"message": "unavailable"})
        if request.method != "GET" or str(request.url) != JWKS_URL:
            return httpx.Response(404)
        return httpx.Response(
            200, json={"keys": self.keys}, headers={"cache-control": "max-age=600"}
        )


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def _token(key: ec.EllipticCurvePrivateKey, kid: str, user: uuid.UUID) -> str:
    return jwt.encode(claims_for(user), key, algorithm="ES256", headers={"kid": kid})


def _verifier(auth: SupabaseAuth, clock: Clock, **settings: Any) -> TokenVerifier:
    api = ApiSettings(issuer=ISSUER, jwks_url=JWKS_URL, **settings)
    return TokenVerifier(api, jwks_transport=httpx.MockTransport(auth.handle), clock=clock)


def test_a_key_published_by_a_rotation_is_accepted_after_one_refresh() -> None:
    current, standby = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    auth, clock = SupabaseAuth(keys=[supabase_jwk(current, "k1")]), Clock()
    verifier, user = _verifier(auth, clock), uuid.uuid4()

    assert verifier.verify(_token(current, "k1", user)) == user
    assert verifier.verify(_token(current, "k1", user)) == user  # cached: no second request
    auth.keys.append(supabase_jwk(standby, "k2"))  # Supabase rotates
    clock.now += 31
    assert verifier.verify(_token(standby, "k2", user)) == user

    assert len(auth.requests) == 2
    assert [str(r.url) for r in auth.requests] == [JWKS_URL, JWKS_URL]


def test_forged_kids_cause_at_most_one_refresh_per_interval() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    auth, clock = SupabaseAuth(keys=[supabase_jwk(key, "k1")]), Clock()
    verifier = _verifier(auth, clock)
    assert verifier.verify(_token(key, "k1", uuid.uuid4()))

    for second in range(60):  # a flood: 20 forged kids a second for a minute
        clock.now += 1
        for n in range(20):
            with pytest.raises(InvalidToken, match="signing key is unknown"):
                verifier.verify(_token(key, f"forged-{second}-{n}", uuid.uuid4()))

    # The first fetch, then one refresh each time 30 s had passed since the last one.
    assert len(auth.requests) == 1 + 2


def test_a_removed_key_stops_working_once_the_cache_is_ten_minutes_old() -> None:
    old, new = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    auth, clock = SupabaseAuth(keys=[supabase_jwk(old, "old")]), Clock()
    verifier, user = _verifier(auth, clock), uuid.uuid4()
    assert verifier.verify(_token(old, "old", user)) == user

    auth.keys = [supabase_jwk(new, "new")]  # the old key is revoked
    clock.now += 599
    assert verifier.verify(_token(old, "old", user)) == user
    clock.now += 1
    with pytest.raises(InvalidToken, match="signing key is unknown"):
        verifier.verify(_token(old, "old", user))
    assert len(auth.requests) == 2


def test_an_unreachable_endpoint_keeps_the_keys_held_and_is_not_hammered() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    auth, clock = SupabaseAuth(keys=[supabase_jwk(key, "k1")]), Clock()
    verifier, user = _verifier(auth, clock), uuid.uuid4()
    assert verifier.verify(_token(key, "k1", user)) == user

    auth.down = True
    clock.now += 700  # stale, and Supabase is down
    for _ in range(10):
        assert verifier.verify(_token(key, "k1", user)) == user
    assert len(auth.requests) == 2


def test_a_static_jwks_works_offline_beside_the_endpoint() -> None:
    key = ec.generate_private_key(ec.SECP256R1())

    def offline(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request expected, got {request.url}")

    static = {"keys": [supabase_jwk(key, "static")]}
    with_url = TokenVerifier(
        ApiSettings(issuer=ISSUER, jwks=static, jwks_url=JWKS_URL),
        jwks_transport=httpx.MockTransport(offline),
    )
    without_url = TokenVerifier(ApiSettings(issuer=ISSUER, jwks=static))
    user = uuid.uuid4()

    assert with_url.verify(_token(key, "static", user)) == user
    assert without_url.verify(_token(key, "static", user)) == user
    assert without_url.remote is None


def test_keys_of_other_kinds_in_the_set_are_skipped() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    auth, clock = SupabaseAuth(), Clock()
    auth.keys = [
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hs", "alg": "HS256"},
        {**supabase_jwk(key, "enc"), "use": "enc"},
        {"kty": "EC", "kid": "broken"},
        supabase_jwk(key, "good"),
    ]
    verifier, user = _verifier(auth, clock), uuid.uuid4()

    assert verifier.verify(_token(key, "good", user)) == user
    for kid in ("hs", "enc", "broken"):
        with pytest.raises(InvalidToken):
            verifier.verify(_token(key, kid, user))


def test_settings_derive_the_jwks_url_from_supabase_url_once() -> None:
    env = {
        "SUPABASE_URL": SUPABASE_URL + "/",
        "SUPABASE_SERVICE_ROLE_KEY": "service-role-key",
        "SUPABASE_JWT_ISSUER": SUPABASE_URL + "/auth/v1",
    }
    settings = Settings.from_env(env)

    assert settings.require_api().jwks_url == JWKS_URL
    assert settings.storage.supabase_url == SUPABASE_URL + "/"
    assert "SUPABASE_URL" not in ApiSettings.variables()
    assert supabase_jwks_url("http://127.0.0.1:54321") == (
        "http://127.0.0.1:54321/auth/v1/.well-known/jwks.json"
    )
    with pytest.raises(BadInput, match="SUPABASE_URL"):
        Settings.from_env(env | {"SUPABASE_URL": "http://abcdefghijklmnop.supabase.co"})


def test_the_real_clock_rate_limits_too() -> None:
    auth = SupabaseAuth()
    verifier = TokenVerifier(
        ApiSettings(issuer=ISSUER, jwks_url=JWKS_URL),
        jwks_transport=httpx.MockTransport(auth.handle),
    )
    key = ec.generate_private_key(ec.SECP256R1())
    started = time.monotonic()
    for n in range(50):
        with pytest.raises(InvalidToken):
            verifier.verify(_token(key, f"k{n}", uuid.uuid4()))
    assert len(auth.requests) == 1
    assert time.monotonic() - started < 5
