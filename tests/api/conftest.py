"""API fixtures: the store fixtures on a cloned database, settings with test keys, and a client."""

from __future__ import annotations

import json
import secrets
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI

from pipeline.api.app import create_app
from pipeline.settings import ApiSettings, ServiceSettings, Settings, StoreSettings
from pipeline.store import Store
from pipeline.store.memory import ManualClock, MemoryRepositories
from tests.store.conftest import *  # noqa: F403

ISSUER = "https://test-project.supabase.co/auth/v1"
KID = "test-es256"
PHOTO = Path(__file__).resolve().parents[2] / "examples" / "photos" / "coffee.png"


@pytest.fixture(scope="session")
def hs_secret() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def jwks(ec_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    return {"keys": [public | {"kid": KID, "alg": "ES256", "use": "sig"}]}


@pytest.fixture
def settings(hs_secret: str, jwks: dict[str, Any], tmp_path: Path) -> Settings:
    api = ApiSettings(
        jwt_secret=hs_secret, jwks=json.dumps(jwks), issuer=ISSUER, max_body_bytes=64 * 1024
    )
    return Settings(
        store=StoreSettings(home=tmp_path / "home"), media_root=tmp_path / "media", api=api,
        service=ServiceSettings(public_url="http://api.test"),
    )  # fmt: skip


@pytest.fixture
def app(settings: Settings, store: Store) -> FastAPI:
    return create_app(settings=settings, store=store)


class ApiClient:
    """A synchronous face on ``httpx.AsyncClient(transport=ASGITransport(app))``: one loop per call.

    (Starlette's TestClient warns when used with httpx.)
    """

    def __init__(self, app: FastAPI, *, raise_app_exceptions: bool = True) -> None:
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(
                app=self.app, raise_app_exceptions=self.raise_app_exceptions
            )
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
                return await c.request(method, url, **kwargs)

        return anyio.run(send)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)


@pytest.fixture
def client(app: FastAPI) -> ApiClient:
    return ApiClient(app)


@pytest.fixture
def memory_repos() -> MemoryRepositories:
    """In-memory repositories (no PostgreSQL) on a clock that moves 1 ms per reading."""
    return MemoryRepositories(clock=ManualClock(step=timedelta(milliseconds=1)))


@pytest.fixture
def memory_client(settings: Settings, memory_repos: MemoryRepositories) -> ApiClient:
    """A client of an app on ``memory_repos``, without a database."""
    return ApiClient(create_app(settings=settings, repositories=memory_repos))


def claims_for(user_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": str(user_id),
        "aud": "authenticated",
        "iss": ISSUER,
        "role": "authenticated",
        "iat": now,
        "exp": now + 600,
    } | overrides


@pytest.fixture
def token_for(hs_secret: str) -> Callable[..., str]:
    def make(user_id: uuid.UUID, **overrides: Any) -> str:
        return jwt.encode(claims_for(user_id, **overrides), hs_secret, algorithm="HS256")

    return make


@pytest.fixture
def auth(token_for: Callable[..., str]) -> Callable[[uuid.UUID], dict[str, str]]:
    def headers(user_id: uuid.UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(user_id)}"}

    return headers


@pytest.fixture
def upload_photo(settings: Settings) -> Callable[[uuid.UUID], str]:
    def upload(user_id: uuid.UUID) -> str:
        folder = settings.uploads(user_id)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(PHOTO, folder / "coffee.png")
        return "coffee.png"

    return upload


def script_options(brief: dict[str, Any]) -> list[dict[str, Any]]:
    """The script options the offline writer gives ``brief`` (with a fixed palette), as a
    project stores them."""
    from pipeline.brief import Brief
    from pipeline.palette import FakePalette
    from pipeline.script import OfflineScriptWriter
    from pipeline.templates.registry import get_template

    parsed = Brief.model_validate(brief)
    palette = FakePalette().extract([], locale=parsed.brand.locale)
    scripts = OfflineScriptWriter().write(
        parsed, get_template(parsed.template), palette, n=parsed.options
    )
    return [s.model_dump(mode="json") for s in scripts]
