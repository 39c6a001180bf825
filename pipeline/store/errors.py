"""The store's errors, and the one place where driver errors become them.

    ReelforgeError
     ├── BadInput                 (CLI exit 2, HTTP 4xx)
     │    └── StoreInputError     the database refused a value (names the function and the problem)
     │         ├── InsufficientCredits
     │         ├── UnknownUser
     │         ├── NotFound       unknown hold, job or row
     │         ├── CostAboveHold
     │         └── KeyReused      an idempotency key already took effect with other values
     └── StoreError               the database failed or refused (CLI exit 1, HTTP 5xx/409)
          ├── StoreConfigError    DATABASE_URL or the data folder is unusable
          ├── StoreUnavailable    the database cannot be reached or started
          ├── MigrationError      a migration failed and was rolled back (names the file)
          ├── AccessDenied        a privilege or row-level-security check refused (42501)
          ├── Conflict            a concurrent change won; retrying may succeed
          │    ├── HoldResolved   the credit hold was already settled or released
          │    └── LeaseLost      the worker no longer holds the job's lease
          └── (other SQLSTATEs)

Each class's docstring is its default message.
"""

from __future__ import annotations

import re

import psycopg

from pipeline.errors import BadInput, ReelforgeError

__all__ = [
    "AccessDenied",
    "Conflict",
    "CostAboveHold",
    "HoldResolved",
    "InsufficientCredits",
    "KeyReused",
    "LeaseLost",
    "MigrationError",
    "NotFound",
    "StoreConfigError",
    "StoreError",
    "StoreInputError",
    "StoreUnavailable",
    "UnknownUser",
    "from_driver",
]


class StoreError(ReelforgeError):
    """The database failed."""

    def __init__(self, message: str | None = None, *, sqlstate: str | None = None) -> None:
        self.sqlstate = sqlstate
        super().__init__(message)


class StoreConfigError(StoreError):
    """The database configuration is invalid."""


class StoreUnavailable(StoreError):
    """The database cannot be reached."""


class MigrationError(StoreError):
    """A migration failed and was rolled back."""

    def __init__(self, file: str, detail: str) -> None:
        self.file = file
        super().__init__(f"migration {file} failed and was rolled back: {detail}")


class AccessDenied(StoreError):
    """Permission denied."""


class Conflict(StoreError):
    """A concurrent change won; retry."""


class HoldResolved(Conflict):
    """The credit hold is already resolved."""


class LeaseLost(Conflict):
    """The worker does not hold the job's lease."""


class StoreInputError(BadInput):
    """The database refused a value."""

    def __init__(self, where: str, problem: str, *, sqlstate: str | None = None) -> None:
        self.sqlstate = sqlstate
        super().__init__(where, problem)


class InsufficientCredits(StoreInputError):
    """Not enough credits."""


class UnknownUser(StoreInputError):
    """No such user."""


class NotFound(StoreInputError):
    """No such row."""


class CostAboveHold(StoreInputError):
    """The actual cost exceeds the hold."""


class KeyReused(StoreInputError):
    """The idempotency key was already used with other values."""


_INPUT_CODES: dict[str, type[StoreInputError]] = {
    "RF001": InsufficientCredits,
    "RF002": UnknownUser,
    "RF003": NotFound,
    "RF005": CostAboveHold,
    "RF006": NotFound,
}
_CONFLICT_CODES: dict[str, type[Conflict]] = {
    "RF004": HoldResolved,
    "RF007": LeaseLost,
    "40001": Conflict,
    "40P01": Conflict,
    "55P03": Conflict,
}
_FUNCTION = re.compile(r"function (?:public\.)?(\w+)\(")


def from_driver(exc: psycopg.Error, *, where: str = "database") -> ReelforgeError:
    """Maps a psycopg error to the project's tree by SQLSTATE; the caller raises it ``from exc``."""
    sqlstate = exc.sqlstate or ""
    message = (exc.diag.message_primary or str(exc)).strip()
    context = exc.diag.context or ""
    if match := _FUNCTION.search(context):
        where = match.group(1)
    elif exc.diag.table_name:
        where = exc.diag.table_name
    if sqlstate in _INPUT_CODES:
        return _INPUT_CODES[sqlstate](where, message, sqlstate=sqlstate)
    if sqlstate in _CONFLICT_CODES:
        return _CONFLICT_CODES[sqlstate](f"{where}: {message}", sqlstate=sqlstate)
    if sqlstate.startswith(("22", "23")):
        return StoreInputError(where, message, sqlstate=sqlstate)
    if sqlstate == "42501":
        return AccessDenied(f"{where}: {message}", sqlstate=sqlstate)
    if isinstance(exc, psycopg.OperationalError) and not sqlstate:
        return StoreUnavailable(f"lost the database connection: {message}")
    return StoreError(
        f"{where}: {message} (SQLSTATE {sqlstate or 'none'})", sqlstate=sqlstate or None
    )
