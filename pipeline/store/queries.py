"""SQL queries stored as package files (``queries/<name>.sql``), loaded by name."""

from __future__ import annotations

import functools
from importlib import resources

__all__ = ["query"]


@functools.cache
def query(name: str) -> str:
    """The text of ``queries/<name>.sql``."""
    return (
        resources.files("pipeline.store")
        .joinpath("queries")
        .joinpath(f"{name}.sql")
        .read_text("utf-8")
    )
