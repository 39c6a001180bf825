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

from pipeline.analytics.dataset import load_dataset
from pipeline.analytics.importers import BadReport, MetaInsightsApi, read_csv_report
from pipeline.analytics.report import build_report
from pipeline.analytics.store import (
    import_report,
    list_performance,
)
from pipeline.creative import CreativeAttributes, ad_name, creative_id
from pipeline.manifest import Manifest
from pipeline.providers import CircuitBreaker
from pipeline.render import Ports
from pipeline.settings import Settings, StoreSettings
from pipeline.store import (
    AccessDenied,
    JobState,
    Repositories,
    Store,
    StoreInputError,
)
from pipeline.store.analytics import Analytics
from pipeline.store.credits import Credits
from pipeline.store.jobs import Jobs
from pipeline.voice import FakeVoice
from pipeline.wiring import blob_store
from pipeline.worker import JobContext, run_job
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
        Analytics(store).record_creatives(
            conn, user_id=user, job_id=None, project_id=None, creatives=map(make_creative, ids)
        )


def imported_bytes(store: Store, user: uuid.UUID, data: bytes, name: str) -> Any:
    return import_report(
        analytics=Analytics(store), user_id=user, report=read_csv_report(data, name=name)
    )


def imported(store: Store, user: uuid.UUID, name: str) -> Any:
    report = read_csv_report((DATA / name).read_bytes(), name=name)
    return import_report(analytics=Analytics(store), user_id=user, report=report)


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
    rows = {r.creative_id: r for r in list_performance(analytics=Analytics(store), user_id=user_a)}
    assert rows["rf-0a1b2c3d4e5f"].source == "meta_csv"
    assert rows["rf-0a1b2c3d4e5f"].video_3s_plays == 4321
    assert rows["rf-1b2c3d4e5f60"].thruplays == 0  # "—" in the ThruPlays column
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
        analytics=Analytics(store),
        user_id=user_a,
        report=read_csv_report(text.encode(), name="fixed.csv"),
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


def test_rows_of_one_ad_and_period_are_summed_and_other_ads_kept_apart(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_creatives(store, user_a)
    data = (
        b"Reporting starts,Reporting ends,Ad name,Amount spent (USD),Impressions,Link clicks\n"
        b"2024-05-01,2024-05-31,Ad A rf-0a1b2c3d4e5f,10.00,100,1\n"
        b"2024-05-01,2024-05-31,Ad A rf-0a1b2c3d4e5f,2.50,50,4\n"
        b"2024-05-01,2024-05-31,Ad B rf-0a1b2c3d4e5f,1.00,10,1\n"
    )

    result = import_report(
        analytics=Analytics(store), user_id=user_a, report=read_csv_report(data, name="two.csv")
    )

    assert (result.rows, result.imported) == (3, 2)
    assert totals(admin, user_a) == (2, 160, 6, Decimal("13.50"), 0)


CAMPAIGNS = "Reporting starts,Reporting ends,Ad name,Campaign name,Amount spent (USD),Impressions,Link clicks,Placement\n"


def meta_import(store: Store, user: uuid.UUID, name: str, *lines: str) -> Any:
    """A Meta export of ``lines`` (start, end, ad name, campaign, spend, impressions, clicks,
    placement) imported as ``name``."""
    data = (CAMPAIGNS + "".join(f"{line}\n" for line in lines)).encode()
    return import_report(
        analytics=Analytics(store), user_id=user, report=read_csv_report(data, name=name)
    )


def test_exports_of_different_campaigns_for_one_period_add_up(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_creatives(store, user_a)
    meta_import(
        store,
        user_a,
        "spring.csv",
        "2024-05-01,2024-05-31,x_rf-0a1b2c3d4e5f,Spring,100.00,10000,100,",
    )

    retarget = meta_import(
        store, user_a, "retarget.csv",
        "2024-05-01,2024-05-31,x_rf-0a1b2c3d4e5f,Retarget,30.00,3000,60,",
    )  # fmt: skip

    assert (retarget.imported, retarget.updated) == (1, 0)
    assert totals(admin, user_a) == (2, 13000, 160, Decimal("130.00"), 0)
    keys = {r.ad_key for r in list_performance(analytics=Analytics(store), user_id=user_a)}
    assert keys == {"Spring | x_rf-0a1b2c3d4e5f", "Retarget | x_rf-0a1b2c3d4e5f"}
    creatives, rows = load_dataset(Analytics(store), user_a)
    assert build_report(creatives, rows, by="template").impressions == 13000


def test_an_import_that_overlaps_imported_days_of_the_same_ad_is_refused_whole(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_creatives(store, user_a)
    may = "2024-05-01,2024-05-31,x_rf-0a1b2c3d4e5f,Spring,100.00,10000,100,"
    meta_import(store, user_a, "may.csv", may)
    before = totals(admin, user_a)

    with pytest.raises(BadReport) as failure:
        meta_import(
            store, user_a, "may_first_half.csv",
            "2024-05-01,2024-05-31,x_rf-1b2c3d4e5f60,Spring,1.00,100,1,",
            "2024-05-01,2024-05-15,x_rf-0a1b2c3d4e5f,Spring,50.00,5000,50,",
        )  # fmt: skip

    assert failure.value.file == "may_first_half.csv" and failure.value.line == 3
    assert "rf-0a1b2c3d4e5f" in failure.value.message
    assert "2024-05-01..2024-05-31" in failure.value.message
    assert totals(admin, user_a) == before  # the other row of the file was not imported either
    # The same file again changes nothing; days not imported yet, and June's days, add up.
    assert meta_import(store, user_a, "may.csv", may).unchanged == 1
    daily = meta_import(
        store, user_a, "june.csv",
        "2024-06-01,2024-06-01,x_rf-0a1b2c3d4e5f,Spring,5.00,500,5,",
        "2024-06-02,2024-06-02,x_rf-0a1b2c3d4e5f,Spring,5.00,500,5,",
    )  # fmt: skip
    assert daily.imported == 2
    with pytest.raises(BadReport, match=r"june_total\.csv, line 2: .*2024-06-01\.\.2024-06-01"):
        meta_import(
            store, user_a, "june_total.csv",
            "2024-06-01,2024-06-30,x_rf-0a1b2c3d4e5f,Spring,9.00,900,9,",
        )  # fmt: skip
    assert totals(admin, user_a)[1] == 11000


def test_placements_of_one_ad_add_up_but_never_beside_the_same_ad_unsplit(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_creatives(store, user_a)
    meta_import(
        store, user_a, "placements.csv",
        "2024-05-01,2024-05-31,x_rf-0a1b2c3d4e5f,Spring,60.00,6000,60,Instagram Reels",
        "2024-05-01,2024-05-31,x_rf-0a1b2c3d4e5f,Spring,40.00,4000,40,Facebook Feed",
    )  # fmt: skip
    more = meta_import(
        store, user_a, "stories.csv",
        "2024-05-01,2024-05-31,x_rf-0a1b2c3d4e5f,Spring,10.00,1000,10,Instagram Stories",
    )  # fmt: skip
    assert more.imported == 1

    with pytest.raises(BadReport, match=r"unsplit\.csv, line 2: .*all placements"):
        meta_import(
            store, user_a, "unsplit.csv",
            "2024-05-01,2024-05-31,x_rf-0a1b2c3d4e5f,Spring,110.00,11000,110,",
        )  # fmt: skip

    assert totals(admin, user_a)[:2] == (3, 11000)


def test_one_source_per_platform_a_csv_is_refused_over_api_rows(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_creatives(store, user_a)
    page = {
        "data": [
            {
                "ad_id": "120210000000001",
                "ad_name": "x_rf-0a1b2c3d4e5f",
                "account_currency": "USD",
                "impressions": "10000",
                "spend": "100.00",
                "date_start": "2024-05-01",
                "date_stop": "2024-05-31",
            }
        ]
    }
    api = MetaInsightsApi(
        object_id="act_1",
        access_token="t",
        since=date(2024, 5, 1),
        until=date(2024, 5, 31),
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json=page)),
        breaker=CircuitBreaker("test"),
    )
    import_report(analytics=Analytics(store), user_id=user_a, report=api.fetch())

    with pytest.raises(BadReport) as failure:
        meta_import(
            store, user_a, "may.csv", "2024-05-10,2024-05-10,x_rf-0a1b2c3d4e5f,Spring,5.00,500,5,"
        )

    assert failure.value.message == (
        "may.csv, line 2: import one source per platform: creative rf-0a1b2c3d4e5f already has "
        "Meta API rows for 2024-05-01..2024-05-31"
    )
    # Another creative, or the same one on Google, or other days, are fine.
    assert (
        meta_import(
            store, user_a, "june.csv", "2024-06-01,2024-06-30,x_rf-0a1b2c3d4e5f,Spring,5.00,500,5,"
        ).imported
        == 1
    )
    google = (
        b'Ad report\n"May 1, 2024 - May 31, 2024"\nAd name,Currency code,Impr.,Clicks,Cost\n'
        b"x_rf-0a1b2c3d4e5f,USD,700,7,7.00\n"
    )
    assert imported_bytes(store, user_a, google, "google.csv").imported == 1
    assert totals(admin, user_a)[:2] == (3, 11200)


def test_the_same_ad_in_another_currency_is_refused_not_overwritten(
    store: Store, admin: Admin, user_a: uuid.UUID
) -> None:
    seed_creatives(store, user_a)
    meta_import(
        store, user_a, "usd.csv", "2024-05-01,2024-05-31,x_rf-0a1b2c3d4e5f,Spring,100.00,10000,100,"
    )
    euro = (
        CAMPAIGNS.replace("(USD)", "(EUR)")
        + "2024-05-01,2024-05-31,x_rf-0a1b2c3d4e5f,Spring,90.00,9000,90,\n"
    ).encode()

    with pytest.raises(BadReport, match=r"in USD, and this one is in EUR"):
        import_report(
            analytics=Analytics(store), user_id=user_a, report=read_csv_report(euro, name="eur.csv")
        )

    assert totals(admin, user_a)[:2] == (1, 10000)


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
        import_report(analytics=Analytics(store), user_id=user_a, report=report)

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
    assert list_performance(analytics=Analytics(store), user_id=user_b) == []
    assert Analytics(store).creatives(user_id=user_b) == []
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
        Analytics(store).record_creatives(
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

    first = import_report(analytics=Analytics(store), user_id=user_a, report=source.fetch())
    second = import_report(analytics=Analytics(store), user_id=user_a, report=source.fetch())

    assert (first.source, first.imported, second.unchanged) == ("meta_api", 1, 1)


def test_the_worker_records_each_outputs_creative(
    store: Store, admin: Admin, user_a: uuid.UUID, tmp_path: Path
) -> None:
    Credits(store).adjust(user_id=user_a, amount=1000, reason="grant", idempotency_key="g")
    uploads = tmp_path / "media" / str(user_a) / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "coffee.png").write_bytes((PHOTOS / "coffee.png").read_bytes())
    brief = copy.deepcopy(BASE_BRIEF)
    brief["product"]["photos"] = ["uploads/coffee.png"]
    job = Jobs(store).enqueue(
        user_id=user_a,
        kind="render",
        payload={"brief": brief, "formats": ["9x16"], "preview": True},
    )
    claimed = Jobs(store).claim(worker="w1", lease_seconds=30)
    assert claimed is not None

    settings = Settings(
        store=StoreSettings(home=tmp_path / "home"), media_root=tmp_path / "media"
    )
    context = JobContext(
        repos=Repositories.postgres(store), settings=settings, blobs=blob_store(settings),
        worker="w1", lease_seconds=30, ports=lambda request, runtime: Ports(voice=FakeVoice()),
    )  # fmt: skip
    done = run_job(context, claimed)

    assert done.state == JobState.DELIVERED, done.error
    (creative,) = Analytics(store).creatives(user_id=user_a)
    assert creative.job_id == job.id and creative.format == "9x16"
    manifest = Manifest.model_validate_json(
        (tmp_path / "media" / str(user_a) / str(job.id) / "manifest.json").read_text()
    )
    written = manifest.outputs[0].creative
    assert written is not None
    assert (
        creative.model_dump(exclude={"job_id", "project_id", "created_at"}) == written.model_dump()
    )
    assert written.creative_id == creative_id(manifest.brief_hash, manifest.script_hash, "9x16")
