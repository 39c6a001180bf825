"""PostgreSQL persistence on Supabase or an embedded server: the Store (connections and
transactions), one repository per aggregate bundled in ``Repositories``, their row models and
errors, and the migration runner."""

from __future__ import annotations

from pipeline.store.database import Store, open_store
from pipeline.store.errors import (
    AccessDenied,
    Conflict,
    CostAboveHold,
    HoldResolved,
    InsufficientCredits,
    KeyReused,
    LeaseLost,
    MigrationError,
    NotFound,
    StoreConfigError,
    StoreError,
    StoreInputError,
    StoreUnavailable,
    UnknownUser,
)
from pipeline.store.migrations import migrate, migration_status
from pipeline.store.models import CreditHold, HoldStatus, Job, JobEvent, JobState, LedgerEntry
from pipeline.store.repositories import Repositories

__all__ = [
    "AccessDenied",
    "Conflict",
    "CostAboveHold",
    "CreditHold",
    "HoldResolved",
    "HoldStatus",
    "InsufficientCredits",
    "Job",
    "JobEvent",
    "JobState",
    "KeyReused",
    "LeaseLost",
    "LedgerEntry",
    "MigrationError",
    "NotFound",
    "Repositories",
    "Store",
    "StoreConfigError",
    "StoreError",
    "StoreInputError",
    "StoreUnavailable",
    "UnknownUser",
    "migrate",
    "migration_status",
    "open_store",
]
