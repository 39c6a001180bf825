"""The repositories' contract: every scenario runs against PostgreSQL (``Repositories.postgres``
on the embedded server) and against the in-memory fake (``MemoryRepositories``), and both must
answer the same, so the API's and the worker's rules can be unit-tested against the fake.

Where the two legitimately differ, the scenario says so in a comment. The general differences:
the fake ignores a caller's transaction (``conn``), and its time is a ManualClock that moves 1 ms
per reading (as transactions' ``now()`` differ) and jumps when a scenario lets time pass.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pipeline.creative import CreativeAttributes
from pipeline.manifest import OutputEntry
from pipeline.qc import QCReport
from pipeline.settings import StoreSettings
from pipeline.store import (
    Conflict,
    CostAboveHold,
    HoldResolved,
    HoldStatus,
    InsufficientCredits,
    JobState,
    KeyReused,
    LeaseLost,
    NotFound,
    Repositories,
    Store,
    StoreInputError,
    UnknownUser,
    open_store,
)
from pipeline.store.embedded import EmbeddedServer
from pipeline.store.memory import ManualClock, MemoryRepositories
from pipeline.store.models import (
    BillingOutcome,
    CheckoutPayment,
    DeliveryStatus,
    IdempotencyRecord,
    KeyClaim,
)
from pipeline.webhooks import generate_secret
from tests.store.pooler_proxy import pooler_url, running_proxy, socket_dir

T = TypeVar("T")
Admin = psycopg.Connection[tuple[object, ...]]


@dataclass
class Backend:
    """One implementation under contract, with what a scenario cannot do through the
    repositories: make users, open a caller's transaction, and let time pass."""

    name: str
    repos: Repositories
    user_a: uuid.UUID
    user_b: uuid.UUID
    clock: ManualClock | None = None
    store: Store | None = None
    admin: Admin | None = None

    def transaction(self) -> AbstractContextManager[Any]:
        """A caller's service transaction; the fake takes ``None`` and ignores it (its writes
        happen at once and are not rolled back with the caller's transaction)."""
        if self.store is not None:
            return self.store.as_service()
        return _no_transaction()

    def now(self) -> datetime:
        """The current time as the implementation sees it."""
        return self.clock() if self.clock is not None else datetime.now(UTC)

    def expire_lease(self, job_id: uuid.UUID) -> None:
        """A worker killed mid-job: its lease simply runs out. PostgreSQL: the lease is set in
        the past; the fake: its clock moves past the 60 s lease."""
        if self.admin is not None:
            self.admin.execute(
                "update public.jobs set lease_expires_at = now() - interval '1 second'"
                " where id = %s",
                (job_id,),
            )
        else:
            assert self.clock is not None
            self.clock.advance(61)

    def after(self, seconds: float, check: Callable[[], T]) -> T:
        """What ``check`` answers once ``seconds`` have passed. PostgreSQL: real time, polled
        with a deadline; the fake: its clock jumps."""
        if self.clock is not None:
            self.clock.advance(seconds + 0.01)
            return check()
        deadline = time.monotonic() + seconds + 10
        while not (result := check()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return result


@contextmanager
def _no_transaction() -> Iterator[None]:
    yield None


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.integration),
        pytest.param("pooler", marks=pytest.mark.integration),
        "memory",
    ]
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """``postgres``: the repositories on the embedded server; ``pooler``: the same through a
    proxy that refuses what Supavisor's transaction mode cannot carry (named prepared
    statements, LISTEN), opened by ``open_store`` as production opens a pooler URL, and every
    scenario must pass without one refusal; ``memory``: the fake."""
    if request.param == "memory":
        clock = ManualClock(step=timedelta(milliseconds=1))
        memory = MemoryRepositories(clock=clock)
        yield Backend("memory", memory, memory.add_user(), memory.add_user(), clock=clock)
        return
    users = request.getfixturevalue("user_a"), request.getfixturevalue("user_b")
    admin = request.getfixturevalue("admin")
    if request.param == "postgres":
        store: Store = request.getfixturevalue("store")
        yield Backend("postgres", Repositories.postgres(store), *users, store=store, admin=admin)
        return
    server: EmbeddedServer = request.getfixturevalue("pg_server")
    database = str(conninfo_to_dict(request.getfixturevalue("db_uri"))["dbname"])
    with running_proxy(socket_dir(server.admin_uri)) as proxy:
        settings = StoreSettings(database_url=pooler_url(proxy, database), pool_max_size=16)
        with open_store(settings) as pooled:
            assert not pooled.listens
            yield Backend(
                "pooler", Repositories.postgres(pooled), *users, store=pooled, admin=admin
            )
    assert proxy.violations == []
    assert proxy.parses > 0, "the proxy saw no statement: the scenario did not go through it"


@pytest.fixture
def repos(backend: Backend) -> Repositories:
    return backend.repos


@pytest.fixture
def a(backend: Backend) -> uuid.UUID:
    return backend.user_a


@pytest.fixture
def b(backend: Backend) -> uuid.UUID:
    return backend.user_b


def _fund(repos: Repositories, user: uuid.UUID, amount: int) -> None:
    repos.credits.adjust(user_id=user, amount=amount, reason="grant", idempotency_key="fund")


def _ledger_sum(repos: Repositories, user: uuid.UUID) -> int:
    return sum(e.delta for e in repos.credits.ledger(user_id=user, before=None, limit=10_000))


def _history(repos: Repositories, user: uuid.UUID, job_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return [(e.kind, e.state, e.message) for e in repos.jobs.events(user_id=user, job_id=job_id)]


# --- Credits ------------------------------------------------------------------------------------


def test_a_partial_settle_returns_the_rest_and_a_release_returns_all(
    repos: Repositories, a: uuid.UUID
) -> None:
    credits = repos.credits
    _fund(repos, a, 30)
    charged = credits.hold(user_id=a, amount=10)
    refunded = credits.hold(user_id=a, amount=10)
    assert (charged.status, charged.resolved_at, credits.balance(user_id=a)) == (
        HoldStatus.HELD,
        None,
        10,
    )

    settled = credits.settle(hold_id=charged.id, actual=4)
    released = credits.release(hold_id=refunded.id)

    assert (settled.status, settled.settled_amount) == (HoldStatus.SETTLED, 4)
    assert (released.status, released.settled_amount) == (HoldStatus.RELEASED, None)
    assert settled.resolved_at is not None and released.resolved_at is not None
    assert credits.release(hold_id=refunded.id) == released  # releasing again: unchanged
    assert credits.balance(user_id=a) == credits.balance(user_id=a, as_user=True) == 26
    entries = credits.ledger(user_id=a, before=None, limit=100)
    assert [(e.reason, e.delta, e.balance_after, e.hold_id) for e in entries] == [
        ("hold released", 10, 26, refunded.id),
        ("hold remainder", 6, 16, charged.id),
        ("hold", -10, 10, refunded.id),
        ("hold", -10, 20, charged.id),
        ("grant", 30, 30, None),
    ]
    assert _ledger_sum(repos, a) == 26
    assert credits.ledger(user_id=a, before=entries[2].id, limit=1) == [entries[3]]
    with pytest.raises(HoldResolved, match="already settled"):
        credits.release(hold_id=charged.id)
    with pytest.raises(HoldResolved, match="already released"):
        credits.settle(hold_id=refunded.id, actual=1)


def test_a_hold_settles_once(repos: Repositories, a: uuid.UUID) -> None:
    _fund(repos, a, 50)
    held = repos.credits.hold(user_id=a, amount=10)

    first = repos.credits.settle(hold_id=held.id, actual=3)
    again = repos.credits.settle(hold_id=held.id, actual=3)  # a retried settle: no second effect

    assert again == first
    with pytest.raises(HoldResolved, match="already settled"):
        repos.credits.settle(hold_id=held.id, actual=5)
    entries = repos.credits.ledger(user_id=a, before=None, limit=100)
    assert [e.reason for e in entries if e.hold_id == held.id] == ["hold remainder", "hold"]
    assert repos.credits.balance(user_id=a) == 47 == _ledger_sum(repos, a)


def test_concurrent_holds_never_overdraw(repos: Repositories, a: uuid.UUID) -> None:
    # The fake serializes with one lock where PostgreSQL locks the account row: same outcome.
    _fund(repos, a, 20)

    def hold(i: int) -> str:
        try:
            repos.credits.hold(user_id=a, amount=1, idempotency_key=f"h{i}")
        except InsufficientCredits:
            return "refused"
        return "held"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(hold, range(40)))

    assert (outcomes.count("held"), outcomes.count("refused")) == (20, 20)
    assert repos.credits.balance(user_id=a) == 0 == _ledger_sum(repos, a)


def test_insufficient_credits_change_nothing(repos: Repositories, a: uuid.UUID) -> None:
    _fund(repos, a, 3)

    with pytest.raises(InsufficientCredits, match="balance 3, needed 4") as refused:
        repos.credits.hold(user_id=a, amount=4)
    with pytest.raises(InsufficientCredits, match="balance 3, adjustment -5"):
        repos.credits.adjust(user_id=a, amount=-5, reason="correction", idempotency_key="fix")

    assert (refused.value.where, refused.value.sqlstate) == ("hold_credits", "RF001")
    assert repos.credits.balance(user_id=a) == 3
    assert len(repos.credits.ledger(user_id=a, before=None, limit=100)) == 1
    # The refused key took no effect, so it can be used once there is enough.
    fixed = repos.credits.adjust(user_id=a, amount=-2, reason="correction", idempotency_key="fix")
    assert (fixed.delta, fixed.balance_after) == (-2, 1)


def test_an_idempotency_key_takes_effect_once(repos: Repositories, a: uuid.UUID) -> None:
    first = repos.credits.adjust(user_id=a, amount=25, reason="purchase", idempotency_key="pay_1")
    again = repos.credits.adjust(user_id=a, amount=25, reason="purchase", idempotency_key="pay_1")
    # The key decides, not the amount: a replay with other values returns the first entry.
    other = repos.credits.adjust(user_id=a, amount=99, reason="purchase", idempotency_key="pay_1")
    held = repos.credits.hold(user_id=a, amount=5, idempotency_key="job_1")
    held_again = repos.credits.hold(user_id=a, amount=5, idempotency_key="job_1")

    assert again == first == other
    assert held_again == held
    assert repos.credits.balance(user_id=a) == 20 == _ledger_sum(repos, a)


def test_a_cost_above_the_hold_is_refused_and_changes_nothing(
    repos: Repositories, a: uuid.UUID
) -> None:
    _fund(repos, a, 10)
    held = repos.credits.hold(user_id=a, amount=5)

    with pytest.raises(CostAboveHold, match="actual cost 6 exceeds hold"):
        repos.credits.settle(hold_id=held.id, actual=6)

    assert repos.credits.balance(user_id=a) == 5
    assert repos.credits.settle(hold_id=held.id, actual=5).settled_amount == 5


def test_unknown_users_holds_and_bad_amounts_are_named(repos: Repositories, a: uuid.UUID) -> None:
    stranger = uuid.uuid4()
    with pytest.raises(UnknownUser, match=f"unknown user {stranger}"):
        repos.credits.adjust(user_id=stranger, amount=1, reason="x", idempotency_key="k")
    with pytest.raises(UnknownUser, match=f"unknown user {stranger}"):
        repos.credits.hold(user_id=stranger, amount=1)
    with pytest.raises(NotFound, match="unknown hold"):
        repos.credits.settle(hold_id=uuid.uuid4(), actual=0)
    with pytest.raises(NotFound, match="unknown hold"):
        repos.credits.release(hold_id=uuid.uuid4())
    _fund(repos, a, 10)
    for amount, message in [
        (0, "between 1 and 1000000000"),
        (10**10, "between 1"),
        (2.5, "integer"),
    ]:
        with pytest.raises(StoreInputError, match=message):
            repos.credits.hold(user_id=a, amount=amount)  # type: ignore[arg-type]
    with pytest.raises(StoreInputError, match="actual cost must be 0 or more"):
        repos.credits.settle(hold_id=repos.credits.hold(user_id=a, amount=1).id, actual=-1)
    assert repos.credits.balance(user_id=stranger) == 0
    assert repos.credits.balance(user_id=a) == 9


def test_holds_of_failed_or_canceled_jobs_are_released_as_orphans(
    repos: Repositories, a: uuid.UUID
) -> None:
    _fund(repos, a, 10)
    canceled = repos.jobs.enqueue(user_id=a, kind="render")
    running = repos.jobs.enqueue(user_id=a, kind="render")
    orphan = repos.credits.hold(user_id=a, amount=4, job_id=canceled.id)
    kept = repos.credits.hold(user_id=a, amount=3, job_id=running.id)
    repos.jobs.cancel(job_id=canceled.id)

    assert repos.credits.release_orphans() == 1
    assert repos.credits.release_orphans() == 0
    assert repos.credits.balance(user_id=a) == 7
    detail = repos.jobs.detail(user_id=a, job_id=canceled.id)
    assert detail is not None and detail.hold is not None
    assert (detail.hold.id, detail.hold.status) == (orphan.id, HoldStatus.RELEASED)
    assert repos.credits.release(hold_id=kept.id).status == HoldStatus.RELEASED


# --- Grants and purchases -----------------------------------------------------------------------


def test_the_starting_grant_is_given_once_to_each_new_user(
    repos: Repositories, a: uuid.UUID
) -> None:
    assert repos.credits.starting_grant() == 0  # off until configured
    assert repos.credits.set_starting_grant(50) == 50 == repos.credits.starting_grant()
    new = uuid.uuid4()

    def create(_: int) -> None:
        repos.users.ensure_local(user_id=new, email="new@example.com")

    with ThreadPoolExecutor(max_workers=8) as pool:  # a user "created" eight times at once
        list(pool.map(create, range(8)))
    create(0)

    entries = repos.credits.ledger(user_id=new, before=None, limit=100)
    assert [(e.delta, e.reason, e.idempotency_key) for e in entries] == [
        (50, "starting grant", "starting-grant")
    ]
    assert repos.credits.balance(user_id=new) == 50 == _ledger_sum(repos, new)
    assert repos.credits.balance(user_id=a) == 0  # created before: the change grants nothing
    assert repos.credits.set_starting_grant(0) == 0
    later = uuid.uuid4()
    repos.users.ensure_local(user_id=later, email="later@example.com")
    assert repos.credits.ledger(user_id=later, before=None, limit=100) == []


def test_the_starting_grant_is_bounded(repos: Repositories) -> None:
    repos.credits.set_starting_grant(7)
    for amount in (-1, 10**9 + 1):
        with pytest.raises(StoreInputError, match="app_config_starting_grant_check"):
            repos.credits.set_starting_grant(amount)
    with pytest.raises(StoreInputError, match="must be an integer"):
        repos.credits.set_starting_grant(2.5)  # type: ignore[arg-type]

    assert repos.credits.starting_grant() == 7


def test_a_grant_takes_effect_once_per_key_and_says_when_it_was_replayed(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    first = repos.credits.grant(user_id=a, amount=100, reason="promo", key="k1")
    again = repos.credits.grant(user_id=a, amount=100, reason="promo", key="k1")
    other_user = repos.credits.grant(user_id=b, amount=100, reason="promo", key="k1")
    # Grant keys live apart from the ledger's other keys: a plain "k1" is another entry.
    plain = repos.credits.adjust(user_id=a, amount=1, reason="refund", idempotency_key="k1")

    assert (first.replayed, again.replayed, other_user.replayed) == (False, True, False)
    assert again.entry == first.entry
    assert (first.entry.delta, first.entry.reason, first.entry.idempotency_key) == (
        100, "promo", "grant:k1",
    )  # fmt: skip
    assert plain.id != first.entry.id
    for amount, reason in [(99, "promo"), (100, "other")]:
        with pytest.raises(KeyReused, match="'k1' was already used for a grant of 100"):
            repos.credits.grant(user_id=a, amount=amount, reason=reason, key="k1")
    assert repos.credits.balance(user_id=a) == 101 == _ledger_sum(repos, a)
    assert repos.credits.balance(user_id=b) == 100


def test_grants_refuse_unknown_users_bad_amounts_and_keys(
    repos: Repositories, a: uuid.UUID
) -> None:
    stranger = uuid.uuid4()
    with pytest.raises(UnknownUser, match=f"unknown user {stranger}"):
        repos.credits.grant(user_id=stranger, amount=1, reason="grant", key="k")
    for amount, key, where, message in [
        (0, "k", "check_credit_amount", "between 1 and 1000000000"),
        (-5, "k", "check_credit_amount", "between 1 and 1000000000"),
        (10**9 + 1, "k", "check_credit_amount", "between 1 and 1000000000"),
        (5, "", "grant_credits", "grant key must be 1 to 194 characters"),
        (5, "k" * 195, "grant_credits", "grant key must be 1 to 194 characters"),
    ]:
        with pytest.raises(StoreInputError, match=message) as refused:
            repos.credits.grant(user_id=a, amount=amount, reason="grant", key=key)
        assert (refused.value.where, refused.value.sqlstate) == (where, "22023")

    assert repos.credits.grant(user_id=a, amount=5, reason="grant", key="k" * 194).entry.delta == 5
    assert repos.credits.balance(user_id=a) == 5


def test_concurrent_grants_with_one_key_credit_once(repos: Repositories, a: uuid.UUID) -> None:
    def grant(_: int) -> tuple[int, bool]:
        found = repos.credits.grant(user_id=a, amount=30, reason="grant", key="once")
        return found.entry.id, found.replayed

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(grant, range(16)))

    assert len({entry for entry, _ in results}) == 1
    assert sorted(replayed for _, replayed in results) == [False] + [True] * 15
    assert repos.credits.balance(user_id=a) == 30 == _ledger_sum(repos, a)


def _payment(event_id: str, user: uuid.UUID | None, **changes: Any) -> CheckoutPayment:
    values: dict[str, Any] = {
        "event_id": event_id,
        "event_type": "checkout.session.completed",
        "checkout_session": "cs_test_1",
        "client_reference_id": str(user) if user else "someone",
        "user_id": user,
        "credits": 500,
        "amount_total": 1900,
        "currency": "usd",
    }
    return CheckoutPayment(**(values | changes))


def test_a_purchase_is_credited_once_per_event_and_once_per_session(
    repos: Repositories, a: uuid.UUID
) -> None:
    first = repos.billing.record(_payment("evt_1", a))
    again = repos.billing.record(_payment("evt_1", a))
    async_paid = repos.billing.record(
        _payment("evt_2", a, event_type="checkout.session.async_payment_succeeded")
    )

    assert (first.outcome, first.duplicate, first.ledger_id is not None) == (
        BillingOutcome.CREDITED, False, True,
    )  # fmt: skip
    assert again == first.model_copy(update={"duplicate": True})
    assert (async_paid.outcome, async_paid.ledger_id) == (
        BillingOutcome.ALREADY_CREDITED,
        first.ledger_id,
    )
    (entry,) = repos.credits.ledger(user_id=a, before=None, limit=100)
    assert (entry.id, entry.delta, entry.reason, entry.idempotency_key) == (
        first.ledger_id, 500, "purchase", "stripe:checkout:cs_test_1",
    )  # fmt: skip
    assert [e.event_id for e in repos.billing.events(checkout_session="cs_test_1")] == [
        "evt_2",
        "evt_1",
    ]
    assert repos.billing.events(checkout_session="cs_other") == []
    assert repos.credits.balance(user_id=a) == 500 == _ledger_sum(repos, a)


def test_the_same_purchase_event_five_times_at_once_credits_once(
    repos: Repositories, a: uuid.UUID
) -> None:
    with ThreadPoolExecutor(max_workers=5) as pool:
        records = list(pool.map(lambda _: repos.billing.record(_payment("evt_p", a)), range(5)))

    assert sorted(r.duplicate for r in records) == [False, True, True, True, True]
    assert {(r.id, r.outcome) for r in records} == {(records[0].id, BillingOutcome.CREDITED)}
    assert repos.credits.balance(user_id=a) == 500 == _ledger_sum(repos, a)
    assert len(repos.billing.events()) == 1


def test_payments_for_no_known_user_or_without_a_purchase_are_recorded_only(
    repos: Repositories, a: uuid.UUID
) -> None:
    stranger = uuid.uuid4()
    unknown = repos.billing.record(_payment("evt_u1", stranger))
    no_uuid = repos.billing.record(_payment("evt_u2", None, client_reference_id="not-a-user"))
    ignored = repos.billing.record(
        CheckoutPayment(event_id="evt_i", event_type="invoice.paid", outcome=BillingOutcome.IGNORED)
    )
    unpaid = repos.billing.record(
        _payment("evt_n", a, outcome=BillingOutcome.NOT_PAID, detail="payment_status unpaid")
    )

    assert (unknown.outcome, unknown.detail, unknown.ledger_id) == (
        BillingOutcome.UNKNOWN_USER, f"no user {stranger}", None,
    )  # fmt: skip
    assert (no_uuid.outcome, no_uuid.detail) == (BillingOutcome.UNKNOWN_USER, "no user not-a-user")
    assert (ignored.outcome, ignored.checkout_session, ignored.credits) == (
        BillingOutcome.IGNORED, None, None,
    )  # fmt: skip
    assert (unpaid.outcome, unpaid.detail, unpaid.ledger_id) == (
        BillingOutcome.NOT_PAID, "payment_status unpaid", None,
    )  # fmt: skip
    assert repos.credits.balance(user_id=a) == 0 == repos.credits.balance(user_id=stranger)
    # The session was never credited: its paid event, when it comes, credits it.
    paid = repos.billing.record(_payment("evt_n2", a))
    assert (paid.outcome, repos.credits.balance(user_id=a)) == (BillingOutcome.CREDITED, 500)


def test_payment_records_refuse_what_the_table_would(repos: Repositories, a: uuid.UUID) -> None:
    with pytest.raises(StoreInputError, match="needs a checkout session and credits") as refused:
        repos.billing.record(_payment("evt_x", a, credits=None))
    assert (refused.value.where, refused.value.sqlstate) == ("record_billing_event", "22023")
    for changes, constraint in [
        ({"credits": 0, "outcome": BillingOutcome.INVALID}, "billing_events_credits_check"),
        ({"currency": "USD"}, "billing_events_currency_check"),
        ({"event_id": "e" * 256}, "billing_events_event_id_check"),
        ({"checkout_session": "c" * 185}, "billing_events_checkout_session_check"),
    ]:
        with pytest.raises(StoreInputError, match=constraint):
            repos.billing.record(_payment("evt_y", a).model_copy(update=changes))

    assert repos.billing.events() == []
    assert repos.credits.balance(user_id=a) == 0


# --- Jobs ---------------------------------------------------------------------------------------


def test_a_job_runs_from_enqueue_to_delivery(repos: Repositories, a: uuid.UUID) -> None:
    jobs = repos.jobs
    job = jobs.enqueue(user_id=a, kind="render", payload={"n": 1}, dedupe_key="brief-1")
    assert (job.state, job.attempts, job.max_attempts, job.payload) == (
        JobState.QUEUED,
        0,
        3,
        {"n": 1},
    )
    assert jobs.enqueue(user_id=a, kind="render", dedupe_key="brief-1").id == job.id

    claimed = jobs.claim(worker="w1", lease_seconds=60)
    assert claimed is not None and claimed.id == job.id
    assert (claimed.state, claimed.attempts, claimed.lease_owner) == (JobState.PLANNING, 1, "w1")
    assert claimed.lease_expires_at is not None
    assert jobs.claim(worker="w2") is None  # leased: the second claim gets nothing
    beat = jobs.heartbeat(job_id=job.id, worker="w1", lease_seconds=120, progress=0.25)
    assert beat.progress == 0.25 and beat.lease_expires_at is not None
    assert beat.lease_expires_at > claimed.lease_expires_at
    moved = jobs.advance(
        job_id=job.id, worker="w1", state=JobState.GENERATING, checkpoint={"plan": 1}, progress=0.5
    )
    assert (moved.state, moved.checkpoints) == (JobState.GENERATING, {"planning": {"plan": 1}})
    done = jobs.complete(job_id=job.id, worker="w1")

    assert (done.state, done.progress, done.lease_owner, done.error) == (
        JobState.DELIVERED,
        1.0,
        None,
        None,
    )
    assert done.finished_at is not None and done.lease_expires_at is None
    assert jobs.get(job_id=job.id) == done == jobs.get(job_id=job.id, user_id=a)
    # A finished job frees its dedupe key.
    assert jobs.enqueue(user_id=a, kind="render", dedupe_key="brief-1").id != job.id


def test_events_are_appended_in_order_as_the_sql_appends_them(
    repos: Repositories, a: uuid.UUID
) -> None:
    jobs = repos.jobs
    job = jobs.enqueue(user_id=a, kind="render")
    assert jobs.claim(worker="w1") is not None
    jobs.heartbeat(job_id=job.id, worker="w1")  # no progress: no event
    jobs.heartbeat(job_id=job.id, worker="w1", progress=0.2)
    for state in (JobState.GENERATING, JobState.COMPOSING, JobState.QC):
        jobs.advance(job_id=job.id, worker="w1", state=state)
    jobs.complete(job_id=job.id, worker="w1", state=JobState.AWAITING_REVIEW)

    events = jobs.events(user_id=a, job_id=job.id)

    assert [(e.kind, e.state, e.progress, e.message) for e in events] == [
        ("state", JobState.QUEUED, 0, "queued"),
        ("claimed", JobState.PLANNING, 0, "w1, attempt 1 of 3"),
        ("progress", JobState.PLANNING, 0.2, None),
        ("state", JobState.GENERATING, 0.2, None),
        ("state", JobState.COMPOSING, 0.2, None),
        ("state", JobState.QC, 0.2, None),
        ("state", JobState.AWAITING_REVIEW, 1, None),
    ]
    assert [e.id for e in events] == sorted({e.id for e in events})
    assert jobs.events(user_id=a, job_id=job.id, after_id=events[2].id) == events[3:]
    assert jobs.events(user_id=a, job_id=job.id, after_id=events[2].id, limit=2) == events[3:5]
    awaiting = jobs.get(job_id=job.id)
    assert awaiting is not None and awaiting.finished_at is None


def test_a_failed_attempt_is_retried_until_max_attempts(repos: Repositories, a: uuid.UUID) -> None:
    jobs = repos.jobs
    job = jobs.enqueue(user_id=a, kind="render", max_attempts=2)
    assert jobs.claim(worker="w1") is not None

    retried = jobs.fail(job_id=job.id, worker="w1", error="provider timed out")
    assert (retried.state, retried.attempts, retried.error, retried.lease_owner) == (
        JobState.QUEUED,
        1,
        "provider timed out",
        None,
    )
    again = jobs.claim(worker="w2")
    assert again is not None and (again.attempts, again.state) == (2, JobState.PLANNING)
    with pytest.raises(LeaseLost, match="w1 does not hold the lease"):
        jobs.fail(job_id=job.id, worker="w1", error="late")
    failed = jobs.fail(job_id=job.id, worker="w2", error="provider timed out")

    assert failed.state == JobState.FAILED and failed.finished_at is not None
    assert failed.error == "attempt 2 of 2 failed: provider timed out"
    assert jobs.claim(worker="w1") is None
    assert [k for k, _, _ in _history(repos, a, job.id)] == [
        "state",
        "claimed",
        "retry",
        "claimed",
        "state",
    ]


def test_a_retry_delay_and_no_retry(backend: Backend, repos: Repositories, a: uuid.UUID) -> None:
    jobs = repos.jobs
    job = jobs.enqueue(user_id=a, kind="render")
    assert jobs.claim(worker="w1") is not None
    jobs.fail(job_id=job.id, worker="w1", error="busy", retry_delay_seconds=1)
    assert jobs.claim(worker="w1") is None  # not due yet
    assert jobs.runnable(limit=10) == []

    later = backend.after(1, lambda: jobs.claim(worker="w1"))

    assert later is not None and later.attempts == 2
    final = jobs.fail(job_id=job.id, worker="w1", error="bad brief", retry=False)
    assert (final.state, final.error) == (JobState.FAILED, "attempt 2 of 3 failed: bad brief")


def test_an_expired_lease_makes_the_job_claimable_again(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    jobs = repos.jobs
    job = jobs.enqueue(user_id=a, kind="render")
    assert jobs.claim(worker="w1", lease_seconds=60) is not None
    jobs.advance(job_id=job.id, worker="w1", state=JobState.GENERATING, checkpoint={"plan": 1})
    assert jobs.claim(worker="w2") is None  # the lease still holds
    assert jobs.runnable(limit=10) == []

    backend.expire_lease(job.id)
    assert jobs.runnable(limit=10) == [job.id]
    second = jobs.claim(worker="w2")

    assert second is not None
    assert (second.id, second.lease_owner, second.attempts) == (job.id, "w2", 2)
    assert second.state == JobState.GENERATING  # resumes where it stopped
    assert second.checkpoints == {"planning": {"plan": 1}}
    with pytest.raises(LeaseLost, match="w1 does not hold the lease"):
        jobs.heartbeat(job_id=job.id, worker="w1")
    assert jobs.heartbeat(job_id=job.id, worker="w2", progress=0.5).progress == 0.5


def test_a_one_second_lease_runs_out_on_its_own(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    job = repos.jobs.enqueue(user_id=a, kind="render")
    assert repos.jobs.claim(worker="w1", lease_seconds=1) is not None

    again = backend.after(1, lambda: repos.jobs.claim(worker="w2", lease_seconds=60))

    assert again is not None and (again.id, again.attempts, again.lease_owner) == (job.id, 2, "w2")


def test_a_lease_expiring_on_the_last_attempt_fails_the_job(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    job = repos.jobs.enqueue(user_id=a, kind="render", max_attempts=1)
    assert repos.jobs.claim(worker="w1") is not None
    backend.expire_lease(job.id)

    assert repos.jobs.claim(worker="w2") is None
    final = repos.jobs.get(job_id=job.id)
    assert final is not None and final.state == JobState.FAILED
    assert final.error == "lease of w1 expired on attempt 1 of 1"
    assert _history(repos, a, job.id)[-1] == ("state", JobState.FAILED, final.error)


def test_cancel_stops_queued_and_running_jobs(repos: Repositories, a: uuid.UUID) -> None:
    jobs = repos.jobs
    running = jobs.enqueue(user_id=a, kind="render")
    queued = jobs.enqueue(user_id=a, kind="render")
    claimed = jobs.claim(worker="w1")
    assert claimed is not None and claimed.id == running.id

    canceled = jobs.cancel(job_id=queued.id, user_id=a)
    stopped = jobs.cancel(job_id=running.id)  # as the service

    assert canceled.state == JobState.CANCELED and canceled.finished_at is not None
    assert jobs.cancel(job_id=queued.id, user_id=a) == canceled  # finished: returned as it is
    assert (stopped.state, stopped.lease_owner) == (JobState.CANCELED, None)
    with pytest.raises(LeaseLost):
        jobs.heartbeat(job_id=running.id, worker="w1")
    with pytest.raises(LeaseLost):
        jobs.complete(job_id=running.id, worker="w1")
    assert jobs.claim(worker="w1") is None
    with pytest.raises(NotFound, match="unknown job"):
        jobs.cancel(job_id=uuid.uuid4())
    assert _history(repos, a, queued.id)[-1] == ("state", JobState.CANCELED, "canceled")


def test_release_returns_the_job_without_using_an_attempt(
    repos: Repositories, a: uuid.UUID
) -> None:
    jobs = repos.jobs
    job = jobs.enqueue(user_id=a, kind="render")
    assert jobs.claim(worker="w1") is not None

    assert jobs.release(job_id=job.id, worker="w2", reason="shutdown") is False
    assert jobs.release(job_id=job.id, worker="w1", reason="shutdown") is True
    assert jobs.release(job_id=job.id, worker="w1", reason="shutdown") is False
    assert jobs.release(job_id=uuid.uuid4(), worker="w1", reason="shutdown") is False

    back = jobs.get(job_id=job.id)
    assert back is not None
    assert (back.state, back.attempts, back.lease_owner) == (JobState.QUEUED, 0, None)
    again = jobs.claim(worker="w2")
    assert again is not None and again.attempts == 1
    assert _history(repos, a, job.id)[2:] == [
        ("retry", JobState.QUEUED, "shutdown"),
        ("claimed", JobState.PLANNING, "w2, attempt 1 of 3"),
    ]


def test_claim_by_id_takes_the_named_job_not_the_oldest(repos: Repositories, a: uuid.UUID) -> None:
    older = repos.jobs.enqueue(user_id=a, kind="render")
    named = repos.jobs.enqueue(user_id=a, kind="render")

    claimed = repos.jobs.claim_by_id(job_id=named.id, worker="modal-1", lease_seconds=30)

    assert claimed is not None and (claimed.id, claimed.attempts) == (named.id, 1)
    assert repos.jobs.claim_by_id(job_id=named.id, worker="modal-2") is None
    assert repos.jobs.claim_by_id(job_id=uuid.uuid4(), worker="modal-3") is None
    leftover = repos.jobs.claim(worker="w")
    assert leftover is not None and leftover.id == older.id


def test_enqueue_wakes_a_listening_worker(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    # PostgreSQL delivers the NOTIFY on commit; the fake at once: the same to a listener.
    # Behind the transaction pooler a LISTEN would be lost with its transaction: the worker
    # polls instead, and its wait hears nothing (the proxy refuses any LISTEN).
    with repos.jobs.wakeups() as wakeups:
        job = repos.jobs.enqueue(user_id=a, kind="render")
        woken = wakeups.wait(timeout=5 if backend.name != "pooler" else 0.05)
        nothing = wakeups.wait(timeout=0.05)

    assert (woken, nothing) == ((job.id, None) if backend.name != "pooler" else (None, None))


def test_jobs_refuse_bad_arguments_and_unknown_rows(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    jobs = repos.jobs
    job = jobs.enqueue(user_id=a, kind="render")
    assert jobs.claim(worker="w1") is not None
    stranger = uuid.uuid4()
    others = repos.projects.create(user_id=b, name="B", brief={}, script_options=[])

    with pytest.raises(UnknownUser, match=str(stranger)):
        jobs.enqueue(user_id=stranger, kind="render")
    with pytest.raises(StoreInputError, match="unknown project"):
        jobs.enqueue(user_id=a, kind="render", project_id=others.id)
    with pytest.raises(StoreInputError, match="max_attempts"):
        jobs.enqueue(user_id=a, kind="render", max_attempts=0)
    with pytest.raises(StoreInputError, match="working state"):
        jobs.advance(job_id=job.id, worker="w1", state=JobState.DELIVERED)
    with pytest.raises(StoreInputError, match="delivered or awaiting_review"):
        jobs.complete(job_id=job.id, worker="w1", state=JobState.FAILED)
    with pytest.raises(StoreInputError, match="progress"):
        jobs.heartbeat(job_id=job.id, worker="w1", progress=1.5)
    with pytest.raises(StoreInputError, match="lease"):
        jobs.claim(worker="w1", lease_seconds=0)
    with pytest.raises(StoreInputError, match="a failure needs a reason"):
        jobs.fail(job_id=job.id, worker="w1", error="")
    with pytest.raises(NotFound, match="unknown job"):
        jobs.heartbeat(job_id=uuid.uuid4(), worker="w1")
    current = jobs.get(job_id=job.id)
    assert current is not None and current.state == JobState.PLANNING


def test_a_tenants_jobs_page_newest_first(repos: Repositories, a: uuid.UUID, b: uuid.UUID) -> None:
    made = [repos.jobs.enqueue(user_id=a, kind="render") for _ in range(3)]

    first = repos.jobs.page(user_id=a, before=None, limit=2)
    rest = repos.jobs.page(user_id=a, before=(first[-1].created_at, first[-1].id), limit=2)

    assert [j.id for j in first + rest] == [j.id for j in reversed(made)]
    assert repos.jobs.page(user_id=b, before=None, limit=10) == []


def test_events_written_in_a_callers_transaction(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    job = repos.jobs.enqueue(user_id=a, kind="render")
    # The fake writes at once; PostgreSQL commits when the block ends (nothing fails here).
    with backend.transaction() as conn:
        repos.jobs.append_event(conn, job_id=job.id, user_id=a, state=JobState.QUEUED, kind="log")
        event_id = repos.jobs.log_callback(conn, job_id=job.id, message="fal callback for t-1")
        missing = repos.jobs.log_callback(conn, job_id=uuid.uuid4(), message="nobody")

    events = repos.jobs.events(user_id=a, job_id=job.id)
    assert missing is None and events[-1].id == event_id
    assert [(e.kind, e.message) for e in events[1:]] == [
        ("log", None),
        ("log", "fal callback for t-1"),
    ]


def test_a_render_recorded_by_the_command_line(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    repos.webhooks.create_endpoint(user_id=a, url="https://example.com/h", secret=generate_secret())
    with backend.transaction() as conn:
        project_id = repos.projects.insert_delivered(
            conn, user_id=a, name="Cup", brief={"p": 1}, script_options=[{"o": 1}], chosen_script=0
        )
        job_id = repos.jobs.insert_delivered(
            conn, user_id=a, project_id=project_id, payload={"sku": "X"}, checkpoints={"s": {}}
        )

    project = repos.projects.get(user_id=a, project_id=project_id)
    job = repos.jobs.get(job_id=job_id, user_id=a)
    assert project is not None and (project.status, project.chosen_script) == ("delivered", 0)
    assert job is not None and job.finished_at is not None
    assert (job.state, job.kind, job.attempts, job.progress, job.checkpoints) == (
        JobState.DELIVERED,
        "render",
        1,
        1.0,
        {"s": {}},
    )
    # An INSERT: no queue event and no webhook (the trigger fires on state updates).
    assert repos.jobs.events(user_id=a, job_id=job_id) == []
    assert repos.webhooks.deliveries(user_id=a) == []


# --- Projects -----------------------------------------------------------------------------------


def test_a_project_is_updated_only_from_its_current_version(
    repos: Repositories, a: uuid.UUID
) -> None:
    projects = repos.projects
    created = projects.create(
        user_id=a, name="Cup", brief={"product": "cup"}, script_options=[{"hook": "Hi"}]
    )
    assert (created.status, created.chosen_script) == ("scripted", None)
    assert created.created_at == created.updated_at
    assert projects.get(user_id=a, project_id=created.id) == created
    fields: dict[str, Any] = {"name": "Cup 2", "brief": {"product": "mug"}, "script_options": []}

    updated = projects.update(
        user_id=a, project_id=created.id, seen=created.updated_at, chosen_script=0, **fields
    )
    assert updated is not None
    assert (updated.name, updated.brief, updated.chosen_script) == ("Cup 2", {"product": "mug"}, 0)
    assert updated.updated_at > created.updated_at and updated.created_at == created.created_at
    # A stale version: the repository answers None on both (the API turns it into Conflict).
    stale = projects.update(
        user_id=a, project_id=created.id, seen=created.updated_at, chosen_script=1, **fields
    )

    assert stale is None
    assert projects.get(user_id=a, project_id=created.id) == updated
    assert projects.get(user_id=a, project_id=uuid.uuid4()) is None
    with pytest.raises(StoreInputError, match="projects"):
        projects.create(user_id=a, name="", brief={}, script_options=[])


# --- Isolation ----------------------------------------------------------------------------------


def test_a_user_never_sees_or_changes_another_users_rows(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    _fund(repos, a, 10)
    project = repos.projects.create(user_id=a, name="A", brief={}, script_options=[])
    job = repos.jobs.enqueue(user_id=a, kind="render", project_id=project.id)
    held = repos.credits.hold(user_id=a, amount=2, job_id=job.id)
    endpoint = repos.webhooks.create_endpoint(
        user_id=a, url="https://example.com/a", secret=generate_secret()
    )
    repos.jobs.cancel(job_id=job.id, user_id=a)  # writes a delivery for A's endpoint

    # As PostgreSQL's row-level security answers: None, [] or NotFound, never B's view of A.
    assert repos.jobs.get(job_id=job.id, user_id=b) is None
    assert repos.jobs.detail(user_id=b, job_id=job.id) is None
    assert repos.jobs.events(user_id=b, job_id=job.id) == []
    assert repos.jobs.page(user_id=b, before=None, limit=10) == []
    with pytest.raises(NotFound, match="unknown job"):
        repos.jobs.cancel(job_id=job.id, user_id=b)
    assert repos.projects.get(user_id=b, project_id=project.id) is None
    seen = project.updated_at
    assert (
        repos.projects.update(
            user_id=b,
            project_id=project.id,
            seen=seen,
            name="B",
            brief={},
            script_options=[],
            chosen_script=None,
        )
        is None
    )
    for change in (
        lambda: repos.webhooks.delete_endpoint(user_id=b, endpoint_id=endpoint.id),
        lambda: repos.webhooks.enable_endpoint(user_id=b, endpoint_id=endpoint.id),
        lambda: repos.webhooks.rotate_secret(
            user_id=b, endpoint_id=endpoint.id, secret=generate_secret()
        ),
    ):
        with pytest.raises(NotFound, match="no endpoint"):
            change()
    assert repos.webhooks.endpoints(user_id=b) == []
    assert repos.webhooks.deliveries(user_id=b) == []
    assert repos.credits.ledger(user_id=b, before=None, limit=10) == []
    assert repos.credits.balance(user_id=b, as_user=True) == 0
    with pytest.raises(StoreInputError, match="unknown project"):
        repos.jobs.enqueue(user_id=b, kind="render", project_id=project.id)
    with pytest.raises(StoreInputError, match="unknown job"):
        repos.credits.hold(user_id=b, amount=1, job_id=job.id)
    # A's rows are as A left them.
    assert repos.projects.get(user_id=a, project_id=project.id) == project
    detail = repos.jobs.detail(user_id=a, job_id=job.id)
    assert detail is not None and detail.hold == held and detail.job.state == JobState.CANCELED
    assert [e.id for e in repos.webhooks.endpoints(user_id=a)] == [endpoint.id]
    assert len(repos.webhooks.deliveries(user_id=a)) == 1


# --- Webhooks -----------------------------------------------------------------------------------


def test_webhook_endpoints_are_created_listed_and_deleted(
    repos: Repositories, a: uuid.UUID
) -> None:
    hooks = repos.webhooks
    first = hooks.create_endpoint(
        user_id=a, url="https://example.com/a", secret=generate_secret(), events=["job.delivered"]
    )
    second = hooks.create_endpoint(user_id=a, url="https://example.com/b", secret=generate_secret())

    assert (first.enabled, first.events, first.failed_deliveries_in_row) == (
        True,
        ["job.delivered"],
        0,
    )
    assert (second.events, second.disabled_reason) == ([], None)
    assert hooks.endpoints(user_id=a) == [first, second]
    hooks.delete_endpoint(user_id=a, endpoint_id=first.id)
    assert hooks.endpoints(user_id=a) == [second]
    with pytest.raises(NotFound, match="no endpoint"):
        hooks.delete_endpoint(user_id=a, endpoint_id=first.id)
    with pytest.raises(StoreInputError, match="webhook_endpoints"):
        hooks.create_endpoint(user_id=a, url="ftp://example.com", secret=generate_secret())
    with pytest.raises(StoreInputError, match="webhook_endpoints"):
        hooks.create_endpoint(user_id=a, url="https://example.com", secret="short")


def test_an_enabled_endpoint_needs_a_whsec_secret_and_an_https_url(
    repos: Repositories, a: uuid.UUID
) -> None:
    """What the dispatcher trusts (migration 0010), refused at the source."""
    hooks = repos.webhooks
    for url, secret in [
        ("https://example.com/h", "a-plain-password-of-forty-characters!!"),
        ("https://example.com/h", "whsec_" + "A" * 100),
        ("http://example.com/h", generate_secret()),
        ("https://user:pw@example.com/h", generate_secret()),
        ("https://exa mple.com/h", generate_secret()),
    ]:
        with pytest.raises(StoreInputError, match="webhook_endpoints"):
            hooks.create_endpoint(user_id=a, url=url, secret=secret)
    ok = hooks.create_endpoint(user_id=a, url="HTTPS://Example.com/h", secret=generate_secret(24))
    with pytest.raises(StoreInputError, match="webhook_endpoints_deliverable"):
        hooks.rotate_secret(
            user_id=a, endpoint_id=ok.id, secret="a-plain-password-of-forty-characters!!"
        )
    assert hooks.endpoints(user_id=a) == [ok]


def test_a_finished_job_writes_one_delivery_per_subscribed_enabled_endpoint(
    backend: Backend, repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    hooks, jobs = repos.webhooks, repos.jobs
    every = hooks.create_endpoint(user_id=a, url="https://example.com/1", secret=generate_secret())
    delivered_only = hooks.create_endpoint(
        user_id=a, url="https://example.com/2", secret=generate_secret(), events=["job.delivered"]
    )
    failed_only = hooks.create_endpoint(
        user_id=a, url="https://example.com/3", secret=generate_secret(), events=["job.failed"]
    )
    hooks.create_endpoint(user_id=b, url="https://example.com/b", secret=generate_secret())
    job = jobs.enqueue(user_id=a, kind="render")
    assert jobs.claim(worker="w1") is not None
    done = jobs.complete(job_id=job.id, worker="w1")

    found = hooks.deliveries(user_id=a)
    webhook_id = f"msg_job_{job.id.hex}_delivered"
    assert sorted(d.endpoint_id for d in found) == sorted([every.id, delivered_only.id])
    assert {(d.webhook_id, d.event_type, d.status, d.attempts) for d in found} == {
        (webhook_id, "job.delivered", DeliveryStatus.PENDING, 0)
    }
    payload = found[0].payload
    assert datetime.fromisoformat(payload.pop("finished_at")) == done.finished_at
    assert payload == {
        "job_id": str(job.id),
        "project_id": None,
        "state": "delivered",
        "error": None,
        "attempts": 1,
        "job_url": f"/v1/jobs/{job.id}",
        "outputs": [],
    }
    assert hooks.deliveries(user_id=b) == []
    # The same event again (a retried step) adds nothing.
    with backend.transaction() as conn:
        again = hooks.enqueue(
            conn, user_id=a, event_type="job.delivered", payload={}, webhook_id=webhook_id
        )
    assert again == []

    review = jobs.enqueue(user_id=a, kind="render")
    assert jobs.claim(worker="w1") is not None
    jobs.complete(job_id=review.id, worker="w1", state=JobState.AWAITING_REVIEW)  # not final
    assert len(hooks.deliveries(user_id=a)) == 2
    jobs.cancel(job_id=review.id)
    broken = jobs.enqueue(user_id=a, kind="render")
    assert jobs.claim(worker="w1") is not None
    jobs.fail(job_id=broken.id, worker="w1", error="boom", retry=False)
    written = {(d.endpoint_id, d.webhook_id) for d in hooks.deliveries(user_id=a)}
    assert written - {(d.endpoint_id, d.webhook_id) for d in found} == {
        (every.id, f"msg_job_{review.id.hex}_canceled"),
        (every.id, f"msg_job_{broken.id.hex}_failed"),
        (failed_only.id, f"msg_job_{broken.id.hex}_failed"),
    }


def test_a_delivery_is_claimed_retried_and_delivered_once(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    hooks = repos.webhooks
    secret = generate_secret()
    endpoint = hooks.create_endpoint(user_id=a, url="https://example.com/h", secret=secret)
    with backend.transaction() as conn:
        [delivery] = hooks.enqueue(conn, user_id=a, event_type="project.updated", payload={"n": 1})
    now = backend.now() + timedelta(seconds=1)

    [claimed] = hooks.claim(worker="d1", now=now, lease_seconds=30)
    assert claimed.id == delivery.id
    assert (claimed.attempts, claimed.url, claimed.signing_secrets) == (1, endpoint.url, [secret])
    assert hooks.claim(worker="d2", now=now) == []  # leased
    retry_at = now + timedelta(seconds=5)
    retried = hooks.record_attempt(
        delivery_id=delivery.id,
        worker="d1",
        now=now,
        status_code=500,
        error="server error",
        next_attempt_at=retry_at,
    )
    assert (retried.status, retried.last_status_code, retried.next_attempt_at) == (
        DeliveryStatus.PENDING,
        500,
        retry_at,
    )
    with pytest.raises(LeaseLost):
        hooks.record_attempt(
            delivery_id=delivery.id,
            worker="d1",
            now=now,
            status_code=200,
            error=None,
            next_attempt_at=None,
        )
    assert hooks.claim(worker="d2", now=now + timedelta(seconds=1)) == []  # not due yet
    [again] = hooks.claim(worker="d2", now=retry_at)
    assert again.attempts == 2
    done = hooks.record_attempt(
        delivery_id=delivery.id,
        worker="d2",
        now=retry_at,
        status_code=204,
        error=None,
        next_attempt_at=None,
    )

    assert (done.status, done.delivered_at, done.last_error) == (
        DeliveryStatus.DELIVERED,
        retry_at,
        None,
    )
    assert done.webhook_id == delivery.webhook_id  # stable across attempts
    assert hooks.claim(worker="d3", now=retry_at + timedelta(hours=1)) == []
    with pytest.raises(NotFound, match="unknown webhook delivery"):
        hooks.record_attempt(
            delivery_id=uuid.uuid4(),
            worker="d2",
            now=now,
            status_code=200,
            error=None,
            next_attempt_at=None,
        )


def test_a_410_disables_the_endpoint_and_kills_its_pending_deliveries(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    hooks = repos.webhooks
    endpoint = hooks.create_endpoint(
        user_id=a, url="https://example.com/h", secret=generate_secret()
    )
    with backend.transaction() as conn:
        for n in range(2):
            hooks.enqueue(conn, user_id=a, event_type="project.updated", payload={"n": n})
    now = backend.now() + timedelta(seconds=1)
    [claimed] = hooks.claim(worker="d1", now=now)

    gone = hooks.record_attempt(
        delivery_id=claimed.id,
        worker="d1",
        now=now,
        status_code=410,
        error="gone",
        next_attempt_at=None,
    )

    assert gone.status == DeliveryStatus.FAILED
    [disabled] = hooks.endpoints(user_id=a)
    assert (disabled.enabled, disabled.disabled_reason) == (False, "the endpoint answered 410 Gone")
    assert sorted(d.status for d in hooks.deliveries(user_id=a)) == ["dead", "failed"]
    job = repos.jobs.enqueue(user_id=a, kind="render")
    repos.jobs.cancel(job_id=job.id)  # a disabled endpoint is sent nothing new
    assert len(hooks.deliveries(user_id=a)) == 2
    enabled = hooks.enable_endpoint(user_id=a, endpoint_id=endpoint.id)
    assert (enabled.enabled, enabled.disabled_reason, enabled.disabled_at) == (True, None, None)
    assert hooks.claim(worker="d1", now=now + timedelta(hours=1)) == []  # dead stays dead


def test_a_rotated_secret_signs_alongside_the_new_one(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    hooks = repos.webhooks
    old, new = generate_secret(), generate_secret()
    endpoint = hooks.create_endpoint(user_id=a, url="https://example.com/h", secret=old)
    rotated = hooks.rotate_secret(
        user_id=a, endpoint_id=endpoint.id, secret=new, grace_seconds=3600
    )
    assert rotated.secret.get_secret_value() == new
    assert rotated.previous_secret_expires_at is not None
    with backend.transaction() as conn:
        hooks.enqueue(conn, user_id=a, event_type="project.updated", payload={})

    [claimed] = hooks.claim(worker="d1", now=backend.now() + timedelta(seconds=1))

    assert claimed.signing_secrets == [new, old]


def _deliveries(backend: Backend, repos: Repositories, user: uuid.UUID, *events: str) -> None:
    """One delivery per event, each to the user's endpoint subscribed to it, oldest first."""
    for event in events:
        with backend.transaction() as conn:
            repos.webhooks.enqueue(conn, user_id=user, event_type=event, payload={})


def test_claims_keep_each_endpoint_and_tenant_within_its_cap(
    backend: Backend, repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    """Migration 0013: a claim hands out due deliveries oldest first, but never more than
    per_endpoint in flight for one endpoint or per_tenant for one tenant; a delivery's slot
    frees when its attempt is recorded or its lease ends."""
    hooks = repos.webhooks
    e1, e2, e3 = (
        hooks.create_endpoint(
            user_id=a, url=f"https://a.example/{n}", secret=generate_secret(), events=[f"e{n}.x"]
        ).id
        for n in (1, 2, 3)
    )
    f = hooks.create_endpoint(user_id=b, url="https://b.example/h", secret=generate_secret()).id
    _deliveries(backend, repos, a, "e1.x", "e1.x", "e1.x", "e2.x", "e2.x", "e3.x", "e3.x")
    _deliveries(backend, repos, b, "f.x", "f.x")
    now = backend.now() + timedelta(seconds=1)
    caps = {"limit": 10, "per_endpoint": 2, "per_tenant": 3}

    first = hooks.claim(worker="d1", now=now, **caps)
    assert [d.endpoint_id for d in first] == [e1, e1, e2, f, f]  # oldest first, within caps
    assert hooks.claim(worker="d2", now=now, **caps) == []  # A at 3, B's endpoint at 2
    hooks.record_attempt(
        delivery_id=first[0].id, worker="d1", now=now, status_code=200, error=None,
        next_attempt_at=None,
    )  # fmt: skip
    [freed] = hooks.claim(worker="d2", now=now, **caps)  # one of A's slots is free again
    assert freed.endpoint_id == e1 and freed.id not in {d.id for d in first}
    assert hooks.claim(worker="d2", now=now, **caps) == []
    # Past the 60 s leases nothing is in flight: the rest of A's, then the expired ones.
    later = hooks.claim(worker="d3", now=now + timedelta(seconds=61), **caps)
    assert [d.endpoint_id for d in later] == [e2, e3, e3, f, f]
    assert [d.attempts for d in later] == [1, 1, 1, 2, 2]


def test_claims_refuse_caps_that_make_no_sense(repos: Repositories, backend: Backend) -> None:
    now = backend.now()
    for caps in (
        {"limit": 0},
        {"limit": 1001},
        {"per_endpoint": 0},
        {"per_endpoint": 5, "per_tenant": 4},
    ):
        with pytest.raises(StoreInputError, match="per endpoint <= per tenant"):
            repos.webhooks.claim(worker="d1", now=now, **caps)


def test_concurrent_claims_never_put_an_endpoint_over_its_cap(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    """Eight dispatchers claiming at once: together they lease exactly the cap's worth."""
    hooks = repos.webhooks
    hooks.create_endpoint(user_id=a, url="https://a.example/h", secret=generate_secret())
    _deliveries(backend, repos, a, *["a.x"] * 20)
    now = backend.now() + timedelta(seconds=1)
    start = threading.Barrier(8)

    def claim(n: int) -> list[uuid.UUID]:
        start.wait()
        found = hooks.claim(worker=f"d{n}", now=now, limit=5, per_endpoint=3, per_tenant=3)
        return [d.id for d in found]

    with ThreadPoolExecutor(max_workers=8) as pool:
        claimed = [d for batch in pool.map(claim, range(8)) for d in batch]

    assert len(claimed) == len(set(claimed)) == 3


# --- Idempotency keys ---------------------------------------------------------------------------

KEEP: dict[str, int] = {"lock_seconds": 60, "retention_seconds": 86400}


def test_an_idempotency_key_is_claimed_once_and_replays_its_response(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    keys = repos.idempotency
    assert keys.claim(user_id=a, key="k1", request_hash="h1", **KEEP) == KeyClaim(claimed=True)
    running = IdempotencyRecord(
        request_hash="h1", state="running", response_status=None, response_body=None
    )
    assert keys.claim(user_id=a, key="k1", request_hash="h1", **KEEP) == KeyClaim(
        claimed=False, record=running
    )
    assert keys.claim(user_id=a, key="k1", request_hash="h2", **KEEP).record == running

    keys.complete(user_id=a, key="k1", status=201, body={"job": "x"})
    keys.release(user_id=a, key="k1")  # a finished key is not released

    replay = keys.claim(user_id=a, key="k1", request_hash="h1", **KEEP)
    assert replay == KeyClaim(
        claimed=False,
        record=IdempotencyRecord(
            request_hash="h1", state="done", response_status=201, response_body={"job": "x"}
        ),
    )
    assert keys.claim(user_id=b, key="k1", request_hash="h1", **KEEP).claimed  # scoped by user
    assert keys.claim(user_id=a, key="k2", request_hash="h", **KEEP).claimed
    keys.release(user_id=a, key="k2")
    assert keys.claim(user_id=a, key="k2", request_hash="h", **KEEP).claimed
    keys.complete(user_id=a, key="missing", status=200, body={})  # nothing to complete
    assert keys.claim(user_id=a, key="missing", request_hash="h", **KEEP).claimed


def test_a_dead_requests_key_is_taken_over_by_the_same_request_only(
    backend: Backend, repos: Repositories, a: uuid.UUID
) -> None:
    keys = repos.idempotency
    short = {"lock_seconds": 1, "retention_seconds": 86400}
    assert keys.claim(user_id=a, key="k", request_hash="h", **short).claimed
    assert not keys.claim(user_id=a, key="k", request_hash="h", **short).claimed

    def take_over() -> str | None:
        for request_hash in ("other", "h"):
            if keys.claim(user_id=a, key="k", request_hash=request_hash, **short).claimed:
                return request_hash
        return None

    assert backend.after(1, take_over) == "h"


def test_keys_past_the_retention_are_cleaned_up(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    keys = repos.idempotency
    assert keys.claim(user_id=a, key="k", request_hash="h", **KEEP).claimed
    keys.complete(user_id=a, key="k", status=200, body=[1])
    assert keys.claim(user_id=b, key="k", request_hash="h", **KEEP).claimed

    assert keys.cleanup(retention_seconds=3600) == 0
    assert keys.cleanup(retention_seconds=0) == 2
    assert keys.claim(user_id=a, key="k", request_hash="other", **KEEP).claimed


# --- Outputs, creatives and costs ---------------------------------------------------------------


def _output(fmt: str, creative_id: str) -> OutputEntry:
    width, height = (int(n) * 120 for n in fmt.split("x"))
    creative = CreativeAttributes(
        creative_id=creative_id,
        sku="SKU-1",
        product="Cup",
        template="product_showcase",
        duration_s=8.0,
        duration_bucket="<15s",
        palette_colour="sage",
        voice="on",
        caption_style="bold",
        hook="Hi",
        format=fmt,
        script_option=1,
        ad_name=f"SKU-1_{creative_id}",
        landing_url=f"https://example.com/?utm_content={creative_id}",
    )
    return OutputEntry(
        format=fmt,
        path=f"ad_{fmt}.mp4",
        poster=f"ad_{fmt}.jpg",
        width=width,
        height=height,
        duration=8.0,
        size_bytes=1000,
        loudness_lufs=-14.0,
        true_peak_dbtp=-1.5,
        qc=QCReport(format=fmt, checks=()),
        timeline_hash="t",
        creative=creative,
    )


def test_outputs_are_recorded_once_per_format(
    repos: Repositories, a: uuid.UUID, tmp_path: Path
) -> None:
    project = repos.projects.create(user_id=a, name="Cup", brief={}, script_options=[])
    job = repos.jobs.enqueue(user_id=a, kind="render", project_id=project.id)
    outputs = [_output("9x16", "rf-aaaa916"), _output("1x1", "rf-aaaa11")]
    record: dict[str, Any] = {
        "user_id": a,
        "job_id": job.id,
        "project_id": project.id,
        "out_dir": tmp_path,
        "preview": False,
    }

    first = repos.jobs.record_outputs(outputs=outputs, **record)
    again = repos.jobs.record_outputs(outputs=outputs, **record)  # a resumed job

    assert len(first) == 2 and again == ()
    renders = repos.jobs.renders(job_id=job.id)
    assert [(r.format, r.path, r.width) for r in renders] == [
        ("1x1", str(tmp_path / "ad_1x1.mp4"), 120),
        ("9x16", str(tmp_path / "ad_9x16.mp4"), 1080),
    ]
    detail = repos.jobs.detail(user_id=a, job_id=job.id)
    assert detail is not None and detail.renders == renders
    with pytest.raises(StoreInputError, match="one output per format"):
        repos.jobs.record_outputs(outputs=[outputs[0], outputs[0]], **record)
    creatives = repos.analytics.creatives(user_id=a)
    assert sorted((c.creative_id, c.job_id, c.project_id) for c in creatives) == [
        ("rf-aaaa11", job.id, project.id),
        ("rf-aaaa916", job.id, project.id),
    ]
    repos.jobs.unpublish(job_id=job.id)  # a queued job keeps its outputs
    assert repos.jobs.renders(job_id=job.id) == renders
    repos.jobs.cancel(job_id=job.id)
    repos.jobs.unpublish(job_id=job.id)
    assert repos.jobs.renders(job_id=job.id) == []


def test_an_asset_costs_what_its_job_settled(
    repos: Repositories, a: uuid.UUID, tmp_path: Path
) -> None:
    _fund(repos, a, 20)
    job = repos.jobs.enqueue(user_id=a, kind="render")
    outputs = [_output("9x16", "rf-bbbb916"), _output("1x1", "rf-bbbb11")]
    repos.jobs.record_outputs(
        user_id=a, job_id=job.id, project_id=None, outputs=outputs, out_dir=tmp_path, preview=False
    )
    held = repos.credits.hold(user_id=a, amount=10, job_id=job.id)
    repos.credits.settle(hold_id=held.id, actual=4)

    costs = repos.analytics.asset_costs(user_id=a)

    assert [(c.creative_id, c.job_credits, c.duration_s, c.job_durations) for c in costs] == [
        ("rf-bbbb11", 4, 8.0, (8.0, 8.0)),
        ("rf-bbbb916", 4, 8.0, (8.0, 8.0)),
    ]


# --- Provider events ----------------------------------------------------------------------------


def test_a_provider_event_is_recorded_and_handled_once(repos: Repositories, a: uuid.UUID) -> None:
    providers = repos.providers
    job = repos.jobs.enqueue(user_id=a, kind="render")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    task: dict[str, Any] = {"provider": "fal", "subject": "task-1", "job_id": job.id}

    assert providers.record(event_id="e1", payload={"s": "running"}, occurred_at=t0, **task)
    assert not providers.record(event_id="e1", payload={"s": "other"}, occurred_at=t0, **task)
    later = t0 + timedelta(minutes=1)
    assert providers.record(event_id="e2", payload={"s": "done"}, occurred_at=later, **task)

    assert providers.mark_processed(provider="fal", event_id="e1") is True
    assert providers.mark_processed(provider="fal", event_id="e1") is False
    assert providers.mark_processed(provider="fal", event_id="nope") is False
    callbacks = providers.task_callbacks(provider="fal", subject="task-1", job_id=job.id)
    assert callbacks == [{"s": "running"}, {"s": "done"}]
    assert providers.task_callbacks(provider="fal", subject="task-1", job_id=uuid.uuid4()) == []


# --- Generation claims --------------------------------------------------------------------------


def _cache_key(n: int) -> str:
    return hashlib.sha256(f"asset {n}".encode()).hexdigest()


def test_of_two_claimants_one_holds_the_key_until_it_is_settled(repos: Repositories) -> None:
    claims, key = repos.claims, _cache_key(1)
    assert claims.acquire(key, owner="a", lease_seconds=60)
    assert not claims.acquire(key, owner="b", lease_seconds=60)
    assert claims.acquire(key, owner="a", lease_seconds=60)  # a retried call is still a's
    assert not claims.renew(key, owner="b", lease_seconds=60)
    assert not claims.finish(key, owner="b")
    assert not claims.fail(key, owner="b", error="not b's to release")
    assert claims.renew(key, owner="a", lease_seconds=60)
    assert claims.acquire(_cache_key(2), owner="b", lease_seconds=60), "other keys stay free"
    assert not claims.acquire(key, owner="b", lease_seconds=60)

    assert claims.finish(key, owner="a")
    assert not claims.finish(key, owner="a") and not claims.renew(key, owner="a", lease_seconds=60)
    # Done: the asset is in the shared cache, where a later claimant looks first. One that
    # claims anyway (its cache lost the asset) takes it, and holds it alone.
    assert claims.acquire(key, owner="b", lease_seconds=60)
    assert not claims.acquire(key, owner="a", lease_seconds=60)


def test_a_claim_whose_lease_ran_out_is_taken_over_and_its_holder_told(
    backend: Backend, repos: Repositories
) -> None:
    claims, key = repos.claims, _cache_key(3)
    assert claims.acquire(key, owner="dying", lease_seconds=1)
    assert not claims.acquire(key, owner="b", lease_seconds=60)

    assert backend.after(1, lambda: claims.acquire(key, owner="b", lease_seconds=60))
    assert not claims.renew(key, owner="dying", lease_seconds=60)
    assert not claims.finish(key, owner="dying")
    assert not claims.fail(key, owner="dying", error="too late")
    assert not claims.acquire(key, owner="dying", lease_seconds=60)
    assert claims.finish(key, owner="b")


def test_a_failed_generation_releases_its_claim_at_once(repos: Repositories) -> None:
    claims, key = repos.claims, _cache_key(4)
    assert claims.acquire(key, owner="a", lease_seconds=3600)
    assert claims.fail(key, owner="a", error="kling: task failed: " + "x" * 5000)  # cut to fit
    assert not claims.fail(key, owner="a", error="again")

    assert claims.acquire(key, owner="b", lease_seconds=3600)
    assert not claims.finish(key, owner="a")
    assert not claims.acquire(key, owner="a", lease_seconds=3600)


def test_of_eight_claimants_at_once_exactly_one_holds_the_key(repos: Repositories) -> None:
    claims = repos.claims
    for round_, key in enumerate((_cache_key(5), _cache_key(5), _cache_key(6))):
        start = threading.Barrier(8)

        def claim(
            n: int, key: str = key, round_: int = round_, start: threading.Barrier = start
        ) -> bool:
            start.wait(10)
            return claims.acquire(key, owner=f"r{round_}-{n}", lease_seconds=60)

        with ThreadPoolExecutor(max_workers=8) as pool:
            won = list(pool.map(claim, range(8)))
        assert won.count(True) == 1, (round_, won)
        winner = f"r{round_}-{won.index(True)}"
        assert claims.fail(key, owner=winner, error="released for the next round")


@pytest.mark.parametrize(
    ("key", "owner", "lease", "constraint"),
    [
        ("not-a-cache-key", "a", 60, "generation_claims_key_check"),
        ("A" * 64, "a", 60, "generation_claims_key_check"),
        (None, "", 60, "generation_claims_owner_check"),
        (None, "o" * 201, 60, "generation_claims_owner_check"),
        (None, "a", 0, "generation_claims_lease_check"),
        (None, "a", 3601, "generation_claims_lease_check"),
    ],
)
def test_claims_refuse_what_the_table_would(
    repos: Repositories, key: str | None, owner: str, lease: int, constraint: str
) -> None:
    with pytest.raises(StoreInputError, match=constraint):
        repos.claims.acquire(key or _cache_key(7), owner=owner, lease_seconds=lease)
    assert repos.claims.acquire(_cache_key(7), owner="a", lease_seconds=60)
    with pytest.raises(StoreInputError, match="generation_claims_lease_check"):
        repos.claims.renew(_cache_key(7), owner="a", lease_seconds=0)


# --- Performance imports ------------------------------------------------------------------------


def _performance(creative_id: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": "meta_csv",
        "creative_id": creative_id,
        "ad_name": f"Ad {creative_id}",
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 1, 7),
        "placement": "",
        "ad_key": "",
        "currency": "USD",
        "impressions": 100,
        "clicks": 3,
        "spend": Decimal("1.50"),
        "purchases": 0,
        "revenue": Decimal(0),
        "video_3s_plays": None,
        "thruplays": None,
    }
    return {**row, **changes}


def _import_then(repos: Repositories, user: uuid.UUID, failure: Exception | None) -> None:
    """An import that writes a new row and then fails, or (no ``failure``) ends without
    recording itself."""
    later = _performance("rf-cccc916", period_start=date(2026, 2, 1), period_end=date(2026, 2, 7))
    with repos.analytics.importing(user_id=user) as session:
        assert session.upsert(later, import_id=uuid.uuid4()) == "inserted"
        if failure is not None:
            raise failure


def test_a_performance_import_writes_all_its_rows_or_none(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    creative = _output("9x16", "rf-cccc916").creative
    assert creative is not None
    repos.analytics.record_creatives(user_id=a, job_id=None, project_id=None, creatives=[creative])
    import_id = uuid.uuid4()
    summary = {
        "source": "meta_csv",
        "file_name": "r.csv",
        "file_hash": "a" * 64,
        "rows_read": 1,
        "imported": 1,
        "updated": 0,
        "unchanged": 0,
        "unmatched": 0,
        "unmatched_rows": [],
    }
    row = _performance("rf-cccc916")

    with repos.analytics.importing(user_id=a) as session:
        assert session.known_creatives(["rf-cccc916", "rf-dddd916"]) == {"rf-cccc916"}
        assert session.upsert(row, import_id=import_id) == "inserted"
        assert session.upsert(row, import_id=import_id) == "unchanged"
        assert session.upsert({**row, "clicks": 5}, import_id=import_id) == "updated"
        periods = session.stored_periods(
            ids=["rf-cccc916"], sources=["meta_csv"], since=date(2026, 1, 5), until=date(2026, 2, 1)
        )
        assert [(p["creative_id"], p["period_end"]) for p in periods] == [
            ("rf-cccc916", date(2026, 1, 7))
        ]
        session.record(import_id=import_id, summary=summary)

    with pytest.raises(RuntimeError, match="halfway"):
        _import_then(repos, a, RuntimeError("the import fails halfway"))
    # Rows naming an import that is never recorded: the deferred foreign key refuses the commit.
    with pytest.raises(StoreInputError, match="ad_performance"):
        _import_then(repos, a, None)

    [stored] = repos.analytics.performance(user_id=a)
    assert (stored["clicks"], stored["spend"], stored["period_start"]) == (
        5,
        Decimal("1.50"),
        date(2026, 1, 1),
    )
    assert repos.analytics.performance(user_id=b) == []
    creatives, rows = repos.analytics.dataset(user_id=a)
    assert [c.creative_id for c in creatives] == ["rf-cccc916"] and rows == [stored]


def test_ensure_local_makes_a_user_once(repos: Repositories) -> None:
    user = uuid.uuid4()
    repos.users.ensure_local(user_id=user, email="dev@example.com")
    repos.users.ensure_local(user_id=user, email="dev@example.com")

    assert repos.jobs.enqueue(user_id=user, kind="render").user_id == user


def test_a_tokens_user_is_admitted_once_with_the_starting_grant(
    repos: Repositories, a: uuid.UUID
) -> None:
    repos.credits.set_starting_grant(7)
    new = uuid.uuid4()

    with ThreadPoolExecutor(max_workers=4) as pool:  # four first requests at once
        assert all(pool.map(lambda _: repos.users.admit(user_id=new, email="N@x.io"), range(4)))

    assert repos.users.admit(user_id=a, email=None)  # known already: nothing added
    assert repos.credits.balance(user_id=new) == 7 == _ledger_sum(repos, new)
    assert repos.credits.balance(user_id=a) == 0
    assert repos.jobs.enqueue(user_id=new, kind="render").user_id == new


def test_on_supabase_an_unknown_tokens_user_is_refused_not_added(backend: Backend) -> None:
    # Supabase Auth alone writes auth.users there: admit_user sees its supabase_admin role.
    # PostgreSQL: the role is created in a transaction rolled back, so no other test sees it.
    gone = uuid.uuid4()
    assert backend.repos.users.admit(user_id=backend.user_a, email=None)
    if backend.admin is None:
        memory = MemoryRepositories(supabase=True)
        known = memory.add_user()
        assert memory.users.admit(user_id=known, email=None)
        assert not memory.users.admit(user_id=gone, email=None)
        assert not memory.users.admit(user_id=gone, email=None)
        return
    with backend.admin.transaction(force_rollback=True):
        backend.admin.execute("create role supabase_admin")
        admit = "select public.admit_user(%s, null)"
        assert backend.admin.execute(admit, (backend.user_a,)).fetchone() == (True,)
        assert backend.admin.execute(admit, (gone,)).fetchone() == (False,)
        count = "select count(*) from auth.users where id = %s"
        assert backend.admin.execute(count, (gone,)).fetchone() == (0,)


# --- Projects: pages, references, deletion ------------------------------------------------------


def test_projects_page_newest_first_and_references_are_found_anywhere_in_a_brief(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    ref = f"upload:{uuid.uuid4()}"
    made = [
        repos.projects.create(user_id=a, name=f"P{i}", brief=brief, script_options=[])
        for i, brief in enumerate(
            [{"product": {"photos": [ref]}}, {"brand": {"logo": ref}}, {"product": {"photos": []}}]
        )
    ]
    repos.projects.create(user_id=b, name="B", brief={"music": ref}, script_options=[])

    first = repos.projects.page(user_id=a, before=None, limit=2)
    rest = repos.projects.page(user_id=a, before=(first[-1].created_at, first[-1].id), limit=2)

    assert [p.name for p in first + rest] == ["P2", "P1", "P0"]
    assert repos.projects.using(user_id=a, ref=ref) == [made[0].id, made[1].id]
    assert repos.projects.using(user_id=a, ref=ref, except_id=made[0].id) == [made[1].id]
    assert repos.projects.using(user_id=a, ref=ref + "0") == []


def test_deleting_a_project_keeps_its_jobs_and_credit_history_and_names_its_outputs(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID, tmp_path: Path
) -> None:
    _fund(repos, a, 20)
    project = repos.projects.create(user_id=a, name="Cup", brief={"k": "v"}, script_options=[])
    job = repos.jobs.enqueue(user_id=a, kind="render", project_id=project.id, payload={"x": 1})
    repos.jobs.record_outputs(
        user_id=a, job_id=job.id, project_id=project.id, outputs=[_output("9x16", "rf-dddd916")],
        out_dir=tmp_path, preview=False,
    )  # fmt: skip
    held = repos.credits.hold(user_id=a, amount=5, job_id=job.id)
    with pytest.raises(Conflict, match="still running"):
        repos.projects.delete(user_id=a, project_id=project.id)
    assert repos.projects.delete(user_id=b, project_id=project.id) is None  # not B's
    repos.jobs.cancel(job_id=job.id)

    deleted = repos.projects.delete(user_id=a, project_id=project.id)

    assert deleted is not None
    assert (deleted.brief, deleted.job_ids) == ({"k": "v"}, [job.id])
    assert deleted.render_paths == [str(tmp_path / "ad_9x16.mp4")]
    assert repos.projects.get(user_id=a, project_id=project.id) is None
    kept = repos.jobs.get(job_id=job.id, user_id=a)
    assert kept is not None and (kept.project_id, kept.payload) == (None, {})
    assert repos.jobs.renders(job_id=job.id) == []
    assert repos.credits.release(hold_id=held.id).status == HoldStatus.RELEASED
    assert _ledger_sum(repos, a) == repos.credits.balance(user_id=a) == 20
    assert [c.project_id for c in repos.analytics.creatives(user_id=a)] == [None]
    assert repos.projects.delete(user_id=a, project_id=project.id) is None


# --- Uploads ------------------------------------------------------------------------------------


def _upload(repos: Repositories, user: uuid.UUID, kind: str = "photo", sha: str = "a") -> Any:
    return repos.uploads.record(
        user_id=user, kind=kind, key=f"{user}/uploads/{sha * 64}.png", sha256=sha * 64, size=10,
        content_type="image/png", original_name="cup.png",
    )  # fmt: skip


def test_the_same_bytes_of_one_kind_are_one_upload_seen_only_by_its_user(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    photo = _upload(repos, a)
    again = _upload(repos, a)
    logo = _upload(repos, a, kind="logo")
    other = _upload(repos, a, sha="c")
    theirs = _upload(repos, b)

    assert again == photo and logo.id != photo.id and theirs.id != photo.id
    assert (photo.state, photo.size, photo.original_name) == ("ready", 10, "cup.png")
    assert repos.uploads.get(user_id=a, upload_id=photo.id) == photo
    assert repos.uploads.get(user_id=b, upload_id=photo.id) is None
    first = repos.uploads.page(user_id=a, before=None, limit=2)
    rest = repos.uploads.page(user_id=a, before=(first[-1].created_at, first[-1].id), limit=5)
    assert [u.id for u in first + rest] == [other.id, logo.id, photo.id]
    with pytest.raises(StoreInputError, match="uploads"):  # a key in another user's folder
        repos.uploads.record(
            user_id=a, kind="photo", key=f"{b}/uploads/x.png", sha256="e" * 64, size=1,
            content_type="image/png", original_name=None,
        )  # fmt: skip
    with pytest.raises(StoreInputError, match="uploads"):
        _upload(repos, a, kind="video")


def test_deleting_an_upload_says_whether_another_still_names_its_blob(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    photo = _upload(repos, a)
    logo = _upload(repos, a, kind="logo")  # the same bytes: the same blob key

    assert repos.uploads.delete(user_id=b, upload_id=photo.id) is None
    first = repos.uploads.delete(user_id=a, upload_id=photo.id)
    last = repos.uploads.delete(user_id=a, upload_id=logo.id)

    assert first is not None and (first.upload, first.key_in_use) == (photo, True)
    assert last is not None and (last.upload, last.key_in_use) == (logo, False)
    assert repos.uploads.delete(user_id=a, upload_id=photo.id) is None
    assert repos.uploads.page(user_id=a, before=None, limit=10) == []


def test_a_pending_upload_completes_once_or_becomes_the_earlier_upload_of_its_bytes(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    staging = f"{a}/staging/one"
    pending = repos.uploads.create_pending(
        user_id=a, kind="photo", key=staging, original_name="cup.png"
    )
    done: dict[str, Any] = {
        "key": f"{a}/uploads/{'f' * 64}.png", "sha256": "f" * 64, "size": 7,
        "content_type": "image/png",
    }  # fmt: skip
    assert (pending.state, pending.sha256) == ("pending", None)
    assert repos.uploads.page(user_id=a, before=None, limit=10) == []  # not listed yet
    assert repos.uploads.complete(user_id=b, upload_id=pending.id, **done) is None

    ready = repos.uploads.complete(user_id=a, upload_id=pending.id, **done)
    again = repos.uploads.complete(user_id=a, upload_id=pending.id, **done)
    twin = repos.uploads.create_pending(user_id=a, kind="photo", key=staging, original_name=None)
    same = repos.uploads.complete(user_id=a, upload_id=twin.id, **done)

    assert ready is not None and (ready.id, ready.state, ready.key) == (
        pending.id,
        "ready",
        done["key"],
    )
    assert again is None  # completed already
    assert same == ready
    assert repos.uploads.get(user_id=a, upload_id=twin.id) is None
    with pytest.raises(StoreInputError, match="uploads"):
        repos.uploads.create_pending(
            user_id=a, kind="photo", key=f"{b}/staging/x", original_name=None
        )


# --- API keys -----------------------------------------------------------------------------------


def test_an_api_key_works_until_revoked_and_only_its_owner_lists_or_revokes_it(
    repos: Repositories, a: uuid.UUID, b: uuid.UUID
) -> None:
    keys = repos.api_keys
    digest = "9" * 64
    made = keys.create(user_id=a, name="ci", prefix="rf_live_AbC_", secret_hash=digest)
    assert made.last_used_at is None and made.revoked_at is None

    owner = keys.authenticate(secret_hash=digest)

    assert owner is not None and (owner.id, owner.user_id, owner.secret_hash) == (
        made.id,
        a,
        digest,
    )
    [listed] = keys.list(user_id=a)
    assert listed.id == made.id and listed.last_used_at is not None
    assert keys.list(user_id=b) == []
    assert keys.authenticate(secret_hash="8" * 64) is None
    assert keys.revoke(user_id=b, key_id=made.id) is False
    assert keys.revoke(user_id=a, key_id=made.id) is True
    assert keys.authenticate(secret_hash=digest) is None
    assert keys.revoke(user_id=a, key_id=made.id) is False
    assert keys.list(user_id=a) == []
    with pytest.raises(StoreInputError, match="api_keys"):
        keys.create(user_id=a, name="ci", prefix="sk_live_AbCd", secret_hash="7" * 64)


def test_a_delivered_jobs_webhook_names_its_outputs_by_blob_key(
    repos: Repositories, a: uuid.UUID
) -> None:
    repos.webhooks.create_endpoint(user_id=a, url="https://example.com/h", secret=generate_secret())
    job = repos.jobs.enqueue(user_id=a, kind="render")
    assert repos.jobs.claim(worker="w1") is not None
    outputs = [_output("9x16", "rf-ffff916"), _output("1x1", "rf-ffff11")]
    repos.jobs.record_outputs(
        user_id=a, job_id=job.id, project_id=None, outputs=outputs, out_dir=Path(f"{a}/{job.id}"),
        preview=False,
    )  # fmt: skip
    repos.jobs.complete(job_id=job.id, worker="w1")

    [delivery] = repos.webhooks.deliveries(user_id=a)

    assert delivery.payload["job_url"] == f"/v1/jobs/{job.id}"
    assert delivery.payload["outputs"] == [
        {"format": "1x1", "width": 120, "height": 120, "duration_s": 8.0,
         "key": f"{a}/{job.id}/ad_1x1.mp4"},
        {"format": "9x16", "width": 1080, "height": 1920, "duration_s": 8.0,
         "key": f"{a}/{job.id}/ad_9x16.mp4"},
    ]  # fmt: skip
