"""The fake's tables: every row behind one lock, the injected clock, and the constraint errors
PostgreSQL would raise (as ``from_driver`` would deliver them)."""

from __future__ import annotations

import itertools
import json
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pipeline.creative import CreativeAttributes
from pipeline.store.errors import StoreInputError
from pipeline.store.models import (
    ApiKey,
    BillingEvent,
    CreditHold,
    Job,
    JobEvent,
    JobState,
    LedgerEntry,
    Project,
    Render,
    Upload,
    WebhookDelivery,
    WebhookEndpoint,
)

__all__ = [
    "FINISHED",
    "FORMAT",
    "URL",
    "WORKING",
    "ApiKeyRow",
    "ClaimRow",
    "Clock",
    "CreativeRow",
    "DeliveryRow",
    "EndpointRow",
    "KeyRow",
    "ManualClock",
    "ProjectRow",
    "ProviderEventRow",
    "RenderRow",
    "Row",
    "State",
    "argument",
    "check",
    "foreign_key",
    "job_of",
    "json_time",
    "jsonb",
    "project_of",
    "row_limit",
    "utc_now",
]

Clock = Callable[[], datetime]
Row = dict[str, Any]

WORKING = frozenset({JobState.PLANNING, JobState.GENERATING, JobState.COMPOSING, JobState.QC})
FINISHED = frozenset({JobState.DELIVERED, JobState.FAILED, JobState.CANCELED})
FORMAT = re.compile(r"[0-9]+x[0-9]+")
URL = re.compile(r"https?://.*", re.DOTALL)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock for tests: it stands still (or moves ``step`` per reading) until ``advance``."""

    def __init__(self, start: datetime | None = None, *, step: timedelta = timedelta(0)) -> None:
        self._now = start or utc_now()
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now = self._now
            self._now += self._step
            return now

    def advance(self, seconds: float) -> None:
        """Moves the clock ``seconds`` forward (leases run out, keys age)."""
        with self._lock:
            self._now += timedelta(seconds=seconds)


# --- Errors as PostgreSQL's would arrive through ``from_driver`` -------------------------------


def check(ok: bool, table: str, constraint: str) -> None:
    """A CHECK or NOT NULL constraint (23514)."""
    if not ok:
        problem = f'new row for relation "{table}" violates check constraint "{constraint}"'
        raise StoreInputError(table, problem, sqlstate="23514")


def foreign_key(ok: bool, table: str, constraint: str) -> None:
    """A foreign key (23503); foreign-key checks ignore row-level security, as in PostgreSQL."""
    if not ok:
        problem = (
            f'insert or update on table "{table}" violates foreign key constraint "{constraint}"'
        )
        raise StoreInputError(table, problem, sqlstate="23503")


def argument(ok: bool, where: str, problem: str) -> None:
    """A bad argument a SQL function refuses (22023)."""
    if not ok:
        raise StoreInputError(where, problem, sqlstate="22023")


def row_limit(limit: int) -> int:
    if limit < 0:
        raise StoreInputError("database", "LIMIT must not be negative", sqlstate="2201W")
    return limit


def jsonb(value: Any) -> Any:
    """A value as jsonb gives it back: JSON types only, and a copy the caller cannot change."""
    return json.loads(json.dumps(value))


def json_time(moment: datetime | None) -> str | None:
    """A timestamptz as ``jsonb_build_object`` writes it (in UTC)."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "+00:00"


# --- Rows the models do not carry whole ---------------------------------------------------------


@dataclass
class ProjectRow:
    user_id: UUID
    project: Project


@dataclass
class RenderRow:
    id: UUID
    user_id: UUID
    job_id: UUID
    render: Render
    qc: Any


@dataclass
class EndpointRow:
    row: WebhookEndpoint
    previous_secret: str | None = None


@dataclass
class DeliveryRow:
    row: WebhookDelivery
    lease_owner: str | None = None


@dataclass
class KeyRow:
    request_hash: str
    created_at: datetime
    locked_until: datetime | None
    state: str = "running"
    status: int | None = None
    body: Any = None


@dataclass
class ProviderEventRow:
    id: int
    provider: str
    event_id: str
    payload: Any
    subject: str | None
    occurred_at: datetime | None
    job_id: UUID | None
    processed_at: datetime | None = None


@dataclass
class ApiKeyRow:
    user_id: UUID
    secret_hash: str
    key: ApiKey


@dataclass
class ClaimRow:
    """A generation claim (``generation_claims``)."""

    owner: str
    lease_expires_at: datetime
    state: str = "pending"
    attempts: int = 1
    error: str | None = None


@dataclass
class CreativeRow:
    attributes: CreativeAttributes
    job_id: UUID | None
    project_id: UUID | None
    created_at: datetime


@dataclass
class State:
    """Every table, the one lock, the clock and the job wake-up listeners."""

    clock: Clock
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: dict[UUID, str | None] = field(default_factory=dict)
    starting_grant: int = 0  # app_config.starting_grant
    balances: dict[UUID, int] = field(default_factory=dict)
    holds: dict[UUID, CreditHold] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    projects: dict[UUID, ProjectRow] = field(default_factory=dict)
    jobs: dict[UUID, Job] = field(default_factory=dict)
    events: list[JobEvent] = field(default_factory=list)
    renders: list[RenderRow] = field(default_factory=list)
    endpoints: dict[UUID, EndpointRow] = field(default_factory=dict)
    deliveries: dict[UUID, DeliveryRow] = field(default_factory=dict)
    keys: dict[tuple[UUID, str], KeyRow] = field(default_factory=dict)
    provider_events: list[ProviderEventRow] = field(default_factory=list)
    billing_events: list[BillingEvent] = field(default_factory=list)
    creatives: dict[tuple[UUID, str], CreativeRow] = field(default_factory=dict)
    performance: dict[tuple[Any, ...], Row] = field(default_factory=dict)
    imports: dict[UUID, Row] = field(default_factory=dict)
    import_locks: dict[UUID, threading.Lock] = field(default_factory=dict)
    listeners: list[queue.SimpleQueue[UUID]] = field(default_factory=list)
    serials: dict[str, Iterator[int]] = field(default_factory=dict)
    uploads: dict[UUID, Upload] = field(default_factory=dict)
    api_keys: dict[UUID, ApiKeyRow] = field(default_factory=dict)
    claims: dict[str, ClaimRow] = field(default_factory=dict)  # cache key → its claim

    def now(self) -> datetime:
        return self.clock()

    def serial(self, table: str) -> int:
        """The next value of a table's bigserial."""
        return next(self.serials.setdefault(table, itertools.count(1)))

    def notify(self, job_id: UUID) -> None:
        """``pg_notify`` on the jobs channel, to every open ``wakeups()``."""
        for listener in self.listeners:
            listener.put(job_id)


def project_of(st: State, project_id: UUID | None, user_id: UUID) -> bool:
    """Whether the (project, user) pair exists (a composite foreign key's check)."""
    if project_id is None:
        return True
    found = st.projects.get(project_id)
    return found is not None and found.user_id == user_id


def job_of(st: State, job_id: UUID | None, user_id: UUID) -> bool:
    if job_id is None:
        return True
    found = st.jobs.get(job_id)
    return found is not None and found.user_id == user_id
