"""Credits under concurrency: no overspend, one effect per hold and per idempotency key, and
sum(ledger) = balance after everything."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from pipeline.errors import BadInput
from pipeline.store import (
    AccessDenied,
    CostAboveHold,
    CreditHold,
    HoldResolved,
    HoldStatus,
    InsufficientCredits,
    NotFound,
    Store,
    StoreInputError,
    UnknownUser,
)
from pipeline.store.credits import Credits

pytestmark = pytest.mark.integration


def _ledger_sum(admin: psycopg.Connection[Any], user: uuid.UUID) -> int:
    row = admin.execute(
        "select coalesce(sum(delta), 0) from public.credit_ledger where user_id = %s", (user,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def _fund(store: Store, user: uuid.UUID, amount: int) -> None:
    Credits(store).adjust(user_id=user, amount=amount, reason="grant", idempotency_key="fund")


def test_two_hundred_concurrent_holds_against_a_hundred_credits(
    store: Store, user_a: uuid.UUID, admin: psycopg.Connection[Any]
) -> None:
    _fund(store, user_a, 100)

    def hold(i: int) -> str:
        try:
            Credits(store).hold(user_id=user_a, amount=1, idempotency_key=f"h{i}")
        except InsufficientCredits:
            return "refused"
        return "held"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(hold, range(200)))

    assert outcomes.count("held") == 100
    assert outcomes.count("refused") == 100
    assert Credits(store).balance(user_id=user_a) == 0
    assert _ledger_sum(admin, user_a) == 0


@pytest.mark.parametrize(("first", "second"), [(3, 3), (3, 5)])
def test_two_concurrent_settles_of_one_hold_have_one_effect(
    store: Store, user_a: uuid.UUID, admin: psycopg.Connection[Any], first: int, second: int
) -> None:
    _fund(store, user_a, 50)
    held = Credits(store).hold(user_id=user_a, amount=10)
    barrier = threading.Barrier(2)

    def settle(actual: int) -> CreditHold | str:
        barrier.wait(timeout=10)
        try:
            return Credits(store).settle(hold_id=held.id, actual=actual)
        except HoldResolved:
            return "resolved"

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(settle, [first, second]))

    settled = [r for r in results if isinstance(r, CreditHold)]
    assert len({r.settled_amount for r in settled}) == 1
    charged = settled[0].settled_amount
    assert charged is not None
    entries = admin.execute(
        "select count(*) from public.credit_ledger where hold_id = %s", (held.id,)
    ).fetchone()
    assert entries == (2,)  # the hold and its one remainder
    assert Credits(store).balance(user_id=user_a) == 50 - charged
    assert _ledger_sum(admin, user_a) == 50 - charged


def test_a_replayed_idempotency_key_has_no_second_effect(
    store: Store, user_a: uuid.UUID, admin: psycopg.Connection[Any]
) -> None:
    first = Credits(store).adjust(
        user_id=user_a, amount=25, reason="purchase", idempotency_key="pay_1"
    )
    again = Credits(store).adjust(
        user_id=user_a, amount=25, reason="purchase", idempotency_key="pay_1"
    )
    hold = Credits(store).hold(user_id=user_a, amount=5, idempotency_key="job_1")
    hold_again = Credits(store).hold(user_id=user_a, amount=5, idempotency_key="job_1")

    assert again == first
    assert hold_again == hold
    assert Credits(store).balance(user_id=user_a) == 20
    assert _ledger_sum(admin, user_a) == 20


def test_concurrent_replays_of_one_key_credit_once(
    store: Store, user_a: uuid.UUID, admin: psycopg.Connection[Any]
) -> None:
    def grant(_: int) -> int:
        return (
            Credits(store)
            .adjust(user_id=user_a, amount=7, reason="refund", idempotency_key="refund_1")
            .id
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(grant, range(16)))

    assert len(ids) == 1
    assert Credits(store).balance(user_id=user_a) == 7 == _ledger_sum(admin, user_a)


def test_settle_returns_the_rest_and_release_returns_all(
    store: Store, user_a: uuid.UUID, admin: psycopg.Connection[Any]
) -> None:
    _fund(store, user_a, 30)
    charged = Credits(store).hold(user_id=user_a, amount=10)
    refunded = Credits(store).hold(user_id=user_a, amount=10)

    settled = Credits(store).settle(hold_id=charged.id, actual=4)
    released = Credits(store).release(hold_id=refunded.id)

    assert (settled.status, settled.settled_amount) == (HoldStatus.SETTLED, 4)
    assert released.status == HoldStatus.RELEASED
    assert Credits(store).release(hold_id=refunded.id) == released
    assert Credits(store).balance(user_id=user_a) == 26 == _ledger_sum(admin, user_a)
    with pytest.raises(HoldResolved, match="already settled"):
        Credits(store).release(hold_id=charged.id)
    with pytest.raises(HoldResolved, match="already released"):
        Credits(store).settle(hold_id=refunded.id, actual=1)


def test_actual_cost_above_the_hold_is_an_error_and_changes_nothing(
    store: Store, user_a: uuid.UUID
) -> None:
    _fund(store, user_a, 10)
    hold = Credits(store).hold(user_id=user_a, amount=5)

    with pytest.raises(CostAboveHold, match="actual cost 6 exceeds hold"):
        Credits(store).settle(hold_id=hold.id, actual=6)

    assert Credits(store).balance(user_id=user_a) == 5


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "between 1 and 1000000000"),
        (-3, "between 1 and 1000000000"),
        (10**10, "between 1 and 1000000000"),
        (2**70, "out of range"),
        ("5", "must be an integer"),
        (True, "must be an integer"),
        (2.5, "must be an integer"),
    ],
)
def test_bad_amounts_are_bad_input(
    store: Store, user_a: uuid.UUID, amount: Any, message: str
) -> None:
    _fund(store, user_a, 10)

    with pytest.raises(BadInput, match=message):
        Credits(store).hold(user_id=user_a, amount=amount)

    assert Credits(store).balance(user_id=user_a) == 10


def test_wrong_types_reaching_sql_are_bad_input(store: Store, user_a: uuid.UUID) -> None:
    with pytest.raises(StoreInputError, match="invalid input syntax for type bigint"):  # noqa: SIM117
        with store.as_service() as conn:
            conn.execute("select public.hold_credits(%s, %s)", (user_a, "lots"))
    with pytest.raises(StoreInputError, match="invalid input syntax for type uuid"):  # noqa: SIM117
        with store.as_service() as conn:
            conn.execute("select public.release_hold(%s)", ("not-a-uuid",))


def test_unknown_users_and_holds_are_named(store: Store) -> None:
    stranger = uuid.uuid4()
    with pytest.raises(UnknownUser, match=f"unknown user {stranger}"):
        Credits(store).adjust(user_id=stranger, amount=1, reason="x", idempotency_key="k")
    with pytest.raises(NotFound, match="unknown hold"):
        Credits(store).settle(hold_id=uuid.uuid4(), actual=0)


def test_insufficient_credits_names_balance_and_need(store: Store, user_a: uuid.UUID) -> None:
    _fund(store, user_a, 3)

    with pytest.raises(InsufficientCredits, match="balance 3, needed 4") as failure:
        Credits(store).hold(user_id=user_a, amount=4)

    assert failure.value.where == "hold_credits"


def test_tenants_cannot_call_credit_functions(store: Store, user_a: uuid.UUID) -> None:
    with pytest.raises(AccessDenied, match="permission denied for function"):  # noqa: SIM117
        with store.as_user(user_a) as conn:
            conn.execute("select public.safe_adjust_credits(%s, 1000, 'free', 'k')", (user_a,))
