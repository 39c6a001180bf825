"""Test helper: one row in every tenant table for a user, written as the service role."""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb

from pipeline.store import Store
from pipeline.store.credits import Credits
from pipeline.store.jobs import Jobs
from pipeline.webhooks import generate_secret

TENANT_TABLES = (
    "ad_performance",
    "analytics_imports",
    "api_keys",
    "assets",
    "brand_kits",
    "credit_accounts",
    "credit_holds",
    "credit_ledger",
    "creatives",
    "idempotency_keys",
    "job_events",
    "jobs",
    "projects",
    "renders",
    "uploads",
    "webhook_deliveries",
    "webhook_endpoints",
)
TENANT_VIEWS = ("job_summaries",)


def seed_tenant(store: Store, user_id: uuid.UUID) -> None:
    """Writes at least one row per tenant table for ``user_id``."""
    Credits(store).adjust(user_id=user_id, amount=10, reason="signup", idempotency_key="signup")
    job = Jobs(store).enqueue(user_id=user_id, kind="render", payload={"n": 1})
    Credits(store).hold(user_id=user_id, amount=2, job_id=job.id, idempotency_key="h1")
    with store.as_service() as conn:
        kit = conn.execute(
            "insert into public.brand_kits (user_id, name) values (%s, 'kit') returning id",
            (user_id,),
        ).fetchone()
        assert kit is not None
        conn.execute(
            "insert into public.projects (user_id, brand_kit_id, name, brief)"
            " values (%s, %s, 'p', %s)",
            (user_id, kit[0], Jsonb({"product": "cup"})),
        )
        conn.execute(
            "insert into public.assets (user_id, key, kind, provider, storage_path)"
            " values (%s, 'k1', 'image', 'offline', 'a/k1.png')",
            (user_id,),
        )
        render = conn.execute(
            "insert into public.renders (user_id, job_id, format, path, width, height, duration_s)"
            " values (%s, %s, '9x16', 'r.mp4', 1080, 1920, 8) returning id",
            (user_id, job.id),
        ).fetchone()
        assert render is not None
        conn.execute(
            "insert into public.idempotency_keys (user_id, key, request_hash) values (%s, 'i1', 'h')",
            (user_id,),
        )
        endpoint = conn.execute(
            "insert into public.webhook_endpoints (user_id, url, secret)"
            " values (%s, 'https://example.com/hook', %s) returning id",
            (user_id, generate_secret()),
        ).fetchone()
        assert endpoint is not None
        conn.execute(
            "insert into public.webhook_deliveries (user_id, endpoint_id, event_type, payload)"
            " values (%s, %s, 'job.delivered', '{}')",
            (user_id, endpoint[0]),
        )
        conn.execute(
            "insert into public.creatives (user_id, creative_id, job_id, sku, product, template,"
            " duration_s, duration_bucket, palette_colour, voice, caption_style, hook, format,"
            " script_option, ad_name, landing_url) values (%s, 'rf-c0ffee', %s, 'SKU', 'Cup',"
            " 'product_showcase', 8, '<15s', 'sage', 'on', 'bold', 'Hi', '9x16', 1,"
            " 'SKU_rf-c0ffee', 'https://example.com/?utm_content=rf-c0ffee')",
            (user_id, job.id),
        )
        imported = conn.execute(
            "insert into public.analytics_imports (user_id, source, file_hash, rows_read,"
            " imported, updated, unchanged, unmatched) values (%s, 'meta_csv', repeat('a', 64),"
            " 1, 1, 0, 0, 0) returning id",
            (user_id,),
        ).fetchone()
        assert imported is not None
        conn.execute(
            "insert into public.ad_performance (user_id, creative_id, source, period_start,"
            " period_end, currency, impressions, clicks, spend, import_id)"
            " values (%s, 'rf-c0ffee', 'meta_csv', current_date, current_date, 'USD', 100, 3,"
            " 1.5, %s)",
            (user_id, imported[0]),
        )
        conn.execute(
            "insert into public.uploads (user_id, kind, key, sha256, size, content_type)"
            " values (%s, 'photo', %s || '/uploads/' || repeat('b', 64) || '.png', repeat('b', 64),"
            " 10, 'image/png')",
            (user_id, str(user_id)),
        )
        conn.execute(
            "insert into public.api_keys (user_id, name, prefix, secret_hash)"
            " values (%s, 'ci', 'rf_live_abcd', encode(sha256(%s::text::bytea), 'hex'))",
            (user_id, str(user_id)),
        )
