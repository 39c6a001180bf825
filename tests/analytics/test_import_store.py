"""Imports into PostgreSQL: joined to creatives, idempotent, all or nothing, tenant data under RLS;
and creatives recorded by the job worker."""

from __future__ import annotations

import copy
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from pipeline.analytics.creative import ad_name, creative_id
from pipeline.analytics.importers import BadReport, MetaInsightsApi, read_csv_report
from pipeline.analytics.model import CreativeAttributes
from pipeline.analytics.store import (
    import_report,
    list_creatives,
    list_performance,
    record_creatives,
)
from pipeline.manifest import Manifest
from pipeline.providers import CircuitBreaker
from pipeline.render import Ports
from pipeline.store import (
    AccessDenied,
    JobState,
    Store,
    StoreInputError,
    adjust_credits,
    claim_job,
    enqueue_job,
)
from pipeline.voice import FakeVoice
from pipeline.worker import run_job
from tests.conftest import BASE_BRIEF, PHOTOS
from tests.store.conftest import *  # noqa: F403

pytestmark = pytest.mark.integration

DATA = Path(__file__).with_name("data")
Admin = psycopg.Connection[tuple[object, ...]]
IDS = ("rf-0a1b2c3d4e5f", "rf-1b2c3d4e5f60", "rf-2c3d4e5f6071", "rf-3d4e5f607182")


def make_creative(cid: str, fmt: str = "9x16") -> CreativeAttributes:
    return CreativeAttributes(
        creative_id=cid,
        sku="AUR-ESP-01",
        product="Aurora Espresso Cup",
        template="product_showcase",
        duration_s=8.0,
        duration_bucket="<15s",
        palette_colour="sage green",
        voice="on",
        caption_style="bold_pop",
        hook="Crema stays hot.",
        format=fmt,
        script_option=1,
        ad_name=ad_name(
            sku="AUR-ESP-01", template="product_showcase", fmt=fmt, option=1, creative=cid
        ),
        landing_url=f"https://example.com/cup?utm_content={cid}",
    )


def seed_creatives(store: Store, user: uuid.UUID, ids: tuple[str, ...] = IDS) -> None:
    with store.as_service() as conn:
        record_creatives(
            conn, user_id=user, job_id=None, project_id=None, creatives=map(make_creative, ids)
        )


def imported(store: Store, user: uuid.UUID, name: str) -> Any:
    report = read_csv_report((DATA / name).read_bytes(), name=name)
    return import_report(store=store, user_id=user, report=report)


def totals(admin: Admin, user: uuid.UUID) -> tuple[object, ...]:
    row = admin.execute(
        "select count(*), sum(impressions), sum(clicks), sum(spend), sum(purchases)"
        " from public.ad_performance where user_id = %s",
        (user,),
    ).fetchone()
    assert row is not None
    return row


def test_an_import_joins_rows_to_creatives_and_reports_the_unmatched(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_creatives(store, user_a)

    result = imported(store, user_a, "meta_usd.csv")

    assert (result.rows, result.imported, result.updated, result.unchanged) == (3, 2, 0, 0)
    assert [(u.line, u.ad_name) for u in result.unmatched] == [(5, "Summer sale static image")]
    assert totals(admin, user_a) == (2, 20346, 234, Decimal("1332.66"), 12)
    rows = {r.creative_id: r for r in list_performance(store=store, user_id=user_a)}
    assert rows["rf-0a1b2c3d4e5f"].source == "meta_csv"
    assert rows["rf-0a1b2c3d4e5f"].video_3s_plays == 4321
    assert rows["rf-1b2c3d4e5f60"].thruplays is None
    record = admin.execute(
        "select source, file_name, rows_read, imported, unmatched, unmatched_rows"
        " from public.analytics_imports where id = %s",
        (result.import_id,),
    ).fetchone()
    assert record == (
        "meta_csv",
        "meta_usd.csv",
        3,
        2,
        1,
        [{"line": 5, "ad_name": "Summer sale static image"}],
    )


def test_importing_the_same_file_twice_counts_nothing_twice(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_creatives(store, user_a)
    imported(store, user_a, "meta_usd.csv")
    before = totals(admin, user_a)

    again = imported(store, user_a, "meta_usd.csv")

    assert (again.imported, again.updated, again.unchanged) == (0, 0, 2)
    assert len(again.unmatched) == 1  # still reported
    assert totals(admin, user_a) == before
    assert admin.execute(
        "select count(*) from public.analytics_imports where user_id = %s", (user_a,)
    ).fetchone() == (2,)


def test_a_corrected_export_replaces_the_numbers_of_the_rows_it_repeats(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_creatives(store, user_a)
    imported(store, user_a, "meta_usd.csv")
    text = (DATA / "meta_usd.csv").read_text().replace('"8,001"', '"9,001"')

    result = import_report(
        store=store, user_id=user_a, report=read_csv_report(text.encode(), name="fixed.csv")
    )

    assert (result.imported, result.updated, result.unchanged) == (0, 1, 1)
    assert totals(admin, user_a)[1] == 21346


def test_every_source_keeps_its_own_rows(store: Store, admin: Admin, user_a: uuid.UUID) -> None:
    seed_creatives(store, user_a)

    meta = imported(store, user_a, "meta_usd.csv")
    google = imported(store, user_a, "google_ads.csv")
    euro = imported(store, user_a, "meta_utf16.tsv")
    bom = imported(store, user_a, "meta_bom.csv")

    assert (google.imported, [u.line for u in google.unmatched]) == (2, [6])
    # Two placements of one creative on one day are two rows; the café row names no creative.
    assert (euro.imported, [(u.line, u.ad_name) for u in euro.unmatched]) == (
        2,
        [(4, "Café crème — été")],
    )
    assert (bom.imported, [u.line for u in bom.unmatched]) == (1, [3])
    assert meta.imported == 2
    sources = admin.execute(
        "select source, count(*) from public.ad_performance group by source order by source"
    ).fetchall()
    assert sources == [("google_csv", 2), ("meta_csv", 5)]


def test_rows_of_one_creative_and_period_are_summed(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_creatives(store, user_a)
    data = (
        b"Reporting starts,Reporting ends,Ad name,Amount spent (USD),Impressions,Link clicks\n"
        b"2024-05-01,2024-05-31,Ad set A rf-0a1b2c3d4e5f,10.00,100,1\n"
        b"2024-05-01,2024-05-31,Ad set B rf-0a1b2c3d4e5f,2.50,50,4\n"
    )

    result = import_report(
        store=store, user_id=user_a, report=read_csv_report(data, name="two.csv")
    )

    assert (result.rows, result.imported) == (2, 1)
    assert totals(admin, user_a) == (1, 150, 5, Decimal("12.50"), 0)


def test_a_failing_import_imports_nothing(store: Store, admin: Admin, user_a: uuid.UUID) -> None:
    seed_creatives(store, user_a)
    data = (
        b"Reporting starts,Reporting ends,Ad name,Amount spent,Currency,Impressions,Link clicks\n"
        b"2024-05-01,2024-05-31,rf-1b2c3d4e5f60,1.00,USD,10,1\n"
        b"2024-05-01,2024-05-31,rf-0a1b2c3d4e5f,1.00,USD,10,1\n"
        b"2024-05-01,2024-05-31,rf-0a1b2c3d4e5f,1.00,EUR,10,1\n"
    )
    report = read_csv_report(data, name="mixed.csv")

    with pytest.raises(BadReport, match=r"mixed\.csv, line 4.*EUR"):
        import_report(store=store, user_id=user_a, report=report)

    assert totals(admin, user_a)[0] == 0
    assert admin.execute("select count(*) from public.analytics_imports").fetchone() == (0,)


def test_performance_is_tenant_data(
    store: Store, admin: Admin, user_a: uuid.UUID, user_b: uuid.UUID
) -> None:
    seed_creatives(store, user_a)
    imported(store, user_a, "meta_usd.csv")

    # B's import of the same file names none of B's creatives: all unmatched, nothing stored.
    theirs = imported(store, user_b, "meta_usd.csv")

    assert (theirs.imported, len(theirs.unmatched)) == (0, 3)
    assert list_performance(store=store, user_id=user_b) == []
    assert list_creatives(store=store, user_id=user_b) == []
    with store.as_user(user_b) as conn:
        assert conn.execute("select count(*) from public.analytics_imports").fetchone() == (1,)
        assert conn.execute(
            "select count(*) from public.ad_performance where user_id = %s", (user_a,)
        ).fetchone() == (0,)
    row = {
        "creative_id": "rf-0a1b2c3d4e5f",
        "source": "meta_csv",
        "period_start": date(2024, 6, 1),
        "period_end": date(2024, 6, 30),
        "currency": "USD",
    }
    insert = (
        "insert into public.ad_performance (user_id, creative_id, source, period_start,"
        " period_end, currency, impressions, clicks, spend)"
        " values (%(user)s, %(creative_id)s, %(source)s, %(period_start)s, %(period_end)s,"
        " %(currency)s, 1000000, 0, 0)"
    )
    with pytest.raises(AccessDenied), store.as_user(user_b) as conn:
        conn.execute(insert, {**row, "user": user_a})  # rows for A
    with pytest.raises(StoreInputError, match="foreign key"), store.as_user(user_b) as conn:
        conn.execute(insert, {**row, "user": user_b})  # B's row on A's creative
    with store.as_user(user_b) as conn:
        changed = conn.execute(
            "update public.ad_performance set impressions = 0 where user_id = %s", (user_a,)
        ).rowcount
    assert changed == 0
    assert totals(admin, user_a)[:2] == (2, 20346)


def test_a_tenant_cannot_write_creatives(store: Store, user_a: uuid.UUID) -> None:
    with pytest.raises(AccessDenied), store.as_user(user_a) as conn:
        record_creatives(
            conn,
            user_id=user_a,
            job_id=None,
            project_id=None,
            creatives=[make_creative("rf-abcdefabcdef")],
        )


def test_an_api_pull_imports_like_a_file(store: Store, user_a: uuid.UUID) -> None:
    seed_creatives(store, user_a)
    page = {
        "data": [
            {
                "ad_name": "x_rf-2c3d4e5f6071",
                "account_currency": "USD",
                "impressions": "10",
                "spend": "1.00",
                "date_start": "2024-05-01",
                "date_stop": "2024-05-31",
            }
        ]
    }
    source = MetaInsightsApi(
        object_id="act_1",
        access_token="t",
        since=date(2024, 5, 1),
        until=date(2024, 5, 31),
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json=page)),
        breaker=CircuitBreaker("test"),
    )

    first = import_report(store=store, user_id=user_a, report=source.fetch())
    second = import_report(store=store, user_id=user_a, report=source.fetch())

    assert (first.source, first.imported, second.unchanged) == ("meta_api", 1, 1)


def test_the_worker_records_each_outputs_creative(
    store: Store, admin: Admin, user_a: uuid.UUID, tmp_path: Path
) -> None:
    adjust_credits(store=store, user_id=user_a, amount=1000, reason="grant", idempotency_key="g")
    brief = copy.deepcopy(BASE_BRIEF)
    brief["product"]["photos"] = [str(PHOTOS / "coffee.png")]
    job = enqueue_job(
        store=store,
        user_id=user_a,
        kind="render",
        payload={"brief": brief, "formats": ["9x16"], "preview": True},
    )
    claimed = claim_job(store=store, worker="w1", lease_seconds=30)
    assert claimed is not None

    done = run_job(
        store=store,
        job=claimed,
        worker="w1",
        media_root=tmp_path / "media",
        lease_seconds=30,
        ports=Ports(voice=FakeVoice()),
    )

    assert done.state == JobState.DELIVERED, done.error
    (creative,) = list_creatives(store=store, user_id=user_a)
    assert creative.job_id == job.id and creative.format == "9x16"
    manifest = Manifest.model_validate_json(
        (tmp_path / "media" / str(user_a) / str(job.id) / "manifest.json").read_text()
    )
    written = manifest.outputs[0].creative
    assert written is not None
    assert (
        creative.model_dump(exclude={"job_id", "project_id", "created_at"}) == written.model_dump()
    )
    assert written.creative_id == creative_id(manifest.brief_hash, 1, "9x16")
