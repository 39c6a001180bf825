"""The one settings object: built once at an entry point from the environment, then passed down.

Every setting reads exactly the variable documented beside it: a ``REELFORGE_*`` name, or the
name a provider or Supabase documents (``DATABASE_URL``, ``SUPABASE_JWKS``, ``FAL_KEY`` ...).
Nothing else in the environment is looked at: ``HOME`` is not ``REELFORGE_HOME`` and ``PRICE``
is not ``REELFORGE_CREDIT_PRICE`` (names are matched exactly, case included). A malformed value
is a BadInput naming its variable, raised when the settings are built.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline.errors import BadInput

__all__ = [
    "JWKS_PATH",
    "MIB",
    "PROVIDER_SECRET_PREFIX",
    "UPLOAD_KINDS",
    "AnalyticsSettings",
    "ApiSettings",
    "BillingSettings",
    "CorsSettings",
    "ProviderSettings",
    "ServiceSettings",
    "Settings",
    "StorageSettings",
    "StoreSettings",
    "UploadSettings",
    "WebhookSettings",
    "default_home",
    "supabase_jwks_url",
]

MIB = 1024 * 1024
# Where a Supabase project publishes its JWT signing keys (Supabase Auth's JWKS endpoint).
JWKS_PATH: Final = "/auth/v1/.well-known/jwks.json"
PROVIDER_SECRET_PREFIX = "REELFORGE_PROVIDER_SECRET_"
# Secrets copied from docs and .env examples, including Supabase's self-hosting default.
_PLACEHOLDERS = frozenset(
    {
        "changeme", "change-me", "changethis", "secret", "your-secret", "jwt-secret",
        "super-secret-jwt-token-with-at-least-32-characters-long",
        "your-super-secret-jwt-token-with-at-least-32-characters-long",
    }
)  # fmt: skip
_MIN_SECRET_CHARS = 32
_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,99}")
S = TypeVar("S", bound="_Section")


def default_home() -> Path:
    """The per-user data folder, as platformdirs would choose it (``XDG_DATA_HOME`` is the one
    variable read here: it is the platform's own convention for this folder)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "reelforge"


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


Optional = Annotated[str | None, BeforeValidator(_blank_is_none)]
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_blank_is_none)]


class _Section(BaseModel):
    """Fields carry their variable as ``validation_alias``; code and tests build sections by
    field name, the environment only through :meth:`from_env`."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    @classmethod
    def variables(cls) -> set[str]:
        return {
            f.validation_alias
            for f in cls.model_fields.values()
            if isinstance(f.validation_alias, str)
        }

    @classmethod
    def from_env(cls: type[S], env: Mapping[str, str], **given: Any) -> S:
        """The section from its own variables only (plus values the caller ``given``)."""
        mine = {k: v for k, v in env.items() if k in cls.variables()}
        try:
            return cls.model_validate({**mine, **given})
        except ValidationError as exc:
            raise _named(cls, exc) from None


def _named(section: type[_Section], exc: ValidationError) -> BadInput:
    err = exc.errors()[0]
    loc = err["loc"][0] if err["loc"] else ""
    field = section.model_fields.get(str(loc))
    where = (
        field.validation_alias
        if field is not None and isinstance(field.validation_alias, str)
        else str(loc)
    )
    return BadInput(where or section.__name__, str(err["msg"]).removeprefix("Value error, "))


class StoreSettings(_Section):
    """The database: ``DATABASE_URL`` (Supabase), else an embedded server in ``home``."""

    database_url: OptionalSecret = Field(default=None, validation_alias="DATABASE_URL")
    home: Path = Field(default_factory=default_home, validation_alias="REELFORGE_HOME")
    connect_timeout: float = Field(
        default=5.0, gt=0, le=120, validation_alias="REELFORGE_DB_CONNECT_TIMEOUT"
    )
    pool_min_size: int = Field(default=1, ge=0, le=100, validation_alias="REELFORGE_DB_POOL_MIN")
    pool_max_size: int = Field(default=10, ge=1, le=200, validation_alias="REELFORGE_DB_POOL_MAX")

    @property
    def embedded(self) -> bool:
        """True when no DATABASE_URL is set: the store runs its own PostgreSQL."""
        return self.database_url is None

    @property
    def pgdata(self) -> Path:
        """The embedded server's data directory."""
        return self.home.expanduser() / "pg"


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
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError("SUPABASE_JWKS must be a JWK set with a non-empty 'keys' list")
    for key in keys:
        if not isinstance(key, dict) or not key.get("kid"):
            raise ValueError("every key in SUPABASE_JWKS needs a 'kid'")
        if "d" in key:
            raise ValueError(f"SUPABASE_JWKS key {key['kid']!r} is a private key")
    return data  # type: ignore[no-any-return]


class ApiSettings(_Section):
    """HTTP API settings; a missing or placeholder verification key fails here, at startup."""

    jwt_secret: OptionalSecret = Field(
        default=None,
        validation_alias="SUPABASE_JWT_SECRET",
        description="legacy HS256 secret of the Supabase project",
    )
    jwks: dict[str, Any] | None = Field(
        default=None,
        validation_alias="SUPABASE_JWKS",
        description="public JWK set (inline JSON or a file path) for ES256/RS256 tokens",
    )
    jwks_url: str | None = Field(
        default=None,
        description="the project's JWKS endpoint, from SUPABASE_URL (read once, by "
        "StorageSettings): its keys are fetched, cached and refreshed",
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
        default=32 * MIB, ge=1024, le=256 * MIB, validation_alias="REELFORGE_API_MAX_REPORT_BYTES",
        description="the body limit of performance report uploads (POST /v1/analytics/imports)",
    )  # fmt: skip
    webhook_allow_http_localhost: bool = Field(
        default=False, validation_alias="REELFORGE_WEBHOOKS_ALLOW_HTTP_LOCALHOST",
        description="development only: webhook endpoints at http://localhost are accepted",
    )  # fmt: skip

    @field_validator("jwks", mode="before")
    @classmethod
    def _parse_jwks(cls, value: object) -> object:
        if isinstance(value, str):
            return _load_jwks(value) if value.strip() else None
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value().strip()
        if secret.lower() in _PLACEHOLDERS or len(secret) < _MIN_SECRET_CHARS:
            raise ValueError(
                f"SUPABASE_JWT_SECRET is a placeholder or shorter than {_MIN_SECRET_CHARS} characters"
            )
        return value

    @model_validator(mode="after")
    def _some_key(self) -> ApiSettings:
        if self.jwt_secret is None and self.jwks is None and self.jwks_url is None:
            raise ValueError(
                "set SUPABASE_JWT_SECRET or SUPABASE_JWKS (or SUPABASE_URL, whose JWKS endpoint is "
                "fetched) to verify tokens"
            )
        return self

    @classmethod
    def configured(cls, env: Mapping[str, str]) -> bool:
        """Whether the environment asks for Supabase token verification at all."""
        names = ("SUPABASE_JWT_SECRET", "SUPABASE_JWKS", "SUPABASE_JWT_ISSUER")
        return any(env.get(n, "").strip() for n in names)


def _secret_list(value: str) -> tuple[str, ...]:
    return tuple(value.split())


class ProviderSettings(_Section):
    """Which provider each stage uses and the keys to call them.

    Keys use each provider's own conventional variable name, so a Modal secret or a ``.env``
    made for their SDKs works as is. A stage's provider comes from the brief (``providers:``)
    first, then ``REELFORGE_<STAGE>_PROVIDER``, then "offline" when no key is set.
    """

    openrouter_api_key: OptionalSecret = Field(default=None, validation_alias="OPENROUTER_API_KEY")
    openai_api_key: OptionalSecret = Field(default=None, validation_alias="OPENAI_API_KEY")
    gemini_api_key: OptionalSecret = Field(default=None, validation_alias="GEMINI_API_KEY")
    kling_access_key: OptionalSecret = Field(default=None, validation_alias="KLING_ACCESS_KEY")
    kling_secret_key: OptionalSecret = Field(default=None, validation_alias="KLING_SECRET_KEY")
    fal_key: OptionalSecret = Field(default=None, validation_alias="FAL_KEY")
    elevenlabs_api_key: OptionalSecret = Field(default=None, validation_alias="ELEVENLABS_API_KEY")
    pexels_api_key: OptionalSecret = Field(default=None, validation_alias="PEXELS_API_KEY")
    heygen_api_key: OptionalSecret = Field(default=None, validation_alias="HEYGEN_API_KEY")

    # stage choices (None: the brief's, else the first configured, else offline)
    script_provider: Optional = Field(default=None, validation_alias="REELFORGE_SCRIPT_PROVIDER")
    clip_provider: Optional = Field(default=None, validation_alias="REELFORGE_CLIP_PROVIDER")
    voice_provider: Optional = Field(default=None, validation_alias="REELFORGE_VOICE_PROVIDER")

    # models (None: the adapter's default)
    script_model: Optional = Field(default=None, validation_alias="REELFORGE_SCRIPT_MODEL")
    clip_model: Optional = Field(default=None, validation_alias="REELFORGE_CLIP_MODEL")
    image_model: Optional = Field(default=None, validation_alias="REELFORGE_IMAGE_MODEL")
    voice_model: Optional = Field(default=None, validation_alias="REELFORGE_VOICE_MODEL")
    # ElevenLabs voice id per brand locale, "en=21m00Tcm4TlvDq8ikWAM,it=…"; None: the default voice
    elevenlabs_voices: Optional = Field(
        default=None, validation_alias="REELFORGE_ELEVENLABS_VOICES"
    )

    # the HeyGen presenter's avatar and text-to-speech voice (ids from `GET /v2/avatars`, `/v2/voices`)
    heygen_avatar_id: Optional = Field(default=None, validation_alias="HEYGEN_AVATAR_ID")
    heygen_voice_id: Optional = Field(default=None, validation_alias="HEYGEN_VOICE_ID")

    cache_dir: Path | None = Field(default=None, validation_alias="REELFORGE_PROVIDER_CACHE")
    prices_file: Path | None = Field(default=None, validation_alias="REELFORGE_PROVIDER_PRICES")
    # provider → its callback secrets (whsec_…), from REELFORGE_PROVIDER_SECRET_<NAME>
    callback_secrets: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("cache_dir", "prices_file", mode="before")
    @classmethod
    def _blank_path(cls, value: object) -> object:
        return _blank_is_none(value)

    def key(self, name: str) -> str | None:
        """The key named ``name`` (field name without ``_api_key``/``_key``), if set and not blank."""
        for field in (f"{name}_api_key", f"{name}_key"):
            value = getattr(self, field, None)
            if isinstance(value, SecretStr) and value.get_secret_value().strip():
                return value.get_secret_value().strip()
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str], **given: Any) -> ProviderSettings:
        secrets: dict[str, tuple[str, ...]] = {}
        for variable, value in env.items():
            name = variable.removeprefix(PROVIDER_SECRET_PREFIX).lower().replace("-", "_")
            found = _secret_list(value)  # several, space-separated, while a secret rotates
            if variable.startswith(PROVIDER_SECRET_PREFIX) and _NAME.fullmatch(name) and found:
                secrets[name] = found
        return super().from_env(env, callback_secrets=secrets, **given)


_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})


def supabase_jwks_url(supabase_url: str | None) -> str | None:
    """The JWKS endpoint of the project at ``supabase_url``; it must be https (http only for
    the CLI's local stack on localhost), since the keys fetched there decide who is who."""
    if supabase_url is None:
        return None
    parts = urlsplit(supabase_url.strip())
    local = parts.scheme == "http" and (parts.hostname or "") in _LOCAL_HOSTS
    if not parts.hostname or not (parts.scheme == "https" or local):
        raise BadInput("SUPABASE_URL", "must be the project's https URL (http only to localhost)")
    return parts._replace(path=parts.path.rstrip("/") + JWKS_PATH, query="", fragment="").geturl()


class StorageSettings(_Section):
    """Supabase Storage, when both its URL and service key are set; else the local media folder."""

    supabase_url: Optional = Field(default=None, validation_alias="SUPABASE_URL")
    service_role_key: OptionalSecret = Field(
        default=None, validation_alias="SUPABASE_SERVICE_ROLE_KEY"
    )
    bucket: str = Field(default="reelforge", validation_alias="REELFORGE_STORAGE_BUCKET")

    @model_validator(mode="after")
    def _both_or_neither(self) -> StorageSettings:
        if (self.supabase_url is None) != (self.service_role_key is None):
            missing = "SUPABASE_SERVICE_ROLE_KEY" if self.supabase_url else "SUPABASE_URL"
            raise ValueError(f"{missing} is missing: set both SUPABASE_URL and the key, or neither")
        return self


class AnalyticsSettings(_Section):
    """The credit's worth in money (for cost per asset) and the ad platforms' API tokens."""

    credit_price: Decimal = Field(
        default=Decimal("0.01"), gt=0, le=1000, validation_alias="REELFORGE_CREDIT_PRICE"
    )
    credit_currency: str = Field(
        default="USD", pattern=r"^[A-Z]{3}$", validation_alias="REELFORGE_CREDIT_CURRENCY"
    )
    meta_access_token: OptionalSecret = Field(default=None, validation_alias="META_ACCESS_TOKEN")
    google_ads_developer_token: OptionalSecret = Field(
        default=None, validation_alias="GOOGLE_ADS_DEVELOPER_TOKEN"
    )
    google_ads_access_token: OptionalSecret = Field(
        default=None, validation_alias="GOOGLE_ADS_ACCESS_TOKEN"
    )
    google_ads_login_customer_id: Optional = Field(
        default=None, validation_alias="GOOGLE_ADS_LOGIN_CUSTOMER_ID"
    )


def _public_url(value: object) -> object:
    value = _blank_is_none(value)
    if isinstance(value, str):
        text = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", text):
            raise ValueError("must be an http(s) URL without a query, e.g. https://api.example.com")
        return text
    return value


class ServiceSettings(_Section):
    """How the service is reached and how its links are signed.

    ``public_url`` is the base of every link the service hands out (download links, provider
    callbacks): it comes from configuration, never from a request's ``Host`` header.
    ``signing_secret`` signs download links and storage grants, so a link made in one process
    verifies in any other; without it, the embedded default keeps one in REELFORGE_HOME."""

    public_url: Annotated[str | None, BeforeValidator(_public_url)] = Field(
        default=None, validation_alias="REELFORGE_PUBLIC_URL"
    )
    signing_secret: OptionalSecret = Field(
        default=None, validation_alias="REELFORGE_SIGNING_SECRET"
    )
    idempotency_retention_hours: int = Field(
        default=24, ge=24, le=24 * 90, validation_alias="REELFORGE_IDEMPOTENCY_RETENTION_HOURS",
        description="how long an Idempotency-Key replays its response before it is purged",
    )  # fmt: skip

    @property
    def idempotency_retention_seconds(self) -> int:
        return self.idempotency_retention_hours * 3600

    @field_validator("signing_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < _MIN_SECRET_CHARS:
            raise ValueError(f"must be at least {_MIN_SECRET_CHARS} characters")
        return value


def _real_token(variable: str, token: str) -> str:
    """A shared secret worth the name: not a placeholder, at least 32 characters."""
    if token.lower() in _PLACEHOLDERS or len(token) < _MIN_SECRET_CHARS:
        raise ValueError(
            f"{variable} is a placeholder or shorter than {_MIN_SECRET_CHARS} characters"
        )
    return token


class BillingSettings(_Section):
    """How credits arrive from outside a user's own requests: Stripe's signed webhook and the
    service's admin token. Unset, the matching route answers 404 (it is off)."""

    stripe_webhook_secret: OptionalSecret = Field(
        default=None, validation_alias="STRIPE_WEBHOOK_SECRET",
        description="the whsec_ signing secret of the Stripe webhook endpoint",
    )  # fmt: skip
    admin_tokens: tuple[SecretStr, ...] = Field(
        default=(), validation_alias="REELFORGE_ADMIN_TOKEN",
        description="bearer token(s) of the admin routes, space-separated while one rotates",
    )  # fmt: skip

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        # An API key (sk_..., rk_...) pasted here would be a leaked key and verify nothing.
        if value is not None and not value.get_secret_value().strip().startswith("whsec_"):
            raise ValueError("STRIPE_WEBHOOK_SECRET must be the endpoint's whsec_ signing secret")
        return value

    @field_validator("admin_tokens", mode="before")
    @classmethod
    def _tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(_real_token("REELFORGE_ADMIN_TOKEN", t) for t in value.split())
        return value


UPLOAD_KINDS = ("photo", "logo", "font", "music", "voice_over")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


class UploadSettings(_Section):
    """The size cap of each kind of upload (``POST /v1/uploads``, signed uploads and files a
    brief names by URL): a photo is an ad's main material, a logo a small mark, music and a
    voice-over a few minutes of compressed audio."""

    max_photo_bytes: int = Field(
        default=25 * MIB, ge=1024, le=512 * MIB, validation_alias="REELFORGE_UPLOAD_MAX_PHOTO_BYTES"
    )
    max_logo_bytes: int = Field(
        default=10 * MIB, ge=1024, le=512 * MIB, validation_alias="REELFORGE_UPLOAD_MAX_LOGO_BYTES"
    )
    max_font_bytes: int = Field(
        default=10 * MIB, ge=1024, le=512 * MIB, validation_alias="REELFORGE_UPLOAD_MAX_FONT_BYTES"
    )
    max_music_bytes: int = Field(
        default=50 * MIB, ge=1024, le=512 * MIB, validation_alias="REELFORGE_UPLOAD_MAX_MUSIC_BYTES"
    )
    max_voice_over_bytes: int = Field(
        default=50 * MIB, ge=1024, le=512 * MIB,
        validation_alias="REELFORGE_UPLOAD_MAX_VOICE_OVER_BYTES",
    )  # fmt: skip

    def cap(self, kind: str) -> int:
        """The byte cap of an upload kind (one of :data:`UPLOAD_KINDS`)."""
        value: int = getattr(self, f"max_{kind}_bytes")
        return value

    @property
    def largest(self) -> int:
        """The largest cap: what a multipart body may carry at most (plus its framing)."""
        return max(self.cap(kind) for kind in UPLOAD_KINDS)


class WebhookSettings(_Section):
    """How the webhook dispatcher shares its attempts out: ``concurrency`` at once in one
    dispatcher, at most ``per_tenant`` for one tenant and ``per_endpoint`` for one endpoint
    over every dispatcher. A tenant whose endpoints hang holds ``per_tenant`` slots and the
    others keep going; ``per_endpoint`` 1 also keeps one endpoint's attempts one at a time, in
    the order they fall due."""

    concurrency: int = Field(
        default=32, ge=2, le=100, validation_alias="REELFORGE_WEBHOOKS_CONCURRENCY"
    )
    per_tenant: int = Field(
        default=4, ge=1, le=100, validation_alias="REELFORGE_WEBHOOKS_PER_TENANT"
    )
    per_endpoint: int = Field(
        default=1, ge=1, le=100, validation_alias="REELFORGE_WEBHOOKS_PER_ENDPOINT"
    )

    @field_validator("per_tenant")
    @classmethod
    def _below_concurrency(cls, value: int, info: ValidationInfo) -> int:
        concurrency = info.data.get("concurrency")
        if concurrency is not None and value >= concurrency:
            raise ValueError(
                f"must be below REELFORGE_WEBHOOKS_CONCURRENCY ({concurrency}), or one tenant's "
                "hanging endpoints could hold every slot"
            )
        return value

    @field_validator("per_endpoint")
    @classmethod
    def _within_tenant(cls, value: int, info: ValidationInfo) -> int:
        per_tenant = info.data.get("per_tenant")
        if per_tenant is not None and value > per_tenant:
            raise ValueError(f"must not exceed REELFORGE_WEBHOOKS_PER_TENANT ({per_tenant})")
        return value


def _origins(value: object) -> object:
    if isinstance(value, str):
        return tuple(v for v in re.split(r"[\s,]+", value.strip()) if v)
    return value


class CorsSettings(_Section):
    """The browser origins allowed to call the API (``REELFORGE_CORS_ORIGINS``, comma- or
    space-separated, each ``scheme://host[:port]``); none by default, so no browser page of
    another origin can read a response."""

    origins: Annotated[tuple[str, ...], BeforeValidator(_origins)] = Field(
        default=(), validation_alias="REELFORGE_CORS_ORIGINS"
    )

    @field_validator("origins")
    @classmethod
    def _exact_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin like https://app.example.com (no path, no '*')"
                )
        return tuple(o.lower() for o in value)


class Settings(BaseModel):
    """Everything configurable, one object. ``api`` is None when no Supabase verification is
    configured (the command line; ``reelforge serve`` then accepts development tokens)."""

    model_config = ConfigDict(frozen=True)

    store: StoreSettings = Field(default_factory=StoreSettings)
    media_root: Path = Field(
        default_factory=lambda: default_home() / "media",
        description="REELFORGE_MEDIA_ROOT, else REELFORGE_HOME/media: uploads, outputs, caches",
    )
    api: ApiSettings | None = None
    providers: ProviderSettings = Field(default_factory=ProviderSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    billing: BillingSettings = Field(default_factory=BillingSettings)
    upload_limits: UploadSettings = Field(default_factory=UploadSettings)
    cors: CorsSettings = Field(default_factory=CorsSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from ``env`` (the process environment by default), each from its own
        variables only; BadInput names a malformed one."""
        env = dict(os.environ if env is None else env)
        store = StoreSettings.from_env(env)
        media = Path(env.get("REELFORGE_MEDIA_ROOT", "").strip() or store.home / "media")
        storage = StorageSettings.from_env(env)
        api = None
        if ApiSettings.configured(env):
            api = ApiSettings.from_env(env, jwks_url=supabase_jwks_url(storage.supabase_url))
        return cls(
            store=store,
            media_root=media,
            api=api,
            providers=ProviderSettings.from_env(env),
            storage=storage,
            analytics=AnalyticsSettings.from_env(env),
            service=ServiceSettings.from_env(env),
            billing=BillingSettings.from_env(env),
            upload_limits=UploadSettings.from_env(env),
            cors=CorsSettings.from_env(env),
            webhooks=WebhookSettings.from_env(env),
        )

    @property
    def home(self) -> Path:
        return self.store.home.expanduser()

    def offline(self) -> Settings:
        """These settings with every provider key and choice cleared: every stage offline."""
        return self.model_copy(update={"providers": ProviderSettings()})

    def require_api(self) -> ApiSettings:
        """The API's settings; BadInput naming the variables when token verification is not
        configured."""
        if self.api is None:
            raise BadInput(
                "SUPABASE_JWT_ISSUER", "the API needs SUPABASE_JWT_ISSUER and SUPABASE_JWKS "
                "(or SUPABASE_URL, or SUPABASE_JWT_SECRET) to verify tokens",
            )  # fmt: skip
        return self.api

    def require_public_url(self) -> str:
        """The service's public base URL; BadInput naming the variable when it is not set."""
        if self.service.public_url is None:
            raise BadInput(
                "REELFORGE_PUBLIC_URL",
                "must be set to the API's public base URL (e.g. https://api.example.com): every "
                "download link and provider callback starts with it",
            )
        return self.service.public_url

    def uploads(self, user_id: object) -> Path:
        """The folder a user's uploaded files live in: ``media_root/<user_id>/uploads``."""
        return self.media_root / str(user_id) / "uploads"

    @property
    def asset_cache(self) -> Path:
        """Downloads of briefs' http(s) files, content-addressed."""
        return self.home / "cache" / "assets"
