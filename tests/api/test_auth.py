"""Bearer tokens: the Supabase JWT matrix (HS256 and ES256 by kid) and dev tokens."""

from __future__ import annotations

import os
import stat
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from pipeline.api.auth import (
    DEV_SECRET_FILE,
    InvalidToken,
    TokenVerifier,
    dev_settings,
    mint_dev_token,
)
from pipeline.settings import ApiSettings, Settings
from pipeline.store.users import local_user_id
from tests.api.conftest import ISSUER, KID, ApiClient, claims_for

pytestmark = pytest.mark.integration


def _es256(key: ec.EllipticCurvePrivateKey, claims: dict[str, Any], kid: str = KID) -> str:
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


def test_valid_hs256_token_reaches_the_route(
    client: ApiClient, user_a: uuid.UUID, token_for: Callable[..., str]
) -> None:
    response = client.get("/v1/credits", headers={"Authorization": f"Bearer {token_for(user_a)}"})
    assert response.status_code == 200, response.text
    assert response.json() == {"credits": 0}


def test_valid_es256_token_is_verified_against_the_jwks(
    client: ApiClient, user_a: uuid.UUID, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    token = _es256(ec_key, claims_for(user_a))
    response = client.get("/v1/credits", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def _bad_tokens(
    user: uuid.UUID, hs_secret: str, ec_key: ec.EllipticCurvePrivateKey
) -> dict[str, str]:
    other_ec = ec.generate_private_key(ec.SECP256R1())
    return {
        "expired": jwt.encode(
            claims_for(user, exp=int(time.time()) - 120), hs_secret, algorithm="HS256"
        ),
        "wrong audience": jwt.encode(claims_for(user, aud="anon"), hs_secret, algorithm="HS256"),
        "wrong issuer": jwt.encode(
            claims_for(user, iss="https://evil.example/auth/v1"), hs_secret, algorithm="HS256"
        ),
        "wrong hs256 signature": jwt.encode(claims_for(user), "x" * 48, algorithm="HS256"),
        "wrong es256 signature": _es256(other_ec, claims_for(user)),
        "unknown kid": _es256(ec_key, claims_for(user), kid="other"),
        "no exp": jwt.encode(
            {k: v for k, v in claims_for(user).items() if k != "exp"}, hs_secret, algorithm="HS256"
        ),
        "sub not a uuid": jwt.encode(claims_for(user, sub="anon"), hs_secret, algorithm="HS256"),
        "alg none": jwt.encode(claims_for(user), "", algorithm="none"),
        "garbage": "not.a.jwt",
    }


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "wrong audience",
        "wrong issuer",
        "wrong hs256 signature",
        "wrong es256 signature",
        "unknown kid",
        "no exp",
        "sub not a uuid",
        "alg none",
        "garbage",
        "missing",
    ],
)
def test_bad_or_missing_token_is_a_401_problem(
    client: ApiClient,
    user_a: uuid.UUID,
    hs_secret: str,
    ec_key: ec.EllipticCurvePrivateKey,
    case: str,
) -> None:
    headers = {}
    if case != "missing":
        headers["Authorization"] = f"Bearer {_bad_tokens(user_a, hs_secret, ec_key)[case]}"
    response = client.get("/v1/credits", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"
    assert body["detail"]


def test_es256_key_cannot_be_used_as_an_hs256_secret(
    jwks: dict[str, Any], ec_key: ec.EllipticCurvePrivateKey
) -> None:
    # Only the JWKS is configured: an HS256 token is refused whatever it is signed with.
    verifier = TokenVerifier(ApiSettings(jwks=jwks, issuer=ISSUER))
    token = jwt.encode(claims_for(uuid.uuid4()), "k" * 48, algorithm="HS256")
    with pytest.raises(InvalidToken, match="algorithm"):
        verifier.verify(token)
    assert verifier.verify(_es256(ec_key, claims_for(uid := uuid.uuid4()))) == uid


@pytest.mark.parametrize(
    "secret", ["changeme", "your-super-secret-jwt-token-with-at-least-32-characters-long", "short"]
)
def test_placeholder_secrets_fail_at_startup(secret: str) -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        ApiSettings(jwt_secret=secret, issuer=ISSUER)


def test_settings_need_a_key_and_read_jwks_from_a_file(
    tmp_path: Path, jwks: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError, match="SUPABASE_JWT_SECRET or SUPABASE_JWKS"):
        ApiSettings(issuer=ISSUER)
    path = tmp_path / "jwks.json"
    path.write_text(__import__("json").dumps(jwks))
    assert ApiSettings(jwks=str(path), issuer=ISSUER).jwks == jwks


def test_dev_token_round_trip_gives_the_local_user_id(tmp_path: Path) -> None:
    home = tmp_path / "home"
    token = mint_dev_token("Dev@Example.com", home=home)
    secret_file = home / DEV_SECRET_FILE
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    verifier = TokenVerifier(dev_settings(home))
    assert verifier.verify(token) == local_user_id("dev@example.com")
    # The secret is made once: a second token verifies with the same settings.
    assert verifier.verify(mint_dev_token("dev@example.com", home=home)) == local_user_id(
        "dev@example.com"
    )
    assert sorted(p.name for p in home.iterdir()) == [DEV_SECRET_FILE]


def test_a_valid_token_of_a_user_not_yet_known_provisions_the_user(
    client: ApiClient, admin: Any, token_for: Callable[..., str]
) -> None:
    new = uuid.uuid4()
    headers = {"Authorization": f"Bearer {token_for(new, email='New@Example.com')}"}

    first = client.get("/v1/credits", headers=headers)
    projects = client.get("/v1/projects", headers=headers)

    assert (first.status_code, first.json()) == (200, {"credits": 0}), first.text
    assert projects.status_code == 200, projects.text
    row = admin.execute("select email from auth.users where id = %s", (new,)).fetchall()
    assert row == [("new@example.com",)]


def test_a_valid_token_whose_user_supabase_does_not_have_is_a_plain_403(
    settings: Settings, token_for: Callable[..., str]
) -> None:
    from pipeline.api.app import create_app
    from pipeline.store.memory import MemoryRepositories

    repos = MemoryRepositories(supabase=True)
    client = ApiClient(create_app(settings=settings, repositories=repos))
    gone = uuid.uuid4()

    response = client.get("/v1/credits", headers={"Authorization": f"Bearer {token_for(gone)}"})

    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "no account here" in response.json()["detail"]
    known = repos.add_user()
    ok = client.get("/v1/credits", headers={"Authorization": f"Bearer {token_for(known)}"})
    assert ok.status_code == 200
