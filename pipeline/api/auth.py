"""Supabase JWTs verified locally (ES256/RS256 by JWKS ``kid``: a static SUPABASE_JWKS, the
project's JWKS endpoint, or both; legacy HS256), dev tokens, and the service's admin token."""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import httpx
import jwt

from pipeline.api.jwks import ASYMMETRIC, RemoteJwks, usable_keys
from pipeline.errors import BadInput
from pipeline.settings import ApiSettings
from pipeline.store.users import local_user_id

__all__ = [
    "DEV_ISSUER",
    "Identity",
    "InvalidToken",
    "TokenVerifier",
    "admin_token_matches",
    "dev_secret",
    "dev_settings",
    "mint_dev_token",
]

DEV_ISSUER: Final = "reelforge-dev"
DEV_SECRET_FILE: Final = "dev-jwt-secret"
_REQUIRED_CLAIMS: Final = ["exp", "sub", "aud", "iss"]


class InvalidToken(BadInput):
    """The bearer token is missing, expired or invalid."""

    def __init__(self, problem: str) -> None:
        super().__init__("Authorization", problem)


@dataclass(frozen=True)
class Identity:
    """Who a valid token names: its subject, and its email claim when it has a usable one."""

    user_id: UUID
    email: str | None = None


_MAX_EMAIL = 320


def _email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    if isinstance(email, str) and 0 < len(email) <= _MAX_EMAIL and "@" in email:
        return email.strip().lower()
    return None


class TokenVerifier:
    """Verifies a bearer token against the settings' keys and returns its user id.

    A static ``SUPABASE_JWKS`` is consulted first and needs no network (offline use); with
    ``SUPABASE_URL`` set, a kid it lacks is looked up in the project's JWKS, fetched through
    ``jwks_transport`` (the network by default) and cached (see :mod:`pipeline.api.jwks`).
    """

    def __init__(
        self,
        settings: ApiSettings,
        *,
        jwks_transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self._keys = usable_keys(settings.jwks) if settings.jwks is not None else {}
        self.remote = (
            RemoteJwks(settings.jwks_url, transport=jwks_transport, clock=clock)
            if settings.jwks_url
            else None
        )
        self._issuer = settings.issuer
        self._audience = settings.audience
        self._leeway = settings.leeway_seconds

    def _key(self, token: str) -> tuple[Any, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("the token is malformed") from None
        alg = header.get("alg")
        if alg == "HS256" and self._secret is not None:
            return self._secret, alg
        if alg in ASYMMETRIC:
            key = self._signing_key(header.get("kid"))
            # The key's own algorithm decides: a token cannot pick a weaker one for a known kid.
            if key is not None and key.algorithm_name == alg:
                return key.key, alg
            raise InvalidToken("the token's signing key is unknown")
        raise InvalidToken(f"the token's algorithm {alg!r} is not accepted")

    def _signing_key(self, kid: object) -> jwt.PyJWK | None:
        if not isinstance(kid, str) or not kid or len(kid) > 200:
            return None
        key = self._keys.get(kid)
        if key is None and self.remote is not None:
            key = self.remote.key(kid)
        return key

    def verify(self, token: str) -> UUID:
        """The user id (``sub``) of a valid token; InvalidToken otherwise."""
        return self.identify(token).user_id

    def identify(self, token: str) -> Identity:
        """The user id (``sub``) and email of a valid token; InvalidToken otherwise."""
        key, alg = self._key(token)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("the token's audience is wrong") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token's issuer is wrong") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("the token's signature is invalid") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"the token has no {exc.claim!r} claim") from None
        except jwt.PyJWTError:
            raise InvalidToken("the token is invalid") from None
        try:
            user_id = UUID(str(claims["sub"]))
        except ValueError:
            raise InvalidToken("the token's subject is not a user id") from None
        return Identity(user_id, _email(claims))


def dev_secret(home: Path) -> str:
    """The development signing secret in ``home/dev-jwt-secret``, created once with mode 0600."""
    path = home.expanduser() / DEV_SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def dev_settings(home: Path, **overrides: Any) -> ApiSettings:
    """Settings that accept the tokens of :func:`mint_dev_token` (local development only; a
    webhook receiver on this machine is then allowed too)."""
    values: dict[str, Any] = {
        "jwt_secret": dev_secret(home), "issuer": DEV_ISSUER, "webhook_allow_http_localhost": True,
    }  # fmt: skip
    return ApiSettings(**(values | overrides))


def mint_dev_token(email: str, *, home: Path, lifetime_seconds: int = 24 * 3600) -> str:
    """An HS256 token for ``email``'s local user id, signed with the dev secret; creates nothing else."""
    now = int(time.time())
    claims = {
        "sub": str(local_user_id(email)),
        "email": email.strip().lower(),
        "role": "authenticated",
        "aud": "authenticated",
        "iss": DEV_ISSUER,
        "iat": now,
        "exp": now + lifetime_seconds,
    }
    return jwt.encode(claims, dev_secret(home), algorithm="HS256")


def admin_token_matches(presented: str, tokens: Sequence[str]) -> bool:
    """Whether ``presented`` is one of the admin tokens. Each comparison takes constant time and
    every token is compared, so timing tells neither how much of a guess was right nor which
    token (during a rotation) it was close to."""
    given = presented.encode()
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given, token.encode())
    return matched
