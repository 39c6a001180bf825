"""Shared fixtures: sample photos, a valid brief on disk, and helpers to write variants of it."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT / "examples" / "photos"


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the developer's own data folder or database."""
    monkeypatch.setenv("REELFORGE_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("DATABASE_URL", raising=False)


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
