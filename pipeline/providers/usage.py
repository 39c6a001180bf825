"""What a job's provider calls cost: one Usage per call (or cache hit), summed into credits."""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from pipeline.providers.prices import PriceTable, default_prices
from pipeline.usage import Usage

__all__ = ["UsageMeter"]


class UsageMeter:
    """Thread-safe record of every provider call a job makes, priced from a ``PriceTable``.

    Adapters call :meth:`record` after a call succeeds (a failed call costs nothing at the
    providers reelforge uses), and :meth:`cached` when a cached asset stood in for a call.
    """

    def __init__(
        self,
        prices: PriceTable | None = None,
        *,
        log: Path | None = None,
        on_write: Callable[[Path], None] | None = None,
    ) -> None:
        """``log``: a JSON-lines file that keeps every usage across attempts of a job (in the
        job's work folder); the usages already in it are loaded, so a resumed attempt still
        charges what an earlier one paid."""
        self.prices = prices or default_prices()
        self._lock = threading.Lock()
        self._log = log
        self._on_write = on_write  # told after every usage logged (see TaskJournal)
        self._usages: list[Usage] = []
        if log is not None and log.is_file():
            text = log.read_text(encoding="utf-8")
            if text and not text.endswith("\n"):
                with log.open("a", encoding="utf-8") as f:
                    f.write("\n")  # the next usage starts on a line of its own
            for line in text.splitlines():
                with contextlib.suppress(ValueError):  # a line torn by a crash
                    self._usages.append(Usage.model_validate_json(line))

    def check(self, provider: str, model: str) -> None:
        """Raises BadInput before a call when the price table cannot price it."""
        self.prices.price(provider, model)

    def record(
        self,
        provider: str,
        model: str,
        units: float,
        *,
        what: str = "",
        task_id: str | None = None,
    ) -> Usage:
        price = self.prices.price(provider, model)
        usage = Usage(
            provider=provider,
            model=model,
            unit=price.unit,
            units=units,
            credits=price.credits * Decimal(str(units)),
            what=what,
            task_id=task_id,
        )
        self._append(usage)
        return usage

    def cached(self, provider: str, model: str, *, what: str = "") -> Usage:
        usage = Usage(
            provider=provider,
            model=model,
            unit=self.prices.price(provider, model).unit,
            units=0,
            credits=Decimal(0),
            cached=True,
            what=what,
        )
        self._append(usage)
        return usage

    def _append(self, usage: Usage) -> None:
        with self._lock:
            self._usages.append(usage)
            if self._log is not None:
                self._log.parent.mkdir(parents=True, exist_ok=True)
                with self._log.open("a", encoding="utf-8") as f:
                    f.write(usage.model_dump_json() + "\n")
                if self._on_write is not None:
                    self._on_write(self._log)

    @property
    def usages(self) -> tuple[Usage, ...]:
        with self._lock:
            return tuple(self._usages)

    @property
    def credits(self) -> int:
        """Everything spent so far, rounded up to whole credits."""
        with self._lock:
            total = sum((u.credits for u in self._usages), Decimal(0))
        return math.ceil(total)

    @property
    def calls(self) -> int:
        """Provider calls paid for (cache hits excluded)."""
        with self._lock:
            return sum(1 for u in self._usages if not u.cached)
