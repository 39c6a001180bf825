"""Tenant isolation: RLS on every tenant table and view, claims that never leak through the pool,
and a catalog lint of RLS, policies, views and security definer functions."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pipeline.store import AccessDenied, Repositories, Store, StoreError

from .tenants import TENANT_TABLES, TENANT_VIEWS, seed_tenant

pytestmark = pytest.mark.integration


def _outcome(store: Store, user: uuid.UUID, statement: sql.Composed, params: Any = None) -> str:
    """'denied' (42501), 'refused' (another error) or the number of rows touched."""
    try:
        with store.as_user(user) as conn:
            return str(conn.execute(statement, params).rowcount)
    except AccessDenied:
        return "denied"
    except StoreError:
        return "refused"


def test_tenant_tables_are_exactly_the_tables_with_a_user_id(
    admin: psycopg.Connection[Any],
) -> None:
    rows = admin.execute(
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " join pg_attribute a on a.attrelid = c.oid and a.attname = 'user_id'"
        " where n.nspname = 'public' and c.relkind in ('r', 'v')"
    ).fetchall()

    assert sorted(name for name, kind in rows if kind == "r") == sorted(TENANT_TABLES)
    assert sorted(name for name, kind in rows if kind == "v") == sorted(TENANT_VIEWS)


def test_a_tenant_cannot_read_change_or_insert_another_tenants_rows(
    store: Store, user_a: uuid.UUID, user_b: uuid.UUID
) -> None:
    seed_tenant(store, user_a)
    seed_tenant(store, user_b)
    problems: list[str] = []
    for name in TENANT_TABLES + TENANT_VIEWS:
        table = sql.Identifier("public", name)
        with store.as_service() as conn:
            row = conn.execute(
                sql.SQL("select to_jsonb(t) from {} t where user_id = %s limit 1").format(table),
                (user_b,),
            ).fetchone()
        assert row is not None, f"{name}: no seeded row for B"
        with store.as_user(user_a) as conn:
            own = conn.execute(sql.SQL("select count(*) from {}").format(table)).fetchone()
        if not own or own[0] == 0:
            problems.append(f"{name}: A cannot see its own rows (the check would prove nothing)")

        seen = _outcome(
            store, user_a, sql.SQL("select * from {} where user_id = %s").format(table), (user_b,)
        )
        updated = _outcome(
            store,
            user_a,
            sql.SQL("update {} set user_id = user_id where user_id = %s").format(table),
            (user_b,),
        )
        stolen = _outcome(
            store,
            user_a,
            sql.SQL("update {} set user_id = %s where user_id = %s").format(table),
            (user_a, user_b),
        )
        deleted = _outcome(
            store, user_a, sql.SQL("delete from {} where user_id = %s").format(table), (user_b,)
        )
        inserted = _outcome(
            store,
            user_a,
            sql.SQL("insert into {} select * from jsonb_populate_record(null::{}, %s)").format(
                table, table
            ),
            (json.dumps(row[0]),),
        )
        for action, result in [
            ("select", seen),
            ("update", updated),
            ("update user_id", stolen),
            ("delete", deleted),
        ]:
            if result not in ("0", "denied"):
                problems.append(f"{name}: A's {action} touched {result} of B's rows")
        # Views are not insertable at all (0A000 before the privilege check).
        if inserted != "denied" and not (name in TENANT_VIEWS and inserted == "refused"):
            problems.append(f"{name}: A inserted a row owned by B ({inserted})")

    assert problems == []
    with store.as_service() as conn:
        counts = conn.execute(
            "select (select count(*) from public.jobs where user_id = %s),"
            " (select balance from public.credit_accounts where user_id = %s)",
            (user_b, user_b),
        ).fetchone()
    assert counts == (1, 8)


def test_anon_can_read_no_table(store: Store, user_a: uuid.UUID, db_uri: str) -> None:
    seed_tenant(store, user_a)

    def select_as_anon(conn: psycopg.Connection[Any], name: str) -> None:
        with conn.transaction():
            conn.execute("set local role anon")
            conn.execute(sql.SQL("select * from {}").format(sql.Identifier("public", name)))

    with psycopg.connect(db_uri, autocommit=True) as conn:
        for name in (
            TENANT_TABLES
            + TENANT_VIEWS
            + ("provider_events", "app_config", "billing_events", "generation_claims")
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                select_as_anon(conn, name)


@pytest.mark.parametrize(
    "statement",
    [
        "select * from public.generation_claims",
        "insert into public.generation_claims (key, owner, lease_expires_at)"
        " values (repeat('a', 64), 'tenant', now() + interval '1 minute')",
        "update public.generation_claims set owner = 'tenant'",
        "delete from public.generation_claims",
    ],
)
def test_tenants_can_neither_see_nor_take_generation_claims(
    store: Store, user_a: uuid.UUID, statement: str
) -> None:
    with pytest.raises(AccessDenied, match="permission denied for table generation_claims"):  # noqa: SIM117
        with store.as_user(user_a) as conn:
            conn.execute(statement)


@pytest.mark.parametrize(
    "statement", ["delete from public.generation_claims", "truncate public.generation_claims"]
)
def test_the_service_claims_generations_but_never_deletes_the_record(
    store: Store, statement: str
) -> None:
    key = "b" * 64
    assert Repositories.postgres(store).claims.acquire(key, owner="w", lease_seconds=60)
    with pytest.raises(AccessDenied, match="permission denied for table generation_claims"):  # noqa: SIM117
        with store.as_service() as conn:
            conn.execute(statement)


def test_claims_never_leak_across_a_thousand_pooled_requests(
    store: Store, user_a: uuid.UUID, user_b: uuid.UUID
) -> None:
    seed_tenant(store, user_a)
    seed_tenant(store, user_b)

    def request(i: int) -> str | None:
        if i % 10 == 9:
            # A bare pooled connection must carry no role and no claims from earlier requests.
            with store._pool.connection() as conn:
                row = conn.execute(
                    "select current_user, coalesce(current_setting('request.jwt.claims', true), '')"
                ).fetchone()
            return None if row == ("postgres", "") else f"bare connection kept {row}"
        user = user_a if i % 2 else user_b
        with store.as_user(user) as conn:
            row = conn.execute(
                "select auth.uid(), array_agg(distinct user_id)::text,"
                " (select count(*) from public.credit_ledger where user_id <> auth.uid())"
                " from public.jobs"
            ).fetchone()
        expected = (user, f"{{{user}}}", 0)
        return None if row == expected else f"request {i} as {user} saw {row}"

    with ThreadPoolExecutor(max_workers=12) as pool:
        leaks = [result for result in pool.map(request, range(1000)) if result]

    assert leaks == []


def test_every_public_table_has_rls_enabled_and_forced(admin: psycopg.Connection[Any]) -> None:
    rows = admin.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'p')"
        " and not (c.relrowsecurity and c.relforcerowsecurity)"
    ).fetchall()

    assert rows == []


def test_no_policy_is_always_true_and_every_policy_uses_select_auth_uid(
    admin: psycopg.Connection[Any],
) -> None:
    rows = admin.execute(
        "select tablename, policyname, qual, with_check from pg_policies where schemaname = 'public'"
    ).fetchall()

    assert rows, "no policies at all"
    for table, policy, using, check in rows:
        for clause in (using, check):
            assert clause is not None and clause.strip("() ") != "true", f"{table}.{policy}"
            assert "SELECT auth.uid()" in clause, f"{table}.{policy}: {clause}"


def test_every_view_is_security_invoker(admin: psycopg.Connection[Any]) -> None:
    rows = admin.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('v', 'm')"
        " and not coalesce(c.reloptions && array['security_invoker=true', 'security_invoker=on'],"
        " false)"
    ).fetchall()

    assert rows == []


def test_security_definer_functions_pin_search_path_and_refuse_public_and_anon(
    admin: psycopg.Connection[Any],
) -> None:
    rows = admin.execute(
        "select p.proname,"
        " coalesce('search_path=\"\"' = any(p.proconfig), false),"
        " exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a"
        "         where a.grantee = 0 and a.privilege_type = 'EXECUTE'),"
        " has_function_privilege('anon', p.oid, 'execute'),"
        " has_function_privilege('authenticated', p.oid, 'execute')"
        " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname = 'public' and p.prosecdef"
    ).fetchall()

    assert len(rows) >= 10
    assert [name for name, pinned, *_ in rows if not pinned] == []
    assert [name for name, _, public, anon, _ in rows if public or anon] == []
    assert sorted(name for name, *_, auth in rows if auth) == ["cancel_job"]


def test_ledger_and_job_events_cannot_be_changed_by_anyone(
    store: Store, user_a: uuid.UUID, admin: psycopg.Connection[Any]
) -> None:
    seed_tenant(store, user_a)
    for role in ("authenticated", "service_role"):
        for table in ("credit_ledger", "job_events"):
            for privilege in ("UPDATE", "DELETE"):
                allowed = admin.execute(
                    "select has_table_privilege(%s, %s, %s)", (role, f"public.{table}", privilege)
                ).fetchone()
                assert allowed == (False,), f"{role} may {privilege} {table}"
    for statement in (
        "update public.credit_ledger set delta = 1000",
        "delete from public.job_events",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            admin.execute(statement)
