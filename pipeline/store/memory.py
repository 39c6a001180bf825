"""In-memory repositories for unit tests: every repository Protocol of the store, held in dicts
behind one lock, with the rules PostgreSQL enforces (the SQL functions, constraints, trigger and
row-level security of the migrations) and the same models and errors.

Emulated:
  - credits: the balance never goes negative, a hold resolves once, a settle charges at most the
    hold and returns the rest, sum(ledger) = balance, one effect per idempotency key;
  - the queue: claim order, leases that run out by the injected clock, attempts and
    max_attempts, every transition with its NotFound/LeaseLost, the events each SQL function
    appends, dedupe keys, wake-ups on enqueue, retry and release;
  - the outbox the job-state trigger writes on delivered/failed/canceled (one delivery per
    subscribed enabled endpoint, webhook-id ``msg_job_<job>_<state>``), webhook claims under a
    lease, attempts, disabling endpoints;
  - idempotency keys, provider events, projects with ``updated_at`` as their version, renders
    once per format, creatives, performance imports (all rows or none);
  - what a user may see, as row-level security decides it;
  - the check and foreign-key constraints a caller can hit, as StoreInputError.

Not emulated:
  - transactions: a method given a caller's ``conn`` ignores it and takes effect at once, so
    nothing is rolled back with the caller's transaction (a performance import is the
    exception: it commits when its block ends, or not at all);
  - concurrency beyond one lock around each call: no SKIP LOCKED, deadlocks or serialization
    failures; wake-ups arrive at once, not on commit;
  - time: the injected clock, read once per call (PostgreSQL's ``now()`` is the transaction's
    start); a project's new ``updated_at`` is always later than its last, as
    ``clock_timestamp()`` makes it;
  - error texts follow the SQL's but only the error types, ``where`` and SQLSTATEs are promised.
"""

from __future__ import annotations

import itertools
import json
import queue
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import SecretStr

from pipeline.creative import CreativeAttributes
from pipeline.store.analytics import ImportOutcome
from pipeline.store.credits import _credits
from pipeline.store.errors import (
    CostAboveHold,
    HoldResolved,
    InsufficientCredits,
    LeaseLost,
    NotFound,
    StoreInputError,
    UnknownUser,
)
from pipeline.store.jobs import JobWakeups
from pipeline.store.models import (
    AssetCost,
    ClaimedDelivery,
    CreditHold,
    DeliveryStatus,
    HoldStatus,
    IdempotencyRecord,
    Job,
    JobDetail,
    JobEvent,
    JobListing,
    JobState,
    KeyClaim,
    LedgerEntry,
    Project,
    Render,
    StoredCreative,
    WebhookDelivery,
    WebhookEndpoint,
)
from pipeline.store.repositories import Repositories

if TYPE_CHECKING:
    from pipeline.manifest import OutputEntry

__all__ = ["Clock", "ManualClock", "MemoryRepositories"]

Clock = Callable[[], datetime]
Row = dict[str, Any]

_WORKING = frozenset({JobState.PLANNING, JobState.GENERATING, JobState.COMPOSING, JobState.QC})
_FINISHED = frozenset({JobState.DELIVERED, JobState.FAILED, JobState.CANCELED})
_EVENT_KINDS = frozenset({"state", "progress", "claimed", "heartbeat", "retry", "log"})
_EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
_FORMAT = re.compile(r"[0-9]+x[0-9]+")
_URL = re.compile(r"https?://.*", re.DOTALL)
_SOURCES = frozenset({"meta_csv", "google_csv", "meta_api", "google_api"})
_MAX_CREDITS = 1_000_000_000
_PERFORMANCE_COLUMNS = (
    "source", "creative_id", "ad_key", "ad_name", "period_start", "period_end", "placement",
    "currency", "impressions", "clicks", "spend", "purchases", "revenue", "video_3s_plays",
    "thruplays",
)  # fmt: skip
_PERFORMANCE_VALUES = (
    "ad_name", "currency", "impressions", "clicks", "spend", "purchases", "revenue",
    "video_3s_plays", "thruplays",
)  # fmt: skip


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock for tests: it stands still (or moves ``step`` per reading) until ``advance``."""

    def __init__(self, start: datetime | None = None, *, step: timedelta = timedelta(0)) -> None:
        self._now = start or _utc_now()
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


def _check(ok: bool, table: str, constraint: str) -> None:
    """A CHECK or NOT NULL constraint (23514)."""
    if not ok:
        problem = f'new row for relation "{table}" violates check constraint "{constraint}"'
        raise StoreInputError(table, problem, sqlstate="23514")


def _foreign_key(ok: bool, table: str, constraint: str) -> None:
    """A foreign key (23503); foreign-key checks ignore row-level security, as in PostgreSQL."""
    if not ok:
        problem = (
            f'insert or update on table "{table}" violates foreign key constraint "{constraint}"'
        )
        raise StoreInputError(table, problem, sqlstate="23503")


def _argument(ok: bool, where: str, problem: str) -> None:
    """A bad argument a SQL function refuses (22023)."""
    if not ok:
        raise StoreInputError(where, problem, sqlstate="22023")


def _limit(limit: int) -> int:
    if limit < 0:
        raise StoreInputError("database", "LIMIT must not be negative", sqlstate="2201W")
    return limit


def _json(value: Any) -> Any:
    """A value as jsonb gives it back: JSON types only, and a copy the caller cannot change."""
    return json.loads(json.dumps(value))


def _json_time(moment: datetime | None) -> str | None:
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
class _ProjectRow:
    user_id: UUID
    project: Project


@dataclass
class _RenderRow:
    id: UUID
    user_id: UUID
    job_id: UUID
    render: Render
    qc: Any


@dataclass
class _Endpoint:
    row: WebhookEndpoint
    previous_secret: str | None = None


@dataclass
class _Delivery:
    row: WebhookDelivery
    lease_owner: str | None = None


@dataclass
class _Key:
    request_hash: str
    created_at: datetime
    locked_until: datetime | None
    state: str = "running"
    status: int | None = None
    body: Any = None


@dataclass
class _ProviderEvent:
    id: int
    provider: str
    event_id: str
    payload: Any
    subject: str | None
    occurred_at: datetime | None
    job_id: UUID | None
    processed_at: datetime | None = None


@dataclass
class _Creative:
    attributes: CreativeAttributes
    job_id: UUID | None
    project_id: UUID | None
    created_at: datetime


@dataclass
class _State:
    """Every table, the one lock, the clock and the job wake-up listeners."""

    clock: Clock
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: dict[UUID, str | None] = field(default_factory=dict)
    balances: dict[UUID, int] = field(default_factory=dict)
    holds: dict[UUID, CreditHold] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    projects: dict[UUID, _ProjectRow] = field(default_factory=dict)
    jobs: dict[UUID, Job] = field(default_factory=dict)
    events: list[JobEvent] = field(default_factory=list)
    renders: list[_RenderRow] = field(default_factory=list)
    endpoints: dict[UUID, _Endpoint] = field(default_factory=dict)
    deliveries: dict[UUID, _Delivery] = field(default_factory=dict)
    keys: dict[tuple[UUID, str], _Key] = field(default_factory=dict)
    provider_events: list[_ProviderEvent] = field(default_factory=list)
    creatives: dict[tuple[UUID, str], _Creative] = field(default_factory=dict)
    performance: dict[tuple[Any, ...], Row] = field(default_factory=dict)
    imports: dict[UUID, Row] = field(default_factory=dict)
    import_locks: dict[UUID, threading.Lock] = field(default_factory=dict)
    listeners: list[queue.SimpleQueue[UUID]] = field(default_factory=list)
    serials: dict[str, Iterator[int]] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()

    def serial(self, table: str) -> int:
        """The next value of a table's bigserial."""
        return next(self.serials.setdefault(table, itertools.count(1)))

    def notify(self, job_id: UUID) -> None:
        """``pg_notify`` on the jobs channel, to every open ``wakeups()``."""
        for listener in self.listeners:
            listener.put(job_id)


# --- The outbox and the job rows, shared by several repositories --------------------------------


def _enqueue_webhook(
    st: _State,
    user_id: UUID,
    event_type: str,
    payload: Mapping[str, Any],
    webhook_id: str | None,
    now: datetime,
) -> list[WebhookDelivery]:
    """``enqueue_webhook``: one pending delivery per subscribed enabled endpoint of the user; a
    webhook id an endpoint already has adds nothing for it."""
    if user_id not in st.users:
        raise UnknownUser("enqueue_webhook", f"unknown user {user_id}", sqlstate="RF002")
    _argument(
        _EVENT_TYPE.fullmatch(event_type) is not None and len(event_type) <= 100,
        "enqueue_webhook",
        f"event type must be dotted lower-case words, not {event_type}",
    )
    body = _json(dict(payload))
    _argument(
        len(json.dumps(body)) <= 262144,
        "enqueue_webhook",
        "payload must be JSON of at most 256 KiB",
    )
    message_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    made = []
    for endpoint in list(st.endpoints.values()):
        row = endpoint.row
        if row.user_id != user_id or not row.enabled:
            continue
        if row.events and event_type not in row.events:
            continue
        ok = _WEBHOOK_ID.fullmatch(message_id) is not None
        _check(ok, "webhook_deliveries", "webhook_deliveries_webhook_id_check")
        if any(
            d.row.endpoint_id == row.id and d.row.webhook_id == message_id
            for d in st.deliveries.values()
        ):
            continue
        delivery = WebhookDelivery(
            id=uuid.uuid4(),
            webhook_id=message_id,
            user_id=user_id,
            endpoint_id=row.id,
            event_type=event_type,
            payload=body,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            last_status_code=None,
            last_error=None,
            created_at=now,
            delivered_at=None,
        )
        st.deliveries[delivery.id] = _Delivery(delivery)
        made.append(delivery.model_copy(deep=True))
    return made


def _job_payload(job: Job) -> dict[str, Any]:
    """The body the ``jobs_state_webhook`` trigger builds."""
    return {
        "job_id": str(job.id),
        "project_id": None if job.project_id is None else str(job.project_id),
        "state": str(job.state),
        "error": job.error,
        "attempts": job.attempts,
        "finished_at": _json_time(job.finished_at),
    }


def _update_job(st: _State, job: Job, now: datetime, **changes: Any) -> Job:
    """An UPDATE of a job row (``updated_at`` = now) and the trigger of migration 0005: reaching
    delivered, failed or canceled writes the job's webhook to the outbox."""
    new = job.model_copy(update={**changes, "updated_at": now})
    st.jobs[job.id] = new
    if new.state in _FINISHED and new.state != job.state:
        webhook_id = f"msg_job_{new.id.hex}_{new.state}"
        _enqueue_webhook(st, new.user_id, f"job.{new.state}", _job_payload(new), webhook_id, now)
    return new


def _add_event(
    st: _State, job: Job, kind: str, now: datetime, message: str | None = None
) -> JobEvent:
    """``add_job_event``: the job's state and progress as they are now."""
    event = JobEvent(
        id=st.serial("job_events"),
        job_id=job.id,
        user_id=job.user_id,
        kind=kind,
        state=job.state,
        progress=job.progress,
        message=message,
        created_at=now,
    )
    st.events.append(event)
    return event


def _due(job: Job, now: datetime) -> bool:
    """Runnable: queued and due, or working with an expired lease."""
    if job.state == JobState.QUEUED:
        return job.run_after <= now
    expires = job.lease_expires_at
    return job.state in _WORKING and expires is not None and expires < now


def _take(st: _State, job: Job, worker: str, lease_seconds: int, now: datetime) -> Job:
    """``take_job``: the worker's under a lease (attempts + 1), or failed when the lease ran
    out on the last attempt."""
    if job.state != JobState.QUEUED and job.attempts >= job.max_attempts:
        error = (
            f"lease of {job.lease_owner or ''} expired on attempt {job.attempts} of "
            f"{job.max_attempts}"
        )
        failed = _update_job(
            st,
            job,
            now,
            state=JobState.FAILED,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            error=error,
        )
        _add_event(st, failed, "state", now, error)
        return failed
    taken = _update_job(
        st,
        job,
        now,
        attempts=job.attempts + 1,
        lease_owner=worker,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        state=JobState.PLANNING if job.state == JobState.QUEUED else job.state,
    )
    message = f"{worker}, attempt {taken.attempts} of {taken.max_attempts}"
    _add_event(st, taken, "claimed", now, message)
    return taken


def _claim_arguments(worker: str, lease_seconds: int) -> None:
    where = "check_claim_arguments"
    _argument(1 <= len(worker) <= 200, where, "worker name must be 1 to 200 characters")
    _argument(1 <= lease_seconds <= 86400, where, "lease must be between 1 and 86400 seconds")


def _progress(where: str, progress: float | None) -> None:
    _argument(progress is None or 0 <= progress <= 1, where, "progress must be between 0 and 1")


def _leased(st: _State, job_id: UUID, worker: str) -> Job:
    """``lock_leased_job``: the job, if this worker holds its lease in a working state."""
    job = st.jobs.get(job_id)
    if job is None:
        raise NotFound("lock_leased_job", f"unknown job {job_id}", sqlstate="RF006")
    if job.lease_owner != worker or job.state not in _WORKING:
        raise LeaseLost(
            f"lock_leased_job: worker {worker} does not hold the lease of job {job_id} "
            f"(state {job.state}, owner {job.lease_owner or 'none'})",
            sqlstate="RF007",
        )
    return job


def _job_state(state: JobState | str) -> JobState:
    """A state argument, cast as the query's ``::public.job_state`` casts it."""
    try:
        return JobState(state)
    except ValueError:
        problem = f'invalid input value for enum job_state: "{state}"'
        raise StoreInputError("database", problem, sqlstate="22P02") from None


def _project_of(st: _State, project_id: UUID | None, user_id: UUID) -> bool:
    """Whether the (project, user) pair exists (a composite foreign key's check)."""
    if project_id is None:
        return True
    found = st.projects.get(project_id)
    return found is not None and found.user_id == user_id


def _job_of(st: _State, job_id: UUID | None, user_id: UUID) -> bool:
    if job_id is None:
        return True
    found = st.jobs.get(job_id)
    return found is not None and found.user_id == user_id


# --- Credits ------------------------------------------------------------------------------------


def _amount(where: str, amount: int) -> None:
    """``check_credit_amount``."""
    if not 0 < amount <= _MAX_CREDITS:
        problem = f"{where} must be between 1 and {_MAX_CREDITS}, got {amount}"
        raise StoreInputError("check_credit_amount", problem, sqlstate="22023")


class MemoryCredits:
    """The credits repository in memory (migration 0002's functions)."""

    def __init__(self, st: _State) -> None:
        self._st = st

    def _account(self, user_id: UUID) -> int:
        """``lock_credit_account``: the balance, opening the account of a known user."""
        if user_id not in self._st.balances:
            if user_id not in self._st.users:
                raise UnknownUser(
                    "lock_credit_account", f"unknown user {user_id}", sqlstate="RF002"
                )
            self._st.balances[user_id] = 0
        return self._st.balances[user_id]

    def _entry(
        self,
        user_id: UUID,
        delta: int,
        reason: str,
        now: datetime,
        *,
        hold_id: UUID | None = None,
        key: str | None = None,
    ) -> LedgerEntry:
        """Moves the balance by ``delta`` and appends the ledger entry saying so."""
        balance = self._st.balances[user_id] + delta
        self._st.balances[user_id] = balance
        entry = LedgerEntry(
            id=self._st.serial("credit_ledger"),
            user_id=user_id,
            delta=delta,
            balance_after=balance,
            reason=reason,
            hold_id=hold_id,
            idempotency_key=key,
            created_at=now,
        )
        self._st.ledger.append(entry)
        return entry

    def adjust(
        self, *, user_id: UUID, amount: int, reason: str, idempotency_key: str
    ) -> LedgerEntry:
        """``safe_adjust_credits``: once per key; a replayed key returns the first entry."""
        where = "safe_adjust_credits"
        _amount("amount", abs(_credits(where, "amount", amount)))
        _argument(1 <= len(reason) <= 200, where, "reason must be 1 to 200 characters")
        ok = 1 <= len(idempotency_key) <= 200
        _argument(ok, where, "idempotency key must be 1 to 200 characters")
        with self._st.lock:
            balance = self._account(user_id)
            for entry in self._st.ledger:
                if entry.user_id == user_id and entry.idempotency_key == idempotency_key:
                    return entry
            if balance + amount < 0:
                problem = f"insufficient credits: balance {balance}, adjustment {amount}"
                raise InsufficientCredits(where, problem, sqlstate="RF001")
            return self._entry(user_id, amount, reason, self._st.now(), key=idempotency_key)

    def hold(
        self,
        *,
        user_id: UUID,
        amount: int,
        job_id: UUID | None = None,
        idempotency_key: str | None = None,
    ) -> CreditHold:
        """``hold_credits``: reserves credits, once per key."""
        where = "hold_credits"
        _amount("amount", _credits(where, "amount", amount))
        with self._st.lock:
            balance = self._account(user_id)
            if idempotency_key is not None:
                for held in self._st.holds.values():
                    if held.user_id == user_id and held.idempotency_key == idempotency_key:
                        return held
            _argument(
                _job_of(self._st, job_id, user_id),
                where,
                f"unknown job {job_id} for user {user_id}",
            )
            if balance < amount:
                problem = f"insufficient credits: balance {balance}, needed {amount}"
                raise InsufficientCredits(where, problem, sqlstate="RF001")
            key_ok = idempotency_key is None or 1 <= len(idempotency_key) <= 200
            _check(key_ok, "credit_holds", "credit_holds_idempotency_key_check")
            return self._new_hold(user_id, amount, job_id, idempotency_key)

    def _new_hold(
        self, user_id: UUID, amount: int, job_id: UUID | None, key: str | None
    ) -> CreditHold:
        now = self._st.now()
        held = CreditHold(
            id=uuid.uuid4(),
            user_id=user_id,
            job_id=job_id,
            amount=amount,
            status=HoldStatus.HELD,
            settled_amount=None,
            idempotency_key=key,
            created_at=now,
            resolved_at=None,
        )
        self._st.holds[held.id] = held
        self._entry(user_id, -amount, "hold", now, hold_id=held.id)
        return held

    def _locked_hold(self, hold_id: UUID) -> CreditHold:
        """``lock_credit_hold``."""
        held = self._st.holds.get(hold_id)
        if held is None:
            raise NotFound("lock_credit_hold", f"unknown hold {hold_id}", sqlstate="RF003")
        return held

    def settle(self, *, hold_id: UUID, actual: int) -> CreditHold:
        """``settle_hold``: charges ``actual`` (at most the hold) and returns the rest; settling
        again with the same cost returns the settled hold."""
        where = "settle_hold"
        _credits(where, "actual", actual)
        _argument(actual >= 0, where, f"actual cost must be 0 or more, got {actual}")
        with self._st.lock:
            held = self._locked_hold(hold_id)
            if held.status == HoldStatus.SETTLED and held.settled_amount == actual:
                return held
            if held.status != HoldStatus.HELD:
                problem = f"hold {hold_id} is already {held.status}"
                raise HoldResolved(f"{where}: {problem}", sqlstate="RF004")
            if actual > held.amount:
                problem = f"actual cost {actual} exceeds hold {hold_id} of {held.amount}"
                raise CostAboveHold(where, problem, sqlstate="RF005")
            now = self._st.now()
            held = held.model_copy(
                update={"status": HoldStatus.SETTLED, "settled_amount": actual, "resolved_at": now}
            )
            self._st.holds[hold_id] = held
            if held.amount > actual:
                rest = held.amount - actual
                self._entry(held.user_id, rest, "hold remainder", now, hold_id=hold_id)
            return held

    def release(self, *, hold_id: UUID) -> CreditHold:
        """``release_hold``: returns the whole hold; a released hold is returned unchanged."""
        with self._st.lock:
            held = self._locked_hold(hold_id)
            if held.status == HoldStatus.RELEASED:
                return held
            if held.status != HoldStatus.HELD:
                problem = f"hold {hold_id} is already {held.status}"
                raise HoldResolved(f"release_hold: {problem}", sqlstate="RF004")
            now = self._st.now()
            held = held.model_copy(update={"status": HoldStatus.RELEASED, "resolved_at": now})
            self._st.holds[hold_id] = held
            self._entry(held.user_id, held.amount, "hold released", now, hold_id=hold_id)
            return held

    def release_orphans(self) -> int:
        """Releases up to 100 holds still held by failed or canceled jobs; how many."""
        with self._st.lock:
            orphans = [
                h.id
                for h in sorted(self._st.holds.values(), key=lambda h: h.created_at)
                if h.status == HoldStatus.HELD
                and h.job_id is not None
                and _job_of(self._st, h.job_id, h.user_id)
                and self._st.jobs[h.job_id].state in (JobState.FAILED, JobState.CANCELED)
            ][:100]
        for hold_id in orphans:
            self.release(hold_id=hold_id)
        return len(orphans)

    def balance(self, *, user_id: UUID, as_user: bool = False) -> int:
        """The balance, 0 without an account (RLS shows a user only their own: the same)."""
        with self._st.lock:
            return self._st.balances.get(user_id, 0)

    def ledger(self, *, user_id: UUID, before: int | None, limit: int) -> list[LedgerEntry]:
        """The user's entries, newest first, older than entry ``before``."""
        with self._st.lock:
            mine = [
                e
                for e in reversed(self._st.ledger)
                if e.user_id == user_id and (before is None or e.id < before)
            ]
        return mine[: _limit(limit)]


# --- Projects -----------------------------------------------------------------------------------


class MemoryProjects:
    """The projects repository in memory; a user sees only their own projects."""

    def __init__(self, st: _State) -> None:
        self._st = st

    def _insert(
        self,
        user_id: UUID,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
        *,
        chosen_script: int | None,
        status: str,
    ) -> Project:
        _check(1 <= len(name) <= 200, "projects", "projects_name_check")
        ok = chosen_script is None or chosen_script >= 0
        _check(ok, "projects", "projects_chosen_script_check")
        _foreign_key(user_id in self._st.users, "projects", "projects_user_id_fkey")
        now = self._st.now()
        project = Project(
            id=uuid.uuid4(),
            name=name,
            status=status,
            brief=_json(brief),
            script_options=_json(script_options),
            chosen_script=chosen_script,
            created_at=now,
            updated_at=now,
        )
        self._st.projects[project.id] = _ProjectRow(user_id, project)
        return project

    def create(
        self,
        *,
        user_id: UUID,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
    ) -> Project:
        """A scripted project of the user."""
        with self._st.lock:
            made = self._insert(
                user_id, name, brief, script_options, chosen_script=None, status="scripted"
            )
            return made.model_copy(deep=True)

    def get(self, *, user_id: UUID, project_id: UUID) -> Project | None:
        """The user's project; None for unknown ids and other users' projects alike."""
        with self._st.lock:
            row = self._st.projects.get(project_id)
            if row is None or row.user_id != user_id:
                return None
            return row.project.model_copy(deep=True)

    def update(
        self,
        *,
        user_id: UUID,
        project_id: UUID,
        seen: datetime,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
        chosen_script: int | None,
    ) -> Project | None:
        """Replaces the project if its ``updated_at`` is still ``seen``; None otherwise (also for
        other users' projects)."""
        with self._st.lock:
            row = self._st.projects.get(project_id)
            if row is None or row.user_id != user_id or row.project.updated_at != seen:
                return None
            _check(1 <= len(name) <= 200, "projects", "projects_name_check")
            ok = chosen_script is None or chosen_script >= 0
            _check(ok, "projects", "projects_chosen_script_check")
            # clock_timestamp(): always after the version it replaces.
            stamp = max(self._st.now(), row.project.updated_at + timedelta(microseconds=1))
            row.project = row.project.model_copy(
                update={
                    "name": name,
                    "brief": _json(brief),
                    "script_options": _json(script_options),
                    "chosen_script": chosen_script,
                    "updated_at": stamp,
                }
            )
            return row.project.model_copy(deep=True)

    def insert_delivered(
        self,
        conn: object,
        *,
        user_id: UUID,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
        chosen_script: int,
    ) -> UUID:
        """A delivered project for a command-line render (``conn`` is ignored)."""
        with self._st.lock:
            made = self._insert(
                user_id,
                name,
                brief,
                script_options,
                chosen_script=chosen_script,
                status="delivered",
            )
            return made.id


# --- Jobs ---------------------------------------------------------------------------------------


class _MemoryWakeups(JobWakeups):
    """A listener on the jobs channel: ``wait`` returns the next woken job id or None."""

    def __init__(self, listener: queue.SimpleQueue[UUID]) -> None:
        self._listener = listener

    def wait(self, timeout: float) -> UUID | None:
        try:
            return self._listener.get(timeout=timeout)
        except queue.Empty:
            return None


class MemoryJobs:
    """The jobs repository in memory: migration 0003's and 0006's queue functions."""

    def __init__(self, st: _State, *, analytics: MemoryAnalytics) -> None:
        self._st = st
        self._analytics = analytics

    def enqueue(
        self,
        *,
        user_id: UUID,
        kind: str,
        payload: dict[str, Any] | None = None,
        project_id: UUID | None = None,
        dedupe_key: str | None = None,
        max_attempts: int = 3,
    ) -> Job:
        """``enqueue_job``: queues a job and wakes listeners; an active job with the same dedupe
        key is returned instead (no event, no wake-up)."""
        where = "enqueue_job"
        with self._st.lock:
            if user_id not in self._st.users:
                raise UnknownUser(where, f"unknown user {user_id}", sqlstate="RF002")
            ok = 1 <= max_attempts <= 100
            _argument(ok, where, "max_attempts must be between 1 and 100")
            ok = _project_of(self._st, project_id, user_id)
            _argument(ok, where, f"unknown project {project_id} for user {user_id}")
            _check(1 <= len(kind) <= 100, "jobs", "jobs_kind_check")
            ok = dedupe_key is None or 1 <= len(dedupe_key) <= 200
            _check(ok, "jobs", "jobs_dedupe_key_check")
            if dedupe_key is not None:
                for job in self._st.jobs.values():
                    active = job.state not in _FINISHED
                    if active and job.user_id == user_id and job.dedupe_key == dedupe_key:
                        return job.model_copy(deep=True)
            job = self._insert(user_id, kind, payload or {}, project_id, dedupe_key, max_attempts)
            _add_event(self._st, job, "state", job.created_at, "queued")
            self._st.notify(job.id)
            return job.model_copy(deep=True)

    def _insert(
        self,
        user_id: UUID,
        kind: str,
        payload: dict[str, Any],
        project_id: UUID | None,
        dedupe_key: str | None,
        max_attempts: int,
        **columns: Any,
    ) -> Job:
        now = self._st.now()
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "project_id": project_id,
            "kind": kind,
            "payload": _json(payload),
            "state": JobState.QUEUED,
            "progress": 0.0,
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_after": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "error": None,
            "checkpoints": {},
            "dedupe_key": dedupe_key,
            "created_at": now,
            "updated_at": now,
            "finished_at": None,
        }
        job = Job(**{**row, **columns})
        self._st.jobs[job.id] = job
        return job

    def claim(self, *, worker: str, lease_seconds: int = 60) -> Job | None:
        """``claim_job``: the oldest due queued job, else the longest-expired lease; a job whose
        lease ran out on its last attempt fails and the next one is tried."""
        _claim_arguments(worker, lease_seconds)
        with self._st.lock:
            now = self._st.now()
            while True:
                jobs = list(self._st.jobs.values())
                queued = [j for j in jobs if j.state == JobState.QUEUED and _due(j, now)]
                queued.sort(key=lambda j: (j.run_after, j.created_at))
                expired = [j for j in jobs if j.state in _WORKING and _due(j, now)]
                expired.sort(key=lambda j: j.lease_expires_at or now)
                candidates = queued or expired
                if not candidates:
                    return None
                taken = _take(self._st, candidates[0], worker, lease_seconds, now)
                if taken.state != JobState.FAILED:
                    return taken.model_copy(deep=True)

    def claim_by_id(self, *, job_id: UUID, worker: str, lease_seconds: int = 60) -> Job | None:
        """``claim_job_by_id``: that job if it is runnable; None if taken, finished or not due."""
        _claim_arguments(worker, lease_seconds)
        with self._st.lock:
            now = self._st.now()
            job = self._st.jobs.get(job_id)
            if job is None or not _due(job, now):
                return None
            taken = _take(self._st, job, worker, lease_seconds, now)
            return None if taken.state == JobState.FAILED else taken.model_copy(deep=True)

    def heartbeat(
        self, *, job_id: UUID, worker: str, lease_seconds: int = 60, progress: float | None = None
    ) -> Job:
        """``heartbeat_job``: extends the lease (a progress event when ``progress`` is given)."""
        where = "heartbeat_job"
        ok = 1 <= lease_seconds <= 86400
        _argument(ok, where, "lease must be between 1 and 86400 seconds")
        _progress(where, progress)
        with self._st.lock:
            job = _leased(self._st, job_id, worker)
            now = self._st.now()
            job = _update_job(
                self._st,
                job,
                now,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                progress=job.progress if progress is None else progress,
            )
            if progress is not None:
                _add_event(self._st, job, "progress", now)
            return job.model_copy(deep=True)

    def advance(
        self,
        *,
        job_id: UUID,
        worker: str,
        state: JobState,
        checkpoint: dict[str, Any] | None = None,
        progress: float | None = None,
    ) -> Job:
        """``advance_job``: the next working stage, checkpointing the stage it leaves."""
        where = "advance_job"
        target = _job_state(state)
        ok = target in _WORKING
        _argument(ok, where, f"a job can only advance to a working state, not {target}")
        _progress(where, progress)
        with self._st.lock:
            job = _leased(self._st, job_id, worker)
            checkpoints = dict(job.checkpoints)
            if checkpoint is not None:
                checkpoints[str(job.state)] = _json(checkpoint)
            now = self._st.now()
            job = _update_job(
                self._st,
                job,
                now,
                state=target,
                progress=job.progress if progress is None else progress,
                checkpoints=checkpoints,
            )
            _add_event(self._st, job, "state", now)
            return job.model_copy(deep=True)

    def complete(self, *, job_id: UUID, worker: str, state: JobState = JobState.DELIVERED) -> Job:
        """``complete_job``: delivered (the webhook trigger fires) or awaiting_review."""
        where = "complete_job"
        target = _job_state(state)
        ok = target in (JobState.DELIVERED, JobState.AWAITING_REVIEW)
        _argument(ok, where, f"a job completes as delivered or awaiting_review, not {target}")
        with self._st.lock:
            job = _leased(self._st, job_id, worker)
            now = self._st.now()
            job = _update_job(
                self._st,
                job,
                now,
                state=target,
                progress=1.0,
                lease_owner=None,
                lease_expires_at=None,
                error=None,
                finished_at=now if target == JobState.DELIVERED else None,
            )
            _add_event(self._st, job, "state", now)
            return job.model_copy(deep=True)

    def fail(
        self,
        *,
        job_id: UUID,
        worker: str,
        error: str,
        retry: bool = True,
        retry_delay_seconds: int = 0,
    ) -> Job:
        """``fail_job``: queued again after the delay while attempts remain, else failed."""
        where = "fail_job"
        _argument(bool(error), where, "a failure needs a reason")
        ok = 0 <= retry_delay_seconds <= 86400
        _argument(ok, where, "retry delay must be between 0 and 86400 seconds")
        with self._st.lock:
            job = _leased(self._st, job_id, worker)
            now = self._st.now()
            cleared: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}
            if retry and job.attempts < job.max_attempts:
                run_after = now + timedelta(seconds=retry_delay_seconds)
                job = _update_job(
                    self._st,
                    job,
                    now,
                    state=JobState.QUEUED,
                    error=error,
                    run_after=run_after,
                    **cleared,
                )
                _add_event(self._st, job, "retry", now, error)
                self._st.notify(job.id)
                return job.model_copy(deep=True)
            reason = f"attempt {job.attempts} of {job.max_attempts} failed: {error}"
            job = _update_job(
                self._st, job, now, state=JobState.FAILED, error=reason, finished_at=now, **cleared
            )
            _add_event(self._st, job, "state", now, reason)
            return job.model_copy(deep=True)

    def release(self, *, job_id: UUID, worker: str, reason: str) -> bool:
        """Back to the queue at once, giving back the attempt; False when the worker no longer
        holds the job (no error, as the SQL returns no row)."""
        with self._st.lock:
            job = self._st.jobs.get(job_id)
            if job is None or job.lease_owner != worker or job.state not in _WORKING:
                return False
            now = self._st.now()
            job = _update_job(
                self._st,
                job,
                now,
                state=JobState.QUEUED,
                lease_owner=None,
                lease_expires_at=None,
                run_after=now,
                attempts=max(job.attempts - 1, 0),
            )
            _add_event(self._st, job, "retry", now, reason)
            self._st.notify(job.id)
            return True

    def cancel(self, *, job_id: UUID, user_id: UUID | None = None) -> Job:
        """``cancel_job``: an unfinished job canceled; a finished one returned as it is.
        NotFound for unknown ids and, with ``user_id``, other users' jobs alike."""
        with self._st.lock:
            job = self._st.jobs.get(job_id)
            if job is None or (user_id is not None and job.user_id != user_id):
                raise NotFound("cancel_job", f"unknown job {job_id}", sqlstate="RF006")
            if job.state in _FINISHED:
                return job.model_copy(deep=True)
            now = self._st.now()
            job = _update_job(
                self._st,
                job,
                now,
                state=JobState.CANCELED,
                lease_owner=None,
                lease_expires_at=None,
                finished_at=now,
            )
            _add_event(self._st, job, "state", now, "canceled")
            return job.model_copy(deep=True)

    def get(self, *, job_id: UUID, user_id: UUID | None = None) -> Job | None:
        """One job as the tenant (``user_id``) or the service sees it; None if not visible."""
        with self._st.lock:
            job = self._st.jobs.get(job_id)
            if job is None or (user_id is not None and job.user_id != user_id):
                return None
            return job.model_copy(deep=True)

    def detail(self, *, user_id: UUID, job_id: UUID) -> JobDetail | None:
        """The user's job with its outputs and newest hold; None if not theirs."""
        with self._st.lock:
            job = self.get(job_id=job_id, user_id=user_id)
            if job is None:
                return None
            holds = [
                h for h in self._st.holds.values() if h.job_id == job_id and h.user_id == user_id
            ]
            # Newest first; among equal times the later insert, as a heap scan usually returns.
            newest = max(reversed(holds), key=lambda h: h.created_at, default=None)
            return JobDetail(job=job, renders=self._renders(job_id, user_id), hold=newest)

    def page(
        self, *, user_id: UUID, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[JobListing]:
        """The user's jobs, newest first (by created_at, then id), after the cursor."""
        with self._st.lock:
            mine = [
                j
                for j in self._st.jobs.values()
                if j.user_id == user_id and (before is None or (j.created_at, j.id) < before)
            ]
        mine.sort(key=lambda j: (j.created_at, j.id), reverse=True)
        return [JobListing.model_validate(j.model_dump()) for j in mine[: _limit(limit)]]

    def runnable(self, *, limit: int) -> list[UUID]:
        """Ids of jobs a worker could claim now, the longest waiting first."""
        with self._st.lock:
            now = self._st.now()
            due = [j for j in self._st.jobs.values() if _due(j, now)]
        due.sort(key=lambda j: (j.lease_expires_at or j.run_after, j.created_at))
        return [j.id for j in due[: _limit(limit)]]

    def events(
        self, *, user_id: UUID, job_id: UUID, after_id: int = 0, limit: int = 500
    ) -> list[JobEvent]:
        """The user's events of the job after ``after_id``, oldest first (others': none)."""
        with self._st.lock:
            found = [
                e
                for e in self._st.events
                if e.job_id == job_id and e.user_id == user_id and e.id > after_id
            ]
        return found[: _limit(limit)]

    def append_event(
        self,
        conn: object,
        *,
        job_id: UUID,
        user_id: UUID,
        state: JobState,
        kind: str = "state",
        progress: float | None = None,
        message: str | None = None,
    ) -> None:
        """Appends one event (``conn`` is ignored)."""
        where = "job_events"
        with self._st.lock:
            _check(kind in _EVENT_KINDS, where, "job_events_kind_check")
            target = _job_state(state)
            ok = _job_of(self._st, job_id, user_id)
            _foreign_key(ok, where, "job_events_job_id_user_id_fkey")
            event = JobEvent(
                id=self._st.serial("job_events"),
                job_id=job_id,
                user_id=user_id,
                kind=kind,
                state=target,
                progress=progress,
                message=message,
                created_at=self._st.now(),
            )
            self._st.events.append(event)

    def log_callback(self, conn: object, *, job_id: UUID, message: str) -> int | None:
        """A ``log`` event on the job (``conn`` is ignored); its id, or None without the job."""
        with self._st.lock:
            job = self._st.jobs.get(job_id)
            if job is None:
                return None
            event = JobEvent(
                id=self._st.serial("job_events"),
                job_id=job.id,
                user_id=job.user_id,
                kind="log",
                state=job.state,
                progress=None,
                message=message,
                created_at=self._st.now(),
            )
            self._st.events.append(event)
            return event.id

    def insert_delivered(
        self,
        conn: object,
        *,
        user_id: UUID,
        project_id: UUID,
        payload: dict[str, Any],
        checkpoints: dict[str, Any],
    ) -> UUID:
        """A render job that already ran to delivery (``conn`` is ignored). An INSERT: no event
        and no webhook, as the trigger fires on updates only."""
        with self._st.lock:
            _foreign_key(user_id in self._st.users, "jobs", "jobs_user_id_fkey")
            ok = _project_of(self._st, project_id, user_id)
            _foreign_key(ok, "jobs", "jobs_project_id_user_id_fkey")
            now = self._st.now()
            job = self._insert(
                user_id,
                "render",
                payload,
                project_id,
                None,
                3,
                state=JobState.DELIVERED,
                progress=1.0,
                attempts=1,
                checkpoints=_json(checkpoints),
                finished_at=now,
            )
            return job.id

    def _renders(self, job_id: UUID, user_id: UUID | None) -> list[Render]:
        found = [
            r.render
            for r in self._st.renders
            if r.job_id == job_id and (user_id is None or r.user_id == user_id)
        ]
        return sorted(found, key=lambda r: r.format)

    def renders(self, *, job_id: UUID) -> list[Render]:
        """The job's recorded outputs, by format."""
        with self._st.lock:
            return self._renders(job_id, None)

    def record_outputs(
        self,
        conn: object = None,
        *,
        user_id: UUID,
        job_id: UUID,
        project_id: UUID | None,
        outputs: Sequence[OutputEntry],
        out_dir: Path,
        preview: bool,
    ) -> tuple[UUID, ...]:
        """Records the outputs once per format, and their creatives (``conn`` is ignored); the
        ids of the outputs recorded now."""
        formats = [entry.format for entry in outputs]
        if len(set(formats)) != len(formats):
            raise StoreInputError("renders", f"a job has one output per format, got {formats}")
        creatives = [e.creative for e in outputs if e.creative is not None]
        with self._st.lock:
            # One transaction in PostgreSQL: every check passes before anything is written.
            new = [e for e in outputs if self._render_checks(user_id, job_id, e)]
            self._analytics.creative_checks(user_id, job_id, project_id, creatives)
            inserted = tuple(self._insert_render(user_id, job_id, e, out_dir) for e in new)
            self._analytics.record_creatives(
                user_id=user_id,
                job_id=job_id,
                project_id=project_id,
                creatives=creatives,
                preview=preview,
            )
        return inserted

    def _render_checks(self, user_id: UUID, job_id: UUID, entry: OutputEntry) -> bool:
        """``renders_insert``'s checks, then False for a recorded (job, format) (on conflict do
        nothing), then the job's foreign key; True when the output is new."""
        _check(_FORMAT.fullmatch(entry.format) is not None, "renders", "renders_format_check")
        _check(entry.width > 0, "renders", "renders_width_check")
        _check(entry.height > 0, "renders", "renders_height_check")
        _check(entry.duration > 0, "renders", "renders_duration_s_check")
        if any(r.job_id == job_id and r.render.format == entry.format for r in self._st.renders):
            return False
        ok = _job_of(self._st, job_id, user_id)
        _foreign_key(ok, "renders", "renders_job_id_user_id_fkey")
        return True

    def _insert_render(
        self, user_id: UUID, job_id: UUID, entry: OutputEntry, out_dir: Path
    ) -> UUID:
        render = Render(
            format=entry.format,
            path=str(out_dir / entry.path),
            width=entry.width,
            height=entry.height,
            duration_s=entry.duration,
            loudness_lufs=entry.loudness_lufs,
            created_at=self._st.now(),
        )
        row = _RenderRow(uuid.uuid4(), user_id, job_id, render, entry.qc.model_dump(mode="json"))
        self._st.renders.append(row)
        return row.id

    def unpublish(self, *, job_id: UUID) -> None:
        """Deletes the outputs of a job that ended canceled or failed (others keep theirs)."""
        with self._st.lock:
            job = self._st.jobs.get(job_id)
            if job is None or job.state not in (JobState.CANCELED, JobState.FAILED):
                return
            self._st.renders = [r for r in self._st.renders if r.job_id != job_id]

    @contextmanager
    def wakeups(self) -> Iterator[JobWakeups]:
        """Listens for enqueued and retried jobs while the block runs."""
        listener: queue.SimpleQueue[UUID] = queue.SimpleQueue()
        with self._st.lock:
            self._st.listeners.append(listener)
        try:
            yield _MemoryWakeups(listener)
        finally:
            with self._st.lock:
                self._st.listeners.remove(listener)


# --- Webhooks -----------------------------------------------------------------------------------


class MemoryWebhooks:
    """The webhooks repository in memory (migration 0004); a user sees only their own
    endpoints and deliveries."""

    def __init__(self, st: _State) -> None:
        self._st = st

    def create_endpoint(
        self, *, user_id: UUID, url: str, secret: str, events: Sequence[str] = ()
    ) -> WebhookEndpoint:
        """An endpoint of the user; no events means all events."""
        table = "webhook_endpoints"
        with self._st.lock:
            _check(_URL.match(url) is not None, table, "webhook_endpoints_url_check")
            _check(len(secret) >= 24, table, "webhook_endpoints_secret_check")
            _foreign_key(user_id in self._st.users, table, "webhook_endpoints_user_id_fkey")
            now = self._st.now()
            endpoint = WebhookEndpoint(
                id=uuid.uuid4(),
                user_id=user_id,
                url=url,
                secret=SecretStr(secret),
                events=list(events),
                enabled=True,
                disabled_reason=None,
                disabled_at=None,
                failed_deliveries_in_row=0,
                previous_secret_expires_at=None,
                created_at=now,
                updated_at=now,
            )
            self._st.endpoints[endpoint.id] = _Endpoint(endpoint)
            return endpoint.model_copy(deep=True)

    def endpoints(self, *, user_id: UUID) -> list[WebhookEndpoint]:
        """The user's endpoints, oldest first."""
        with self._st.lock:
            mine = [e.row for e in self._st.endpoints.values() if e.row.user_id == user_id]
        mine.sort(key=lambda e: (e.created_at, e.id))
        return [e.model_copy(deep=True) for e in mine]

    def _own(self, user_id: UUID, endpoint_id: UUID) -> _Endpoint:
        found = self._st.endpoints.get(endpoint_id)
        if found is None or found.row.user_id != user_id:
            raise NotFound("webhook endpoint", f"no endpoint {endpoint_id}")
        return found

    def delete_endpoint(self, *, user_id: UUID, endpoint_id: UUID) -> None:
        """Deletes the user's endpoint and its deliveries; NotFound if it is not theirs."""
        with self._st.lock:
            self._own(user_id, endpoint_id)
            del self._st.endpoints[endpoint_id]
            self._st.deliveries = {
                k: d for k, d in self._st.deliveries.items() if d.row.endpoint_id != endpoint_id
            }

    def rotate_secret(
        self, *, user_id: UUID, endpoint_id: UUID, secret: str, grace_seconds: int = 24 * 3600
    ) -> WebhookEndpoint:
        """The new secret; the old one also signs for ``grace_seconds``."""
        with self._st.lock:
            endpoint = self._own(user_id, endpoint_id)
            _check(len(secret) >= 24, "webhook_endpoints", "webhook_endpoints_secret_check")
            now = self._st.now()
            endpoint.previous_secret = endpoint.row.secret.get_secret_value()
            endpoint.row = endpoint.row.model_copy(
                update={
                    "secret": SecretStr(secret),
                    "previous_secret_expires_at": now + timedelta(seconds=grace_seconds),
                    "updated_at": now,
                }
            )
            return endpoint.row.model_copy(deep=True)

    def enable_endpoint(self, *, user_id: UUID, endpoint_id: UUID) -> WebhookEndpoint:
        """Re-enables the user's endpoint, clearing its failures (dead deliveries stay dead)."""
        with self._st.lock:
            endpoint = self._own(user_id, endpoint_id)
            endpoint.row = endpoint.row.model_copy(
                update={
                    "enabled": True,
                    "disabled_reason": None,
                    "disabled_at": None,
                    "failed_deliveries_in_row": 0,
                    "updated_at": self._st.now(),
                }
            )
            return endpoint.row.model_copy(deep=True)

    def deliveries(
        self, *, user_id: UUID, endpoint_id: UUID | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        """The user's deliveries, newest first (then by id), of one endpoint if given."""
        with self._st.lock:
            mine = [
                d.row
                for d in self._st.deliveries.values()
                if d.row.user_id == user_id and endpoint_id in (None, d.row.endpoint_id)
            ]
        mine.sort(key=lambda d: d.id)
        mine.sort(key=lambda d: d.created_at, reverse=True)
        return [d.model_copy(deep=True) for d in mine[: _limit(limit)]]

    def enqueue(
        self,
        conn: object,
        *,
        user_id: UUID,
        event_type: str,
        payload: Mapping[str, Any],
        webhook_id: str | None = None,
    ) -> list[WebhookDelivery]:
        """One delivery per subscribed enabled endpoint (``conn`` is ignored: written at once)."""
        with self._st.lock:
            return _enqueue_webhook(
                self._st, user_id, event_type, payload, webhook_id, self._st.now()
            )

    def claim(
        self, *, worker: str, now: datetime, lease_seconds: int = 60
    ) -> ClaimedDelivery | None:
        """``claim_webhook_delivery``: the next delivery due at ``now`` of an enabled endpoint,
        leased (attempts + 1, not due again until the lease ends)."""
        where = "claim_webhook_delivery"
        _argument(1 <= len(worker) <= 200, where, "worker name must be 1 to 200 characters")
        ok = 1 <= lease_seconds <= 3600
        _argument(ok, where, "lease must be between 1 and 3600 seconds")
        with self._st.lock:
            due = [
                d
                for d in self._st.deliveries.values()
                if d.row.status == DeliveryStatus.PENDING
                and d.row.next_attempt_at <= now
                and self._st.endpoints[d.row.endpoint_id].row.enabled
            ]
            if not due:
                return None
            chosen = min(due, key=lambda d: (d.row.next_attempt_at, d.row.created_at))
            chosen.lease_owner = worker
            chosen.row = chosen.row.model_copy(
                update={
                    "attempts": chosen.row.attempts + 1,
                    "next_attempt_at": now + timedelta(seconds=lease_seconds),
                }
            )
            return self._claimed(chosen, now)

    def _claimed(self, delivery: _Delivery, now: datetime) -> ClaimedDelivery:
        endpoint = self._st.endpoints[delivery.row.endpoint_id]
        expires = endpoint.row.previous_secret_expires_at
        previous = endpoint.previous_secret if expires is not None and expires > now else None
        return ClaimedDelivery(
            **delivery.row.model_copy(deep=True).model_dump(),
            url=endpoint.row.url,
            secret=endpoint.row.secret,
            previous_secret=None if previous is None else SecretStr(previous),
        )

    def record_attempt(
        self,
        *,
        delivery_id: UUID,
        worker: str,
        now: datetime,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
        disable_after: int = 5,
    ) -> WebhookDelivery:
        """``record_webhook_attempt``: 2xx delivered; 410 failed and the endpoint disabled;
        else pending again at ``next_attempt_at`` or failed when it is None."""
        where = "record_webhook_attempt"
        _argument(disable_after >= 1, where, "disable_after must be at least 1")
        with self._st.lock:
            delivery = self._held(delivery_id, worker)
            if status_code is not None and 200 <= status_code <= 299:
                return self._delivered(delivery, status_code, now)
            _argument(bool(error), where, "a failed attempt needs an error")
            assert error is not None
            if status_code == 410 or next_attempt_at is None:
                return self._failed(delivery, status_code, error, now, disable_after)
            delivery.lease_owner = None
            delivery.row = delivery.row.model_copy(
                update={
                    "next_attempt_at": next_attempt_at,
                    "last_status_code": status_code,
                    "last_error": error[:1000],
                }
            )
            return delivery.row.model_copy(deep=True)

    def _held(self, delivery_id: UUID, worker: str) -> _Delivery:
        where = "record_webhook_attempt"
        delivery = self._st.deliveries.get(delivery_id)
        if delivery is None:
            raise NotFound(where, f"unknown webhook delivery {delivery_id}", sqlstate="RF006")
        if delivery.row.status != DeliveryStatus.PENDING or delivery.lease_owner != worker:
            raise LeaseLost(
                f"{where}: worker {worker} does not hold webhook delivery {delivery_id} "
                f"(status {delivery.row.status}, owner {delivery.lease_owner or 'none'})",
                sqlstate="RF007",
            )
        return delivery

    def _delivered(self, delivery: _Delivery, status_code: int, now: datetime) -> WebhookDelivery:
        delivery.lease_owner = None
        delivery.row = delivery.row.model_copy(
            update={
                "status": DeliveryStatus.DELIVERED,
                "delivered_at": now,
                "last_status_code": status_code,
                "last_error": None,
            }
        )
        endpoint = self._st.endpoints[delivery.row.endpoint_id]
        if endpoint.row.failed_deliveries_in_row != 0:
            endpoint.row = endpoint.row.model_copy(
                update={"failed_deliveries_in_row": 0, "updated_at": now}
            )
        return delivery.row.model_copy(deep=True)

    def _failed(
        self,
        delivery: _Delivery,
        status_code: int | None,
        error: str,
        now: datetime,
        disable_after: int,
    ) -> WebhookDelivery:
        delivery.lease_owner = None
        delivery.row = delivery.row.model_copy(
            update={
                "status": DeliveryStatus.FAILED,
                "last_status_code": status_code,
                "last_error": error[:1000],
            }
        )
        failed = delivery.row.model_copy(deep=True)
        endpoint = self._st.endpoints[delivery.row.endpoint_id]
        if status_code == 410:
            self._disable(endpoint, "the endpoint answered 410 Gone", now)
            return failed
        in_row = endpoint.row.failed_deliveries_in_row + 1
        endpoint.row = endpoint.row.model_copy(
            update={"failed_deliveries_in_row": in_row, "updated_at": now}
        )
        if endpoint.row.enabled and in_row >= disable_after:
            reason = (
                f"{in_row} deliveries in a row failed after {failed.attempts} attempts each; "
                f"last error: {error[:200]}"
            )
            self._disable(endpoint, reason, now)
        return failed

    def _disable(self, endpoint: _Endpoint, reason: str, now: datetime) -> None:
        """``disable_webhook_endpoint``: its pending deliveries go dead."""
        endpoint.row = endpoint.row.model_copy(
            update={
                "enabled": False,
                "disabled_reason": reason,
                "disabled_at": now,
                "updated_at": now,
            }
        )
        for delivery in self._st.deliveries.values():
            pending = delivery.row.status == DeliveryStatus.PENDING
            if pending and delivery.row.endpoint_id == endpoint.row.id:
                delivery.lease_owner = None
                delivery.row = delivery.row.model_copy(
                    update={
                        "status": DeliveryStatus.DEAD,
                        "last_error": f"endpoint disabled: {reason}",
                    }
                )


# --- Provider events ----------------------------------------------------------------------------


class MemoryProviderEvents:
    """The provider events repository in memory; ``conn`` arguments are ignored."""

    def __init__(self, st: _State) -> None:
        self._st = st

    def record(
        self,
        conn: object = None,
        *,
        provider: str,
        event_id: str,
        payload: Mapping[str, Any],
        subject: str | None = None,
        occurred_at: datetime | None = None,
        job_id: UUID | None = None,
    ) -> bool:
        """Records the event once per (provider, event id): True the first time."""
        table = "provider_events"
        _check(1 <= len(provider) <= 100, table, "provider_events_provider_check")
        _check(1 <= len(event_id) <= 255, table, "provider_events_event_id_check")
        ok = subject is None or 1 <= len(subject) <= 255
        _check(ok, table, "provider_events_subject_check")
        body = _json(dict(payload))
        with self._st.lock:
            if any(
                e.provider == provider and e.event_id == event_id for e in self._st.provider_events
            ):
                return False
            event = _ProviderEvent(
                self._st.serial(table), provider, event_id, body, subject, occurred_at, job_id
            )
            self._st.provider_events.append(event)
            return True

    def newer_exists(
        self,
        conn: object = None,
        *,
        provider: str,
        event_id: str,
        subject: str,
        occurred_at: datetime,
    ) -> bool:
        """Whether another event about ``subject``, newer than ``occurred_at``, was recorded."""
        with self._st.lock:
            return any(
                e.provider == provider
                and e.subject == subject
                and e.occurred_at is not None
                and e.occurred_at > occurred_at
                and e.event_id != event_id
                for e in self._st.provider_events
            )

    def mark_processed(self, conn: object = None, *, provider: str, event_id: str) -> bool:
        """Marks the event handled; False if already marked or never recorded."""
        with self._st.lock:
            for event in self._st.provider_events:
                if event.provider == provider and event.event_id == event_id:
                    if event.processed_at is not None:
                        return False
                    event.processed_at = self._st.now()
                    return True
            return False

    def task_callbacks(self, *, provider: str, subject: str, job_id: UUID) -> list[dict[str, Any]]:
        """The payloads recorded for one task of one job, oldest first."""
        with self._st.lock:
            return [
                _json(e.payload)
                for e in self._st.provider_events
                if (e.provider, e.subject, e.job_id) == (provider, subject, job_id)
                and isinstance(e.payload, dict)
            ]


# --- Idempotency keys ---------------------------------------------------------------------------


class MemoryIdempotency:
    """The idempotency keys repository in memory; keys are scoped by user."""

    def __init__(self, st: _State) -> None:
        self._st = st

    def claim(
        self,
        *,
        user_id: UUID,
        key: str,
        request_hash: str,
        lock_seconds: int,
        retention_seconds: int,
    ) -> KeyClaim:
        """Takes a new key, one past the retention, or a running one of the same request whose
        lock ran out; else the key's unexpired record."""
        table = "idempotency_keys"
        _check(1 <= len(key) <= 255, table, "idempotency_keys_key_check")
        with self._st.lock:
            _foreign_key(user_id in self._st.users, table, "idempotency_keys_user_id_fkey")
            now = self._st.now()
            retained = now - timedelta(seconds=retention_seconds)
            found = self._st.keys.get((user_id, key))
            takeover = found is not None and (
                found.created_at < retained
                or (
                    found.state == "running"
                    and found.locked_until is not None
                    and found.locked_until < now
                    and found.request_hash == request_hash
                )
            )
            if found is None or takeover:
                locked_until = now + timedelta(seconds=lock_seconds)
                self._st.keys[(user_id, key)] = _Key(request_hash, now, locked_until)
                return KeyClaim(claimed=True)
            record = IdempotencyRecord(
                request_hash=found.request_hash,
                state=found.state,
                response_status=found.status,
                response_body=_json(found.body),
            )
            return KeyClaim(claimed=False, record=record)

    def complete(self, *, user_id: UUID, key: str, status: int, body: Any) -> None:
        """Stores the response of a running claim (nothing for a key not running)."""
        body = _json(body)
        with self._st.lock:
            found = self._st.keys.get((user_id, key))
            if found is None or found.state != "running":
                return
            _check(
                100 <= status <= 599, "idempotency_keys", "idempotency_keys_response_status_check"
            )
            found.state, found.status, found.body, found.locked_until = "done", status, body, None

    def release(self, *, user_id: UUID, key: str) -> None:
        """Drops a running claim; a finished key stays."""
        with self._st.lock:
            found = self._st.keys.get((user_id, key))
            if found is not None and found.state == "running":
                del self._st.keys[(user_id, key)]

    def cleanup(self, *, retention_seconds: int) -> int:
        """Deletes keys past the retention; how many."""
        with self._st.lock:
            retained = self._st.now() - timedelta(seconds=retention_seconds)
            old = [k for k, row in self._st.keys.items() if row.created_at < retained]
            for k in old:
                del self._st.keys[k]
            return len(old)


# --- Users --------------------------------------------------------------------------------------


class MemoryUsers:
    """The users repository in memory: the known user ids (``auth.users``)."""

    def __init__(self, st: _State) -> None:
        self._st = st

    def ensure_local(self, conn: object = None, *, user_id: UUID, email: str) -> None:
        """Adds the user unless present (``conn`` is ignored)."""
        with self._st.lock:
            self._st.users.setdefault(user_id, email)


# --- Analytics ----------------------------------------------------------------------------------


def _performance_row(st: _State, user_id: UUID, row: Mapping[str, Any], import_id: UUID) -> Row:
    """One ad_performance row as PostgreSQL stores it, after its checks and the creative's
    foreign key."""
    table = "ad_performance"
    stored: Row = {name: row[name] for name in _PERFORMANCE_COLUMNS}
    for name in ("period_start", "period_end"):
        if isinstance(stored[name], str):
            stored[name] = date.fromisoformat(stored[name])
    for name in ("spend", "revenue"):
        stored[name] = Decimal(str(stored[name]))
    _check(stored["source"] in _SOURCES, table, "ad_performance_source_check")
    _check(stored["period_end"] >= stored["period_start"], table, "ad_performance_check")
    ok = re.fullmatch(r"[A-Z]{3}", stored["currency"]) is not None
    _check(ok, table, "ad_performance_currency_check")
    for name in ("impressions", "clicks", "spend", "purchases", "revenue"):
        _check(stored[name] >= 0, table, f"ad_performance_{name}_check")
    for name in ("video_3s_plays", "thruplays"):
        _check(stored[name] is None or stored[name] >= 0, table, f"ad_performance_{name}_check")
    ok = (user_id, stored["creative_id"]) in st.creatives
    _foreign_key(ok, table, "ad_performance_user_id_creative_id_fkey")
    return {**stored, "user_id": user_id, "import_id": import_id}


def _performance_key(user_id: UUID, row: Mapping[str, Any]) -> tuple[Any, ...]:
    names = ("source", "creative_id", "ad_key", "period_start", "period_end", "placement")
    return (user_id, *(row[n] for n in names))


class _MemoryImport:
    """An import in progress: its writes are kept apart until the block ends (all or none)."""

    def __init__(self, st: _State, user_id: UUID) -> None:
        self._st = st
        self._user_id = user_id
        with st.lock:
            self.rows = {k: dict(v) for k, v in st.performance.items() if k[0] == user_id}
        self.imports: dict[UUID, Row] = {}

    def known_creatives(self, ids: Sequence[str]) -> set[str]:
        """Which of these creative ids the user has."""
        with self._st.lock:
            return {i for i in ids if (self._user_id, i) in self._st.creatives}

    def stored_periods(
        self, *, ids: Sequence[str], sources: Sequence[str], since: date, until: date
    ) -> list[Row]:
        """The user's rows of these creatives and sources touching ``since..until``."""
        names = ("creative_id", "source", "ad_key", "period_start", "period_end", "placement")
        return [
            {n: row[n] for n in (*names, "currency")}
            for row in self.rows.values()
            if row["creative_id"] in ids
            and row["source"] in sources
            and row["period_start"] <= until
            and row["period_end"] >= since
        ]

    def upsert(self, row: Mapping[str, Any], *, import_id: UUID) -> ImportOutcome:
        """Inserts a new key, replaces changed numbers, leaves an identical row alone."""
        with self._st.lock:
            new = _performance_row(self._st, self._user_id, row, import_id)
        key = _performance_key(self._user_id, new)
        old = self.rows.get(key)
        if old is None:
            self.rows[key] = {**new, "imported_at": self._st.now()}
            return "inserted"
        if all(old[n] == new[n] for n in _PERFORMANCE_VALUES):
            return "unchanged"
        self.rows[key] = {**old, **new, "imported_at": self._st.now()}
        return "updated"

    def record(self, *, import_id: UUID, summary: Mapping[str, Any]) -> None:
        """Records what the import did."""
        table = "analytics_imports"
        _check(summary["source"] in _SOURCES, table, "analytics_imports_source_check")
        ok = re.fullmatch(r"[0-9a-f]{64}", summary["file_hash"]) is not None
        _check(ok, table, "analytics_imports_file_hash_check")
        _check(len(summary["file_name"]) <= 300, table, "analytics_imports_file_name_check")
        for name in ("rows_read", "imported", "updated", "unchanged", "unmatched"):
            _check(summary[name] >= 0, table, f"analytics_imports_{name}_check")
        self.imports[import_id] = {
            **summary,
            "id": import_id,
            "user_id": self._user_id,
            "unmatched_rows": _json(summary["unmatched_rows"]),
            "created_at": self._st.now(),
        }

    def commit(self) -> None:
        """The deferred foreign key to the import's record, then every write at once."""
        with self._st.lock:
            known = self._st.imports.keys() | self.imports.keys()
            ok = all(r["import_id"] is None or r["import_id"] in known for r in self.rows.values())
            _foreign_key(ok, "ad_performance", "ad_performance_import_id_user_id_fkey")
            for key in [k for k in self._st.performance if k[0] == self._user_id]:
                del self._st.performance[key]
            self._st.performance.update(self.rows)
            self._st.imports.update(self.imports)


class MemoryAnalytics:
    """The analytics repository in memory; a user sees only their own creatives and rows."""

    def __init__(self, st: _State) -> None:
        self._st = st

    def record_creatives(
        self,
        conn: object = None,
        *,
        user_id: UUID,
        job_id: UUID | None,
        project_id: UUID | None,
        creatives: Iterable[CreativeAttributes],
        preview: bool = False,
    ) -> int:
        """Upserts the creatives (``conn`` is ignored); a preview links a creative to its job
        only when it has none. How many were written."""
        creatives = list(creatives)
        with self._st.lock:
            # One transaction in PostgreSQL: every check passes before anything is written.
            self.creative_checks(user_id, job_id, project_id, creatives)
            for creative in creatives:
                self._upsert(user_id, job_id, project_id, creative, preview)
        return len(creatives)

    def creative_checks(
        self,
        user_id: UUID,
        job_id: UUID | None,
        project_id: UUID | None,
        creatives: Sequence[CreativeAttributes],
    ) -> None:
        """The creatives table's checks and foreign keys, for every creative."""
        table = "creatives"
        for creative in creatives:
            _check(creative.duration_s > 0, table, "creatives_duration_s_check")
            ok = _FORMAT.fullmatch(creative.format) is not None
            _check(ok, table, "creatives_format_check")
            _check(creative.script_option >= 1, table, "creatives_script_option_check")
            ok = _URL.match(creative.landing_url) is not None
            _check(ok, table, "creatives_landing_url_check")
            _check(creative.creative_id in creative.ad_name, table, "creatives_check")
            _foreign_key(user_id in self._st.users, table, "creatives_user_id_fkey")
            ok = _job_of(self._st, job_id, user_id)
            _foreign_key(ok, table, "creatives_job_id_user_id_fkey")
            ok = _project_of(self._st, project_id, user_id)
            _foreign_key(ok, table, "creatives_project_id_user_id_fkey")

    def _upsert(
        self,
        user_id: UUID,
        job_id: UUID | None,
        project_id: UUID | None,
        creative: CreativeAttributes,
        preview: bool,
    ) -> None:
        key = (user_id, creative.creative_id)
        old = self._st.creatives.get(key)
        if old is None:
            self._st.creatives[key] = _Creative(creative, job_id, project_id, self._st.now())
            return
        if preview:
            old.job_id = old.job_id if old.job_id is not None else job_id
        else:
            old.job_id = job_id if job_id is not None else old.job_id
        old.project_id = project_id if project_id is not None else old.project_id
        old.attributes = creative

    def _mine(self, user_id: UUID) -> list[_Creative]:
        return [c for (owner, _), c in self._st.creatives.items() if owner == user_id]

    def creatives(self, *, user_id: UUID) -> list[StoredCreative]:
        """The user's creatives, newest first."""
        with self._st.lock:
            mine = self._mine(user_id)
        mine.sort(key=lambda c: c.attributes.creative_id)
        mine.sort(key=lambda c: c.created_at, reverse=True)
        return [
            StoredCreative(
                **c.attributes.model_dump(),
                job_id=c.job_id,
                project_id=c.project_id,
                created_at=c.created_at,
            )
            for c in mine
        ]

    def _rows(self, user_id: UUID, order: Sequence[str]) -> list[Row]:
        with self._st.lock:
            mine = [r for k, r in self._st.performance.items() if k[0] == user_id]
        mine.sort(key=lambda r: tuple(r[n] for n in order))
        return [{n: r[n] for n in _PERFORMANCE_COLUMNS} for r in mine]

    def performance(self, *, user_id: UUID) -> list[Row]:
        """The user's imported rows, by creative and period."""
        order = ("creative_id", "period_start", "period_end", "source", "ad_key", "placement")
        return self._rows(user_id, order)

    def dataset(self, *, user_id: UUID) -> tuple[list[CreativeAttributes], list[Row]]:
        """The user's creatives by id and all their imported rows."""
        with self._st.lock:
            creatives = [c.attributes for c in self._mine(user_id)]
            order = ("creative_id", "period_start", "source", "ad_key", "placement")
            rows = self._rows(user_id, order)
        return sorted(creatives, key=lambda c: c.creative_id), rows

    def asset_costs(self, *, user_id: UUID) -> list[AssetCost]:
        """Each creative of the user with its job's settled credits and output lengths."""
        with self._st.lock:
            mine = sorted(
                self._mine(user_id), key=lambda c: (c.attributes.template, c.attributes.creative_id)
            )
            return [self._cost(user_id, c) for c in mine]

    def _cost(self, user_id: UUID, creative: _Creative) -> AssetCost:
        job_id = creative.job_id
        settled = [
            h.settled_amount
            for h in self._st.holds.values()
            if h.job_id == job_id and h.user_id == user_id and h.status == HoldStatus.SETTLED
        ]
        renders = sorted(
            (r.render for r in self._st.renders if r.job_id == job_id and r.user_id == user_id),
            key=lambda r: r.format,
        )
        same = [r.duration_s for r in renders if r.format == creative.attributes.format]
        return AssetCost(
            creative_id=creative.attributes.creative_id,
            template=creative.attributes.template,
            job_id=job_id,
            job_credits=sum(s or 0 for s in settled) if settled else None,
            duration_s=same[0] if same else None,
            job_durations=tuple(r.duration_s for r in renders),
        )

    @contextmanager
    def importing(self, *, user_id: UUID) -> Iterator[_MemoryImport]:
        """One import at a time per user, committed whole when the block ends without error."""
        with self._st.lock:
            user_lock = self._st.import_locks.setdefault(user_id, threading.Lock())
        with user_lock:
            session = _MemoryImport(self._st, user_id)
            yield session
            session.commit()


# --- The bundle ---------------------------------------------------------------------------------


@dataclass(frozen=True, init=False)
class MemoryRepositories(Repositories):
    """Every repository in memory, sharing one set of tables, one lock and ``clock``.

    Users must exist, as in PostgreSQL: add them with ``add_user`` (or ``users.ensure_local``).
    """

    clock: Clock = field(repr=False, compare=False)
    _state: _State = field(repr=False, compare=False)

    def __init__(self, *, clock: Clock | None = None) -> None:
        st = _State(clock or _utc_now)
        analytics = MemoryAnalytics(st)
        members: dict[str, object] = {
            "projects": MemoryProjects(st),
            "jobs": MemoryJobs(st, analytics=analytics),
            "credits": MemoryCredits(st),
            "webhooks": MemoryWebhooks(st),
            "providers": MemoryProviderEvents(st),
            "analytics": analytics,
            "idempotency": MemoryIdempotency(st),
            "users": MemoryUsers(st),
            "clock": st.clock,
            "_state": st,
        }
        for name, value in members.items():
            object.__setattr__(self, name, value)

    def add_user(self, user_id: UUID | None = None, *, email: str | None = None) -> UUID:
        """A known user (a new id unless given), as a row in ``auth.users`` would be."""
        user_id = user_id or uuid.uuid4()
        with self._state.lock:
            self._state.users.setdefault(user_id, email)
        return user_id
