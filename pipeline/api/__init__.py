"""The HTTP API: a FastAPI app factory over the store, Supabase JWT auth and problem+json errors."""

from __future__ import annotations

from pipeline.api.app import create_app
from pipeline.api.auth import (
    DEV_ISSUER,
    InvalidToken,
    TokenVerifier,
    dev_secret,
    dev_settings,
    mint_dev_token,
)
from pipeline.api.pricing import Estimate, estimate_cost
from pipeline.api.settings import ApiSettings

__all__ = [
    "DEV_ISSUER",
    "ApiSettings",
    "Estimate",
    "InvalidToken",
    "TokenVerifier",
    "create_app",
    "dev_secret",
    "dev_settings",
    "estimate_cost",
    "mint_dev_token",
]
