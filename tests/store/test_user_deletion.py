"""Deleting a user as Supabase Auth does (``delete from auth.users`` as supabase_auth_admin):
nothing personal of theirs remains anywhere, the money history stays anonymised and still
sums, and other users are untouched."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pipeline.store import Repositories, Store
from pipeline.webhooks import generate_secret

from .tenants import seed_tenant

pytestmark = pytest.mark.integration

Admin = psycopg.Connection[Any]


def _tables(admin: Admin) -> list[sql.Composed]:
    """Every table of the database (Supabase's history and reelforge's own included)."""
    rows = admin.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema')"
        " and n.nspname not like 'pg_toast%'"
    ).fetchall()
    return [sql.SQL("{}").format(sql.Identifier(schema, name)) for schema, name in rows]


def _mentions(admin: Admin, needles: list[str]) -> list[str]:
    """'table: needle' for every row of any table whose text contains one of ``needles``."""
    found = []
    for table in _tables(admin):
        for needle in needles:
            count = admin.execute(
                sql.SQL("select count(*) from {} t where to_jsonb(t)::text ilike %s").format(table),
                (f"%{needle}%",),
            ).fetchone()
            if count and count[0]:
                found.append(f"{table.as_string(admin)}: {needle}")
    return found


def _rows_of(admin: Admin, user: uuid.UUID) -> list[str]:
    """Every row, in any table, that mentions ``user``, as sorted JSON text."""
    rows: list[str] = []
    for table in _tables(admin):
        rows += [
            f"{table.as_string(admin)} {row[0]}"
            for row in admin.execute(
                sql.SQL(
                    "select to_jsonb(t)::text from {} t where to_jsonb(t)::text like %s"
                ).format(table),
                (f"%{user}%",),
            )
        ]
    return sorted(rows)


def _personal_data(store: Store, repos: Repositories, user: uuid.UUID) -> list[str]:
    """Beyond seed_tenant's rows: a marker in a brief, a job payload, an endpoint URL, an
    idempotency key, a ledger key, a provider callback and the email; a settled hold. Returns
    what must not survive the user: the marker and the user's, projects' and jobs' ids."""
    MARKER = f"zz-{user.hex[:12]}"
    project = repos.projects.create(
        user_id=user, name=f"Cup {MARKER}", brief={"product": {"name": MARKER}}, script_options=[]
    )
    job = repos.jobs.enqueue(
        user_id=user, kind="render", payload={"brief": MARKER}, project_id=project.id
    )
    repos.credits.adjust(user_id=user, amount=50, reason="purchase", idempotency_key=MARKER)
    hold = repos.credits.hold(user_id=user, amount=7, job_id=job.id, idempotency_key=f"h-{MARKER}")
    repos.credits.settle(hold_id=hold.id, actual=4)
    repos.webhooks.create_endpoint(
        user_id=user, url=f"https://{MARKER}.example.com/hook", secret=generate_secret()
    )
    repos.idempotency.claim(
        user_id=user, key=MARKER, request_hash="a" * 64, lock_seconds=60, retention_seconds=60
    )
    repos.providers.record(
        provider="kling", event_id=f"ev-{MARKER}", payload={"prompt": MARKER}, job_id=job.id
    )
    with store.as_service() as conn:
        conn.execute("update auth.users set email = %s where id = %s", (f"{MARKER}@x.com", user))
        ids = conn.execute(
            "select id::text from public.jobs where user_id = %s"
            " union all select id::text from public.projects where user_id = %s",
            (user, user),
        ).fetchall()
    return [MARKER, str(user), str(project.id), *(row[0] for row in ids)]


def _delete_as_supabase_auth(db_uri: str, user: uuid.UUID) -> None:
    with psycopg.connect(db_uri, autocommit=True) as conn, conn.transaction():
        conn.execute("set local role supabase_auth_admin")
        role = conn.execute(
            "select rolname, rolsuper, rolbypassrls from pg_roles where rolname = current_user"
        ).fetchone()
        assert role == ("supabase_auth_admin", False, False)
        deleted = conn.execute("delete from auth.users where id = %s", (user,)).rowcount
        assert deleted == 1


def _balances_and_ledger(admin: Admin) -> dict[str, Any]:
    return {
        "accounts": dict(admin.execute("select user_id, balance from public.credit_accounts")),
        "per_user": dict(
            admin.execute(
                "select user_id, sum(delta) from public.credit_ledger where user_id is not null"
                " group by user_id"
            )
        ),
        "per_closed": admin.execute(
            "select closed_account, sum(delta),"
            " (array_agg(balance_after order by id desc))[1], count(*)"
            " from public.credit_ledger where closed_account is not null group by closed_account"
        ).fetchall(),
        "total": admin.execute(
            "select (select coalesce(sum(delta), 0) from public.credit_ledger),"
            " (select coalesce(sum(balance), 0) from public.credit_accounts)"
        ).fetchone(),
    }


def test_deleting_a_user_erases_them_keeps_their_money_history_and_spares_others(
    store: Store, admin: Admin, db_uri: str, user_a: uuid.UUID, user_b: uuid.UUID
) -> None:
    repos = Repositories.postgres(store)
    for user in (user_a, user_b):
        seed_tenant(store, user)  # a row in every tenant table, a held hold among them
    needles = _personal_data(store, repos, user_a)
    _personal_data(store, repos, user_b)
    entries_before = admin.execute(
        "select count(*) from public.credit_ledger where user_id = %s", (user_a,)
    ).fetchone()
    others_before = _rows_of(admin, user_b)
    balance_b = repos.credits.balance(user_id=user_b)

    _delete_as_supabase_auth(db_uri, user_a)

    assert _mentions(admin, needles) == []
    assert _rows_of(admin, user_b) == others_before
    money = _balances_and_ledger(admin)
    assert money["per_user"] == money["accounts"] == {user_b: balance_b}
    [(closed, total, last_balance, entries)] = money["per_closed"]
    assert (total, last_balance) == (0, 0)
    assert entries_before is not None
    assert entries == entries_before[0] + 2  # the held hold released, then the account closed
    assert money["total"] == (balance_b, balance_b)
    holds = admin.execute(
        "select status, job_id, idempotency_key from public.credit_holds"
        " where closed_account = %s order by created_at",
        (closed,),
    ).fetchall()
    assert holds == [("released", None, None), ("settled", None, None)]


def test_only_deleting_the_user_closes_a_credit_account(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_tenant(store, user_a)

    for statement in (
        "delete from public.credit_accounts where user_id = %s",
        "update public.credit_ledger set user_id = null, idempotency_key = null,"
        " closed_account = gen_random_uuid() where user_id = %s",
        "delete from public.job_events where user_id = %s",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            admin.execute(statement, (user_a,))

    assert admin.execute(
        "select count(*) from public.credit_ledger where user_id = %s", (user_a,)
    ).fetchone() == (2,)
