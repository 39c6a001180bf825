"""Where the store's data lives: DATABASE_URL (production) or an embedded server in REELFORGE_HOME."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["StoreSettings", "default_home"]


def default_home() -> Path:
    """The per-user data folder, as platformdirs would choose it."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "reelforge"


class StoreSettings(BaseSettings):
    """Database settings, read from the environment."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    home: Path = Field(default_factory=default_home, validation_alias="REELFORGE_HOME")
    connect_timeout: float = Field(
        default=5.0, gt=0, le=120, validation_alias="REELFORGE_DB_CONNECT_TIMEOUT"
    )
    pool_min_size: int = Field(default=1, ge=0, le=100, validation_alias="REELFORGE_DB_POOL_MIN")
    pool_max_size: int = Field(default=10, ge=1, le=200, validation_alias="REELFORGE_DB_POOL_MAX")

    @property
    def embedded(self) -> bool:
        """True when no DATABASE_URL is set: the store runs its own PostgreSQL."""
        return self.database_url is None or not self.database_url.get_secret_value().strip()

    @property
    def pgdata(self) -> Path:
        """The embedded server's data directory."""
        return self.home.expanduser() / "pg"
