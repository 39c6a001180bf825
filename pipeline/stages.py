"""Stage bookkeeping: names, timings, progress reports, and errors attributed to their stage."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from pipeline.errors import ReelforgeError, StageError

__all__ = ["STAGES", "NullReporter", "Reporter", "StageClock"]

STAGES = (
    "brief", "palette", "script", "prompts", "voice", "soundtrack",
    "captions", "visuals", "compose", "qc", "deliver",
)  # fmt: skip


class Reporter(Protocol):
    def started(self, stage: str) -> None: ...
    def advanced(self, stage: str, fraction: float) -> None: ...
    def finished(self, stage: str, seconds: float) -> None: ...


class NullReporter:
    def started(self, stage: str) -> None:
        pass

    def advanced(self, stage: str, fraction: float) -> None:
        pass

    def finished(self, stage: str, seconds: float) -> None:
        pass


class StageClock:
    """Times each stage and turns unexpected exceptions into a StageError naming it."""

    def __init__(self, reporter: Reporter | None = None) -> None:
        self.reporter: Reporter = reporter or NullReporter()
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.reporter.started(name)
        start = time.perf_counter()
        try:
            yield
        except ReelforgeError:
            raise
        except Exception as exc:
            raise StageError(name, f"{type(exc).__name__}: {exc}") from exc
        elapsed = time.perf_counter() - start
        self.seconds[name] = round(self.seconds.get(name, 0.0) + elapsed, 4)
        self.reporter.finished(name, elapsed)
