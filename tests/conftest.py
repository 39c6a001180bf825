"""Shared fixtures: sample photos, a valid brief on disk, and helpers to write variants of it."""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT / "examples" / "photos"


@pytest.fixture(autouse=True)
def isolated_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads or writes the developer's own data folder or database, or calls a paid
    provider with the developer's keys. The folder lies outside pytest's temporary root: an
    embedded PostgreSQL runs as its own user and needs to reach it, and another pytest session
    on the machine resets that root's permissions."""
    home = Path(tempfile.mkdtemp(prefix="reelforge-test-home-"))
    monkeypatch.setenv("REELFORGE_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield home
    shutil.rmtree(home, ignore_errors=True)


PROVIDER_VARIABLES = (
    "OPENROUTER_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "KLING_ACCESS_KEY",
    "KLING_SECRET_KEY", "FAL_KEY", "ELEVENLABS_API_KEY", "PEXELS_API_KEY", "HEYGEN_API_KEY",
    "HEYGEN_AVATAR_ID", "HEYGEN_VOICE_ID", "REELFORGE_SCRIPT_PROVIDER", "REELFORGE_CLIP_PROVIDER",
    "REELFORGE_VOICE_PROVIDER", "REELFORGE_SCRIPT_MODEL",
    "REELFORGE_CLIP_MODEL", "REELFORGE_IMAGE_MODEL", "REELFORGE_VOICE_MODEL", "REELFORGE_PUBLIC_URL",
    "REELFORGE_PROVIDER_PRICES", "REELFORGE_PROVIDER_CACHE", "REELFORGE_ELEVENLABS_VOICES",
    "META_ACCESS_TOKEN", "GOOGLE_ADS_DEVELOPER_TOKEN", "GOOGLE_ADS_ACCESS_TOKEN",
)  # fmt: skip


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("coffee.png", "chelsea.png"):
        shutil.copy(PHOTOS / name, folder / name)
    return folder


BASE_BRIEF: dict[str, Any] = {
    "version": 1,
    "product": {
        "name": "Aurora Espresso Cup",
        "sku": "AUR-ESP-01",
        "description": "A double-walled porcelain espresso cup that keeps crema hot.",
        "features": ["Double-walled porcelain", "Keeps espresso hot", "Dishwasher safe"],
        "price": 24.9,
        "currency": "USD",
        "url": "https://example.com/cup",
        "photos": ["photos/coffee.png"],
    },
    "brand": {"name": "Aurora Coffee", "tone": "warm, crafted", "locale": "en"},
    "template": "product_showcase",
    "duration": 8,
    "formats": ["9x16"],
    "options": 2,
    "voice": {"enabled": True},
}


@pytest.fixture
def brief_data() -> dict[str, Any]:
    return copy.deepcopy(BASE_BRIEF)


@pytest.fixture
def write_brief(tmp_path: Path, photo_dir: Path) -> Callable[[dict[str, Any]], Path]:
    def write(data: dict[str, Any], name: str = "brief.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write
