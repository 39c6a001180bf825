"""Settings read only their own documented variables, and name the one that is malformed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import BadInput
from pipeline.settings import Settings

# Variables a machine may well have that share a field's name (or its lower-case spelling):
# none of them is a reelforge setting.
JUNK = {
    "HOME": "/junk/home",
    "home": "/junk/home2",
    "ISSUER": "https://junk.example/auth",
    "AUDIENCE": "junk",
    "JWT_SECRET": "j" * 40,
    "JWKS": '{"keys": [{"kid": "junk"}]}',
    "MEDIA_ROOT": "/junk/media",
    "CACHE_DIR": "/junk/cache",
    "PRICE": "999",
    "CURRENCY": "XXX",
    "DATABASE": "postgresql://junk",
    "database_url": "postgresql://junk@lowercase/x",
    "reelforge_home": "/junk/lowercase",
    "KEY": "junk",
    "API_KEY": "junk",
    "SCRIPT_PROVIDER": "openai",
    "CALLBACK_BASE_URL": "https://junk.example",
    "BUCKET": "junk",
    "PROVIDER_SECRET_KLING": "whsec_junk",
    "ADMIN_TOKEN": "a" * 40,
    "WEBHOOK_SECRET": "whsec_junk",
    "stripe_webhook_secret": "whsec_lowercase",
}


def test_unrelated_variables_change_no_setting(tmp_path: Path) -> None:
    base = {"REELFORGE_HOME": str(tmp_path / "home")}
    assert Settings.from_env({**base, **JUNK}) == Settings.from_env(base)


def test_every_setting_comes_from_its_documented_variable(tmp_path: Path) -> None:
    env = {
        "REELFORGE_HOME": str(tmp_path / "home"),
        "REELFORGE_MEDIA_ROOT": str(tmp_path / "media"),
        "DATABASE_URL": "postgresql://u:p@db.example:6543/postgres",
        "SUPABASE_JWT_ISSUER": "https://ref.supabase.co/auth/v1",
        "SUPABASE_JWT_SECRET": "s" * 40,
        "REELFORGE_CREDIT_PRICE": "0.02",
        "REELFORGE_CREDIT_CURRENCY": "EUR",
        "FAL_KEY": "fal-key",
        "REELFORGE_CLIP_PROVIDER": "fal",
        "REELFORGE_PROVIDER_SECRET_KLING": "whsec_a whsec_b",
        "STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
        "REELFORGE_ADMIN_TOKEN": "t" * 32 + " " + "u" * 40,
        "REELFORGE_UPLOAD_MAX_LOGO_BYTES": "2048",
        "REELFORGE_CORS_ORIGINS": "https://app.example.com, http://localhost:5173",
        "REELFORGE_WEBHOOKS_CONCURRENCY": "8",
        "REELFORGE_WEBHOOKS_PER_TENANT": "3",
        "REELFORGE_WEBHOOKS_PER_ENDPOINT": "2",
    }
    settings = Settings.from_env(env)
    assert settings.home == tmp_path / "home"
    assert settings.media_root == tmp_path / "media"
    assert settings.uploads("u1") == tmp_path / "media" / "u1" / "uploads"
    assert settings.api is not None and settings.api.issuer == "https://ref.supabase.co/auth/v1"
    assert not settings.store.embedded
    assert str(settings.analytics.credit_price) == "0.02"
    assert settings.analytics.credit_currency == "EUR"
    assert settings.providers.key("fal") == "fal-key"
    assert settings.providers.clip_provider == "fal"
    assert settings.providers.callback_secrets == {"kling": ("whsec_a", "whsec_b")}
    secret = settings.billing.stripe_webhook_secret
    assert secret is not None and secret.get_secret_value() == "whsec_test_secret"
    tokens = [t.get_secret_value() for t in settings.billing.admin_tokens]
    assert tokens == ["t" * 32, "u" * 40]
    assert settings.upload_limits.cap("logo") == 2048
    assert settings.upload_limits.cap("photo") == 25 * 1024 * 1024
    assert settings.cors.origins == ("https://app.example.com", "http://localhost:5173")
    hooks = settings.webhooks
    assert (hooks.concurrency, hooks.per_tenant, hooks.per_endpoint) == (8, 3, 2)


def test_without_reelforge_home_the_platform_folder_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/data")
    settings = Settings.from_env({"HOME": "/somewhere/else"})
    assert settings.home == Path("/data/reelforge")
    assert settings.media_root == Path("/data/reelforge/media")
    assert settings.api is None and settings.store.embedded


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("REELFORGE_DB_POOL_MAX", "lots", "valid integer"),
        ("SUPABASE_JWT_SECRET", "changeme", "placeholder"),
        ("REELFORGE_CREDIT_CURRENCY", "dollars", "pattern"),
        ("SUPABASE_URL", "https://ref.supabase.co", "SUPABASE_SERVICE_ROLE_KEY is missing"),
        ("STRIPE_WEBHOOK_SECRET", "sk_live_" + "k" * 40, "must be the endpoint's whsec_"),
        ("REELFORGE_ADMIN_TOKEN", "changeme", "placeholder or shorter than 32"),
        ("REELFORGE_ADMIN_TOKEN", "a" * 40 + " short", "placeholder or shorter than 32"),
        ("REELFORGE_CORS_ORIGINS", "https://app.example.com/path", "not an origin"),
        ("REELFORGE_CORS_ORIGINS", "*", "not an origin"),
        ("REELFORGE_UPLOAD_MAX_MUSIC_BYTES", "12", "greater than or equal"),
        ("REELFORGE_WEBHOOKS_CONCURRENCY", "1", "greater than or equal"),
        ("REELFORGE_WEBHOOKS_PER_TENANT", "32", "below REELFORGE_WEBHOOKS_CONCURRENCY"),
        ("REELFORGE_WEBHOOKS_PER_ENDPOINT", "5", "must not exceed REELFORGE_WEBHOOKS_PER_TENANT"),
    ],
)
def test_a_malformed_value_names_its_variable(variable: str, value: str, problem: str) -> None:
    env = {variable: value}
    if variable.startswith("SUPABASE_JWT"):
        env["SUPABASE_JWT_ISSUER"] = "https://ref.supabase.co/auth/v1"
    with pytest.raises(BadInput, match=problem) as info:
        Settings.from_env(env)
    assert info.value.where in (variable, "StorageSettings")


def test_api_verification_needs_a_key_once_any_is_configured() -> None:
    with pytest.raises(BadInput, match="set SUPABASE_JWT_SECRET or SUPABASE_JWKS"):
        Settings.from_env({"SUPABASE_JWT_ISSUER": "https://ref.supabase.co/auth/v1"})


def test_the_readme_documents_every_variable() -> None:
    from pipeline.settings import (
        PROVIDER_SECRET_PREFIX,
        AnalyticsSettings,
        ApiSettings,
        BillingSettings,
        CorsSettings,
        ProviderSettings,
        ServiceSettings,
        StorageSettings,
        StoreSettings,
        UploadSettings,
        WebhookSettings,
    )

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    sections = (
        StoreSettings, ApiSettings, ProviderSettings, StorageSettings, AnalyticsSettings,
        ServiceSettings, BillingSettings,
        UploadSettings, CorsSettings, WebhookSettings,
    )  # fmt: skip
    variables = {v for section in sections for v in section.variables()}
    variables |= {"REELFORGE_MEDIA_ROOT", f"{PROVIDER_SECRET_PREFIX}<NAME>"}
    assert sorted(v for v in variables if f"`{v}`" not in readme) == []


def test_idempotency_keys_are_kept_at_least_a_day() -> None:
    assert Settings.from_env({}).service.idempotency_retention_seconds == 24 * 3600
    longer = Settings.from_env({"REELFORGE_IDEMPOTENCY_RETENTION_HOURS": "72"})
    assert longer.service.idempotency_retention_seconds == 72 * 3600
    with pytest.raises(BadInput, match="greater than or equal to 24") as info:
        Settings.from_env({"REELFORGE_IDEMPOTENCY_RETENTION_HOURS": "12"})
    assert info.value.where == "REELFORGE_IDEMPOTENCY_RETENTION_HOURS"
