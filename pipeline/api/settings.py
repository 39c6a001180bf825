"""The API's settings: JWT verification keys, issuer, body limit and media folder; checked at startup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pipeline.store.settings import default_home

__all__ = ["MIB", "ApiSettings"]

MIB = 1024 * 1024
# Secrets copied from docs and .env examples, including Supabase's self-hosting default.
_PLACEHOLDERS = frozenset(
    {
        "changeme",
        "change-me",
        "changethis",
        "secret",
        "your-secret",
        "jwt-secret",
        "super-secret-jwt-token-with-at-least-32-characters-long",
        "your-super-secret-jwt-token-with-at-least-32-characters-long",
    }
)
_MIN_SECRET_CHARS = 32


def _load_jwks(value: str) -> dict[str, Any]:
    text = value.strip()
    if not text.startswith("{"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ValueError(f"SUPABASE_JWKS is neither JSON nor an existing file: {text}")
        text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"SUPABASE_JWKS is not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ValueError("SUPABASE_JWKS must be a JWK set (a JSON object)")
    keys = data.get("keys")
    if not isinstance(keys, list) or not keys:
        raise ValueError("SUPABASE_JWKS must be a JWK set with a non-empty 'keys' list")
    for key in keys:
        if not isinstance(key, dict) or not key.get("kid"):
            raise ValueError("every key in SUPABASE_JWKS needs a 'kid'")
        if "d" in key:
            raise ValueError(f"SUPABASE_JWKS key {key['kid']!r} is a private key")
    return data


class ApiSettings(BaseSettings):
    """HTTP API settings, read from the environment; invalid or placeholder secrets fail here."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    jwt_secret: SecretStr | None = Field(
        default=None,
        validation_alias="SUPABASE_JWT_SECRET",
        description="legacy HS256 secret of the Supabase project",
    )
    # NoDecode: the value may be a file path, which the JSON pre-decoding would reject.
    jwks: Annotated[dict[str, Any] | None, NoDecode] = Field(
        default=None,
        validation_alias="SUPABASE_JWKS",
        description="public JWK set (inline JSON or a file path) for ES256/RS256 tokens",
    )
    issuer: str = Field(
        validation_alias="SUPABASE_JWT_ISSUER",
        min_length=1,
        description="expected 'iss', e.g. https://<ref>.supabase.co/auth/v1",
    )
    audience: str = Field(default="authenticated", validation_alias="SUPABASE_JWT_AUDIENCE")
    leeway_seconds: int = Field(default=0, ge=0, le=300, validation_alias="REELFORGE_JWT_LEEWAY")
    max_body_bytes: int = Field(
        default=MIB, ge=1024, le=64 * MIB, validation_alias="REELFORGE_API_MAX_BODY_BYTES"
    )
    max_report_bytes: int = Field(
        default=32 * MIB,
        ge=1024,
        le=256 * MIB,
        validation_alias="REELFORGE_API_MAX_REPORT_BYTES",
        description="the body limit of performance report uploads (POST /v1/analytics/imports)",
    )
    media_root: Path = Field(
        default_factory=lambda: default_home() / "media", validation_alias="REELFORGE_MEDIA_ROOT"
    )

    @field_validator("jwks", mode="before")
    @classmethod
    def _parse_jwks(cls, value: object) -> object:
        if isinstance(value, str):
            return _load_jwks(value) if value.strip() else None
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        secret = value.get_secret_value().strip()
        if secret.lower() in _PLACEHOLDERS or len(secret) < _MIN_SECRET_CHARS:
            raise ValueError(
                f"SUPABASE_JWT_SECRET is a placeholder or shorter than {_MIN_SECRET_CHARS} characters"
            )
        return value

    @model_validator(mode="after")
    def _some_key(self) -> ApiSettings:
        if self.jwt_secret is None and self.jwks is None:
            raise ValueError("set SUPABASE_JWT_SECRET or SUPABASE_JWKS to verify tokens")
        return self

    def uploads(self, user_id: object) -> Path:
        """The folder a user's uploaded files live in: ``media_root/<user_id>/uploads``."""
        return self.media_root / str(user_id) / "uploads"
