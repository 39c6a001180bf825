"""What a render's provider calls cost, as the manifest and the job's charge record them."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

__all__ = ["Unit", "Usage", "UsageLog"]

Unit = Literal["second", "image", "1k_chars", "minute", "1k_tokens", "call"]

class Usage(BaseModel):
    """One provider call as billed: ``credits`` is 0 for a cache hit (nothing was paid)."""

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    unit: Unit
    units: float
    credits: Decimal
    cached: bool = False
    what: str = ""  # e.g. "scene 2 9x16", "script", "voice scene 0"
    task_id: str | None = None


class UsageLog(Protocol):
    """What the render reads of a provider meter: every call and cache hit, and their total."""

    @property
    def usages(self) -> tuple[Usage, ...]: ...

    @property
    def credits(self) -> int: ...
