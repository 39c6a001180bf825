"""What a tenant may write directly, as Supabase's Data API would let the ``authenticated`` role,
is exactly what reelforge's API writes as the tenant (migration 0010): every other write is
refused (42501, or a check violation for values the dispatcher trusts), and every write the API
makes still works."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from pipeline.store import AccessDenied, Repositories, Store, StoreInputError, migrate
from pipeline.store.migrations import migration_files
from pipeline.store.models import DeliveryStatus
from pipeline.webhooks import generate_secret

from .tenants import TENANT_TABLES, seed_tenant

pytestmark = pytest.mark.integration

Admin = psycopg.Connection[Any]
SECRET = generate_secret()
# Table: the columns the tenant may insert, the columns it may update, whether it may delete.
EXPECTED: dict[str, tuple[set[str], set[str], bool]] = {
    "projects": (
        {"user_id", "name", "brief", "script_options", "status"},
        {"name", "brief", "script_options", "chosen_script", "updated_at"},
        False,
    ),
    "webhook_endpoints": (
        {"url", "secret", "events"},
        {
            "secret",
            "previous_secret",
            "previous_secret_expires_at",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "failed_deliveries_in_row",
            "updated_at",
        },
        True,
    ),
    "idempotency_keys": (
        {"user_id", "key", "request_hash", "state", "locked_until"},
        {"request_hash", "state", "response_status", "response_body", "created_at", "locked_until"},
        False,
    ),
    "analytics_imports": (
        {
            "id",
            "user_id",
            "source",
            "file_name",
            "file_hash",
            "rows_read",
            "imported",
            "updated",
            "unchanged",
            "unmatched",
            "unmatched_rows",
        },
        set(),
        False,
    ),
    "ad_performance": (
        {
            "user_id",
            "creative_id",
            "source",
            "ad_key",
            "period_start",
            "period_end",
            "placement",
            "ad_name",
            "currency",
            "impressions",
            "clicks",
            "spend",
            "purchases",
            "revenue",
            "video_3s_plays",
            "thruplays",
            "import_id",
        },
        {
            "ad_name",
            "currency",
            "impressions",
            "clicks",
            "spend",
            "purchases",
            "revenue",
            "video_3s_plays",
            "thruplays",
            "import_id",
            "imported_at",
        },
        False,
    ),
}


def _privileges(admin: Admin, table: str) -> tuple[set[str], set[str], bool]:
    rows = admin.execute(
        "select a.attname, has_column_privilege('authenticated', a.attrelid, a.attnum, 'INSERT'),"
        " has_column_privilege('authenticated', a.attrelid, a.attnum, 'UPDATE')"
        " from pg_attribute a where a.attrelid = %s::regclass and a.attnum > 0"
        " and not a.attisdropped",
        (f"public.{table}",),
    ).fetchall()
    delete = admin.execute(
        "select has_table_privilege('authenticated', %s, 'DELETE')", (f"public.{table}",)
    ).fetchone()
    return (
        {name for name, insert, _ in rows if insert},
        {name for name, _, update in rows if update},
        bool(delete and delete[0]),
    )


def test_a_tenant_may_write_exactly_the_columns_the_api_writes(admin: Admin) -> None:
    found = {t: _privileges(admin, t) for t in (*TENANT_TABLES, "provider_events")}

    assert {t: p for t, p in found.items() if p != (set(), set(), False)} == EXPECTED
    truncatable = admin.execute(
        "select relname from pg_class where relnamespace = 'public'::regnamespace"
        " and relkind = 'r' and (has_table_privilege('authenticated', oid, 'TRUNCATE')"
        " or has_table_privilege('authenticated', oid, 'TRIGGER')"
        " or has_table_privilege('authenticated', oid, 'REFERENCES'))"
    ).fetchall()
    assert truncatable == []


def test_only_the_owner_may_truncate_a_table(admin: Admin) -> None:
    """TRUNCATE skips row triggers: the ledger's append-only guard among them."""
    rows = admin.execute(
        "select r.rolname, c.relname from pg_class c, pg_roles r"
        " where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'"
        " and r.rolname in ('anon', 'authenticated', 'service_role', 'supabase_auth_admin')"
        " and has_table_privilege(r.oid, c.oid, 'TRUNCATE')"
    ).fetchall()
    assert rows == []


def _outcome(store: Store, user: uuid.UUID, statement: str, params: dict[str, Any]) -> str:
    """'denied' (42501), 'check' (23514), another SQLSTATE, or the rows touched."""
    try:
        with store.as_user(user) as conn:
            return str(conn.execute(statement.encode(), params).rowcount)
    except AccessDenied:
        return "denied"
    except StoreInputError as exc:
        return "check" if exc.sqlstate == "23514" else str(exc.sqlstate)


REFUSED = [
    "insert into public.jobs (user_id, kind) values (%(me)s, 'render')",
    "update public.jobs set state = 'delivered' where id = %(job)s",
    "update public.jobs set payload = '{}' where id = %(job)s",
    "delete from public.jobs where id = %(job)s",
    "insert into public.job_events (job_id, user_id, kind, state)"
    " values (%(job)s, %(me)s, 'log', 'queued')",
    "insert into public.credit_ledger (user_id, delta, balance_after, reason)"
    " values (%(me)s, 1000, 1000, 'gift')",
    "update public.credit_ledger set delta = 1000 where user_id = %(me)s",
    "delete from public.credit_ledger where user_id = %(me)s",
    "update public.credit_accounts set balance = 1000000 where user_id = %(me)s",
    "insert into public.credit_holds (user_id, amount) values (%(me)s, 1)",
    "update public.credit_holds set status = 'released', resolved_at = now()"
    " where user_id = %(me)s",
    "insert into public.renders (user_id, job_id, format, path, width, height, duration_s)"
    " values (%(me)s, %(job)s, '1x1', 'x.mp4', 1, 1, 1)",
    "insert into public.assets (user_id, key, kind, provider, storage_path)"
    " values (%(me)s, 'k2', 'image', 'x', 'p')",
    "update public.creatives set landing_url = 'https://evil.example' where user_id = %(me)s",
    "update public.webhook_deliveries set status = 'pending', attempts = 0 where user_id = %(me)s",
    "insert into public.brand_kits (user_id, name) values (%(me)s, 'kit')",
    "update public.brand_kits set name = 'kit 2' where user_id = %(me)s",
    "delete from public.projects where user_id = %(me)s",
    "update public.projects set status = 'scripted' where user_id = %(me)s",
    "insert into public.projects (id, user_id, name, brief) values (gen_random_uuid(), %(me)s,"
    " 'p', '{}')",
    "update public.webhook_endpoints set url = 'https://elsewhere.example/h'"
    " where user_id = %(me)s",
    "update public.webhook_endpoints set events = '{job.delivered}' where user_id = %(me)s",
    "insert into public.webhook_endpoints (url, secret, enabled)"
    " values ('https://example.com/h', %(secret)s, false)",
    "delete from public.idempotency_keys where user_id = %(me)s",
    "update public.idempotency_keys set key = 'other' where user_id = %(me)s",
    "update public.analytics_imports set imported = 1000 where user_id = %(me)s",
    "delete from public.ad_performance where user_id = %(me)s",
    "update public.ad_performance set creative_id = 'rf-other' where user_id = %(me)s",
    "insert into public.provider_events (provider, event_id, payload) values ('x', 'y', '{}')",
    "select public.enqueue_job(%(me)s, 'render')",
    "select public.safe_adjust_credits(%(me)s, 100, 'gift', 'gift')",
    "select public.hold_credits(%(me)s, 1)",
    "select public.claim_job('me')",
    "select public.disable_webhook_endpoint(gen_random_uuid(), 'x', now())",
    "select public.quarantine_webhook_delivery(gen_random_uuid(), 'me', 'x')",
    "select nextval('public.credit_ledger_id_seq')",
]

CHECKED = [
    # What the dispatcher trusts: a whsec_ secret of 24 to 64 bytes, an https URL.
    "insert into public.webhook_endpoints (url, secret) values ('https://example.com/h',"
    " 'a-plain-password-of-forty-characters-long')",
    "insert into public.webhook_endpoints (url, secret) values ('https://example.com/h',"
    " 'whsec_c2hvcnQ=')",
    "insert into public.webhook_endpoints (url, secret) values ('https://example.com/h',"
    " 'whsec_' || repeat('A', 100))",
    "insert into public.webhook_endpoints (url, secret) values ('https://example.com/h',"
    " 'whsec_not base64 at all, but long enough to pass a length check')",
    "insert into public.webhook_endpoints (url, secret) values ('http://example.com/h', %(secret)s)",
    "insert into public.webhook_endpoints (url, secret)"
    " values ('https://user:pw@example.com/h', %(secret)s)",
    "insert into public.webhook_endpoints (url, secret)"
    " values ('https://exa mple.com/h', %(secret)s)",
    "insert into public.webhook_endpoints (url, secret)"
    " values ('http://localhost.evil.example/h', %(secret)s)",
    "insert into public.webhook_endpoints (url, secret)"
    " values ('https://example.com/' || repeat('a', 2048), %(secret)s)",
    "insert into public.webhook_endpoints (url, secret, events)"
    " values ('https://example.com/h', %(secret)s, '{Job Delivered}')",
    "update public.webhook_endpoints set secret = 'not-a-whsec-secret-but-long-enough'"
    " where user_id = %(me)s",
    "insert into public.projects (user_id, name, brief, status) values (%(me)s, 'p', '[1]',"
    " 'scripted')",
    "insert into public.projects (user_id, name, brief, script_options, status)"
    " values (%(me)s, 'p', '{}', '{}', 'scripted')",
]


@pytest.fixture
def tenant(store: Store, user_a: uuid.UUID) -> dict[str, Any]:
    seed_tenant(store, user_a)
    with store.as_service() as conn:
        job = conn.execute("select id from public.jobs where user_id = %s", (user_a,)).fetchone()
    assert job is not None
    return {"me": user_a, "job": job[0], "secret": generate_secret()}


@pytest.mark.parametrize("statement", REFUSED)
def test_a_write_the_api_does_not_make_is_denied(
    store: Store, tenant: dict[str, Any], statement: str
) -> None:
    assert _outcome(store, tenant["me"], statement, tenant) == "denied"


@pytest.mark.parametrize("statement", CHECKED)
def test_a_value_the_workers_would_trust_is_checked(
    store: Store, tenant: dict[str, Any], statement: str
) -> None:
    assert _outcome(store, tenant["me"], statement, tenant) == "check"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hooks",
        "HTTPS://Example.COM:8443/a/b?c=d#e",
        "https://[2001:db8::1]/h",
        "http://localhost:8000/hooks",
        "http://127.0.0.1/hooks",
        "https://example.com/path@with-at",
    ],
)
def test_urls_the_api_accepts_are_accepted(store: Store, user_a: uuid.UUID, url: str) -> None:
    endpoint = Repositories.postgres(store).webhooks.create_endpoint(
        user_id=user_a, url=url, secret=generate_secret(24)
    )
    assert endpoint.url == url


def test_every_write_the_api_makes_as_the_tenant_still_works(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    repos = Repositories.postgres(store)
    project = repos.projects.create(
        user_id=user_a, name="Cup", brief={"product": {}}, script_options=[{"o": 1}]
    )
    edited = repos.projects.update(
        user_id=user_a, project_id=project.id, seen=project.updated_at, name="Cup 2",
        brief={"product": {"name": "Cup 2"}}, script_options=[{"o": 1}], chosen_script=1,
    )  # fmt: skip
    endpoint = repos.webhooks.create_endpoint(
        user_id=user_a, url="https://example.com/h", secret=SECRET, events=["job.delivered"]
    )
    repos.webhooks.rotate_secret(user_id=user_a, endpoint_id=endpoint.id, secret=generate_secret())
    admin.execute("select public.disable_webhook_endpoint(%s, 'x', now())", (endpoint.id,))
    enabled = repos.webhooks.enable_endpoint(user_id=user_a, endpoint_id=endpoint.id)
    claim = repos.idempotency.claim(
        user_id=user_a, key="k", request_hash="a" * 64, lock_seconds=60, retention_seconds=60
    )
    repos.idempotency.complete(user_id=user_a, key="k", status=201, body={"id": "x"})
    job = repos.jobs.enqueue(user_id=user_a, kind="render", project_id=project.id)
    canceled = repos.jobs.cancel(job_id=job.id, user_id=user_a)
    repos.webhooks.delete_endpoint(user_id=user_a, endpoint_id=endpoint.id)

    assert edited is not None and edited.chosen_script == 1
    assert enabled.enabled and claim.claimed
    assert canceled.state == "canceled"
    # Performance imports (as the tenant) run in test_repository_contract.py's import scenario.


def test_enabled_endpoints_that_break_the_checks_are_disabled_by_the_migration(
    new_database: Callable[[str | None], str], tmp_path: Path, admin: Admin
) -> None:
    uri = new_database(None)
    before = tmp_path / "before"
    before.mkdir()
    for migration in migration_files():
        if migration.version < "0010":
            (before / migration.path.name).write_bytes(migration.path.read_bytes())
    migrate(conninfo=uri, migrations_dir=before)
    user = uuid.uuid4()
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("insert into auth.users (id) values (%s)", (user,))
        ids = [
            conn.execute(
                "insert into public.webhook_endpoints (user_id, url, secret, enabled)"
                " values (%s, %s, %s, %s) returning id",
                (user, url, secret, enabled),
            ).fetchone()[0]  # type: ignore[index]
            for url, secret, enabled in [
                ("https://example.com/ok", SECRET, True),
                ("https://example.com/a", "a-plain-password-of-forty-characters!!", True),
                ("http://example.com/b", SECRET, True),
                ("https://example.com/c", "a-plain-password-of-forty-characters!!", False),
            ]
        ]
        conn.execute(
            "insert into public.webhook_deliveries (user_id, endpoint_id, event_type, payload)"
            " values (%s, %s, 'job.delivered', %s)",
            (user, ids[1], Jsonb({})),
        )

    migrate(conninfo=uri)

    with psycopg.connect(uri) as conn:
        endpoints = conn.execute(
            "select enabled, disabled_reason from public.webhook_endpoints"
            " order by array_position(%s::uuid[], id)",
            (ids,),
        ).fetchall()
        deliveries = conn.execute("select status from public.webhook_deliveries").fetchall()
    assert endpoints == [
        (True, None),
        (False, "disabled by migration 0010: the secret is not a whsec_ secret; rotate it"),
        (False, "disabled by migration 0010: the URL must be https, without credentials"),
        (False, None),
    ]
    assert deliveries == [(DeliveryStatus.DEAD.value,)]
