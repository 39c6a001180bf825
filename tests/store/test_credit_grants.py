"""Migration 0012 on PostgreSQL itself: the starting grant as the trigger on auth.users gives it
(to users Supabase Auth inserts, anonymous ones only once they convert), who may call the new
functions and read the new tables, and a purchase recorded in the transaction that credits it.
The behaviour both repositories share is in test_repository_contract.py."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from pipeline.store import AccessDenied, Repositories, Store, StoreInputError
from pipeline.store.credits import Credits
from pipeline.store.models import CheckoutPayment

pytestmark = pytest.mark.integration

Admin = psycopg.Connection[Any]


def _ledger(admin: Admin, user: uuid.UUID) -> list[tuple[Any, ...]]:
    return admin.execute(
        "select delta, reason, idempotency_key from public.credit_ledger where user_id = %s"
        " order by id",
        (user,),
    ).fetchall()


def _sign_up(admin: Admin, user: uuid.UUID, **columns: Any) -> None:
    """A row in auth.users, as Supabase Auth inserts it on sign-up."""
    names = ["id", "email", *columns]
    values = [user, f"{user.hex[:8]}@example.com", *columns.values()]
    placeholders = ", ".join(["%s"] * len(values))
    admin.execute(
        f"insert into auth.users ({', '.join(names)}) values ({placeholders})"
        " on conflict (id) do nothing",
        values,
    )


def test_a_user_signing_up_gets_the_starting_grant_once(store: Store, admin: Admin) -> None:
    Credits(store).set_starting_grant(25)
    user = uuid.uuid4()

    _sign_up(admin, user)
    _sign_up(admin, user)  # the same user inserted again: no row, no trigger
    with store.as_service() as conn:  # an operator re-running the grant by hand
        conn.execute("select public.grant_starting_credits(%s)", (user,))
        conn.execute("select public.grant_starting_credits(%s)", (user,))

    assert _ledger(admin, user) == [(25, "starting grant", "starting-grant")]
    assert Credits(store).balance(user_id=user) == 25


def test_the_grant_needs_no_privilege_of_the_role_creating_users(
    store: Store, admin: Admin
) -> None:
    # On Supabase, supabase_auth_admin inserts into auth.users and may not touch reelforge's
    # tables or functions: the trigger's function runs as its owner (security definer).
    role = f"auth_admin_{uuid.uuid4().hex[:8]}"
    admin.execute(f"create role {role} nologin")
    try:
        admin.execute(f"grant usage on schema auth to {role}")
        admin.execute(f"grant insert on auth.users to {role}")
        Credits(store).set_starting_grant(40)
        user = uuid.uuid4()
        with admin.transaction():
            admin.execute(f"set local role {role}")
            admin.execute("insert into auth.users (id) values (%s)", (user,))
        assert _ledger(admin, user) == [(40, "starting grant", "starting-grant")]
    finally:
        admin.execute(f"drop owned by {role}")
        admin.execute(f"drop role {role}")


def test_with_the_grant_off_a_new_user_gets_no_account(store: Store, admin: Admin) -> None:
    user = uuid.uuid4()

    _sign_up(admin, user)

    assert _ledger(admin, user) == []
    assert admin.execute(
        "select count(*) from public.credit_accounts where user_id = %s", (user,)
    ).fetchone() == (0,)


def test_anonymous_users_get_the_grant_only_when_they_convert(store: Store, admin: Admin) -> None:
    # Supabase's auth.users has is_anonymous; supabase_compat.sql's has not (this clone gets it).
    admin.execute("alter table auth.users add column is_anonymous boolean not null default false")
    Credits(store).set_starting_grant(10)
    anonymous, regular = uuid.uuid4(), uuid.uuid4()

    _sign_up(admin, anonymous, is_anonymous=True)
    _sign_up(admin, regular, is_anonymous=False)
    admin.execute(
        "update auth.users set email = 'still-anon@example.com' where id = %s", (anonymous,)
    )
    assert _ledger(admin, anonymous) == []
    admin.execute("update auth.users set is_anonymous = false where id = %s", (anonymous,))
    admin.execute("update auth.users set is_anonymous = true where id = %s", (anonymous,))
    admin.execute("update auth.users set is_anonymous = false where id = %s", (anonymous,))

    assert _ledger(admin, anonymous) == [(10, "starting grant", "starting-grant")]
    assert _ledger(admin, regular) == [(10, "starting grant", "starting-grant")]


@pytest.mark.parametrize(
    "statement",
    [
        "select public.grant_credits(%(user)s, 5, 'free', 'k')",
        "select public.grant_starting_credits(%(user)s)",
        "select public.record_billing_event('stripe', 'evt', 'checkout.session.completed', false,"
        " 'cs', null, %(user)s, 5, null, null, null, null)",
        "update public.app_config set starting_grant = 1000",
        "select * from public.app_config",
        "select * from public.billing_events",
    ],
)
def test_tenants_can_neither_grant_nor_configure_nor_read_payments(
    store: Store, user_a: uuid.UUID, statement: str
) -> None:
    with pytest.raises(AccessDenied, match="permission denied"):  # noqa: SIM117
        with store.as_user(user_a) as conn:
            conn.execute(statement, {"user": user_a})


def test_the_service_writes_payment_events_only_through_the_function(
    store: Store, user_a: uuid.UUID
) -> None:
    with pytest.raises(AccessDenied, match="permission denied for table billing_events"):  # noqa: SIM117
        with store.as_service() as conn:
            conn.execute(
                "insert into public.billing_events (provider, event_id, event_type, outcome)"
                " values ('stripe', 'evt_forged', 'checkout.session.completed', 'credited')"
            )


def test_a_purchase_that_cannot_be_credited_is_not_recorded_either(
    store: Store, user_a: uuid.UUID, admin: Admin
) -> None:
    # The credit fails (the balance would overflow a bigint): the event must not be left
    # recorded as handled, or Stripe's retry would be taken for a duplicate and never credit.
    admin.execute("insert into public.credit_accounts (user_id, balance) values (%s, %s)",
                  (user_a, 2**63 - 10))  # fmt: skip
    payment = CheckoutPayment(
        event_id="evt_overflow", event_type="checkout.session.completed",
        checkout_session="cs_overflow", client_reference_id=str(user_a), user_id=user_a,
        credits=500,
    )  # fmt: skip

    with pytest.raises(StoreInputError, match="bigint out of range"):
        Repositories.postgres(store).billing.record(payment)

    assert admin.execute("select count(*) from public.billing_events").fetchone() == (0,)
    assert _ledger(admin, user_a) == []


def test_the_dev_user_gets_the_dev_grant_once_beside_the_starting_grant(
    store: Store, admin: Admin
) -> None:
    # `reelforge token` and `serve` on the embedded database: the user is created like any
    # other (so the starting grant applies), then gets the development grant, once.
    from pipeline.serve import DEV_GRANT, ensure_dev_user

    Credits(store).set_starting_grant(25)
    user = ensure_dev_user(store, "Dev@Example.com")
    assert ensure_dev_user(store, "dev@example.com") == user

    assert _ledger(admin, user) == [
        (25, "starting grant", "starting-grant"),
        (DEV_GRANT, "grant", f"dev-grant:{user}"),
    ]
    assert Credits(store).balance(user_id=user) == 25 + DEV_GRANT
