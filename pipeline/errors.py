"""The one exception tree of reelforge.

    ReelforgeError
     ├── BadInput          the user's brief, files or options are wrong  (CLI exit 2, HTTP 4xx)
     │    └── BriefError   a brief field is invalid (names the field)
     ├── StageError        a pipeline stage failed unexpectedly          (CLI exit 1, HTTP 5xx)
     │    ├── MediaError   FFmpeg or probing failed
     │    ├── QCError      an output failed an automatic quality check (names the check)
     │    └── ProviderError  a generative provider failed (pipeline.providers: unavailable,
     │                       rejected, rate limited)
     ├── StorageError      a blob store operation failed (pipeline.storage; BlobNotFound under it)
     └── StoreError        the database failed (pipeline.store)

Each class's docstring is its default message.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BadInput", "BriefError", "MediaError", "QCError", "ReelforgeError", "StageError"]


class ReelforgeError(Exception):
    """reelforge failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled whole, whatever the subclass's constructor takes: an error raised in another
        process (a Modal container) arrives as the same class with the same fields."""
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(cls: type[ReelforgeError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class BadInput(ReelforgeError):
    """The input is invalid."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}")


class BriefError(BadInput):
    """A brief field is invalid."""


class StageError(ReelforgeError):
    """A pipeline stage failed."""

    def __init__(self, stage: str, detail: str) -> None:
        self.stage = stage
        self.detail = detail
        super().__init__(f"stage {stage} failed: {detail}")


class MediaError(StageError):
    """FFmpeg or probing failed."""


class QCError(StageError):
    """An output failed a quality check."""

    def __init__(self, check: str, detail: str) -> None:
        self.check = check
        super().__init__("qc", f"check {check} failed: {detail}")
