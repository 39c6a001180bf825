"""Loading a brief file for a render: its http(s) files fetched into the asset cache first."""

from __future__ import annotations

from pathlib import Path

from pipeline.brief import Brief
from pipeline.download import load_brief_fetching
from pipeline.settings import Settings

__all__ = ["load_brief"]


def load_brief(path: Path, settings: Settings) -> Brief:
    """The brief at ``path``, validated, every file it names local (URLs downloaded into
    ``settings.asset_cache`` through the SSRF-safe downloader)."""
    return load_brief_fetching(path, settings.asset_cache)
