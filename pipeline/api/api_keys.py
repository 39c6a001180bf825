"""API keys for server-to-server calls: ``rf_live_`` and 256 random bits, shown once, kept only
as their SHA-256 (a key this random needs no slow hash: nothing guessable is behind it), and
accepted wherever a Supabase token is."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final
from uuid import UUID

from pipeline.api.auth import InvalidToken
from pipeline.api.upload_models import ApiKeyCreated
from pipeline.store import Repositories

__all__ = ["KEY_PREFIX", "authenticate", "create_key", "hash_key", "is_api_key"]

KEY_PREFIX: Final = "rf_live_"
_KEY = re.compile(r"rf_live_[A-Za-z0-9_-]{43}")
_SHOWN = 4  # characters after the prefix kept to recognise a key by (24 of its 256 bits)


def is_api_key(token: str) -> bool:
    """Whether a bearer token is meant as an API key (rather than a JWT)."""
    return token.startswith(KEY_PREFIX)


def hash_key(key: str) -> str:
    """What is stored of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(*, repos: Repositories, user_id: UUID, name: str) -> ApiKeyCreated:
    """A new key for the user; the only time the key itself exists outside the caller."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    made = repos.api_keys.create(
        user_id=user_id,
        name=name,
        prefix=key[: len(KEY_PREFIX) + _SHOWN],
        secret_hash=hash_key(key),
    )
    return ApiKeyCreated(**made.model_dump(), key=key)


def authenticate(*, repos: Repositories, key: str) -> UUID:
    """The owner of an active key; InvalidToken (401) for a malformed, unknown or revoked one.
    The stored hash is compared in constant time, though finding it by hash already reveals
    nothing about the key."""
    if not _KEY.fullmatch(key):
        raise InvalidToken("the API key is malformed")
    digest = hash_key(key)
    owner = repos.api_keys.authenticate(secret_hash=digest)
    if owner is None or not hmac.compare_digest(owner.secret_hash, digest):
        raise InvalidToken("the API key is unknown or revoked")
    return owner.user_id
