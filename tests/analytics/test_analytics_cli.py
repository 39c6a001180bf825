"""``reelforge render --record`` records creatives; ``reelforge analytics import`` joins a report to
them (idempotently); bad files exit 2 with one line naming file, line and column."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.conftest import BASE_BRIEF, PHOTOS
from tests.store.conftest import *  # noqa: F403

pytestmark = pytest.mark.integration

Admin = psycopg.Connection[tuple[object, ...]]
HEADER = "Reporting starts,Reporting ends,Ad name,Amount spent (USD),Impressions,Link clicks"


def reelforge(*args: str, db_uri: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
        env={**os.environ, "COLUMNS": "200", "DATABASE_URL": db_uri},
    )  # fmt: skip


def test_render_records_creatives_and_a_report_joins_them_once(
    db_uri: str, admin: Admin, user_a: uuid.UUID, tmp_path: Path
) -> None:
    brief = copy.deepcopy(BASE_BRIEF)
    brief["product"]["photos"] = [str(PHOTOS / "coffee.png")]
    (tmp_path / "brief.json").write_text(json.dumps(brief))
    rendered = reelforge(
        "render", str(tmp_path / "brief.json"), "--out", str(tmp_path / "out"), "--preview",
        "--user", str(user_a), db_uri=db_uri,
    )  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    manifest = json.loads((tmp_path / "out" / "AUR-ESP-01" / "manifest.json").read_text())
    cid = manifest["outputs"][0]["creative"]["creative_id"]
    recorded = admin.execute(
        "select c.creative_id, c.format, j.state from public.creatives c"
        " join public.jobs j on j.id = c.job_id and j.project_id = c.project_id"
        " where c.user_id = %s",
        (user_a,),
    ).fetchall()
    assert recorded == [(cid, "9x16", "delivered")]

    listed = reelforge("analytics", "creatives", "--user", str(user_a), db_uri=db_uri)
    assert listed.returncode == 0, listed.stderr
    assert cid in listed.stdout and manifest["outputs"][0]["creative"]["ad_name"] in listed.stdout

    report = tmp_path / "may.csv"
    report.write_text(
        f"{HEADER}\n"
        f'2024-05-01,2024-05-31,{manifest["outputs"][0]["creative"]["ad_name"]},"1,200.00","90,000",900\n'
        "2024-05-01,2024-05-31,Someone else's ad,3.00,300,3\n"
    )
    first = reelforge("analytics", "import", str(report), "--user", str(user_a), db_uri=db_uri)
    again = reelforge("analytics", "import", str(report), "--user", str(user_a), db_uri=db_uri)

    assert first.returncode == 0, first.stderr
    assert "2 rows from meta_csv: imported 1, updated 0, unchanged 0, unmatched 1" in first.stdout
    assert "3  Someone else's ad" in first.stdout  # the unmatched row, by line
    assert "imported 0, updated 0, unchanged 1, unmatched 1" in again.stdout
    assert admin.execute(
        "select creative_id, impressions, spend::text from public.ad_performance"
    ).fetchall() == [(cid, 90000, "1200.00")]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (f"{HEADER}\n2024-05-01,2024-05-31,A,1.00,lots,1\n", (), 'bad.csv, line 2, column "Impressions": \'lots\' is not a number'),
        ("Date,Views\n2024-05-01,1\n", (), "bad.csv, line 1: unknown report source"),
        ("Reporting starts,Ad name\n2024-05-01,A\n", (), 'bad.csv, line 1, column "Amount spent": required column is missing'),
        (f"{HEADER}\n", ("--source", "tiktok"), "--source: must be one of auto, meta, google"),
    ],
    ids=["non-numeric", "unknown source", "missing column", "unknown --source"],
)  # fmt: skip
def test_a_bad_report_exits_2_with_one_line_and_imports_nothing(
    db_uri: str,
    admin: Admin,
    user_a: uuid.UUID,
    tmp_path: Path,
    content: str,
    args: tuple[str, ...],
    message: str,
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)

    result = reelforge("analytics", "import", str(bad), "--user", str(user_a), *args, db_uri=db_uri)

    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {message}")
    assert admin.execute("select count(*) from public.analytics_imports").fetchone() == (0,)


def test_a_missing_file_exits_2(db_uri: str, tmp_path: Path) -> None:
    result = reelforge("analytics", "import", str(tmp_path / "nope.csv"), db_uri=db_uri)

    assert result.returncode == 2 and "nope.csv: file not found" in result.stderr


def test_a_user_that_is_not_an_id_exits_2_with_a_database_url(db_uri: str, tmp_path: Path) -> None:
    report = tmp_path / "r.csv"
    report.write_text(f"{HEADER}\n2024-05-01,2024-05-31,A,1.00,1,1\n")

    result = reelforge("analytics", "import", str(report), "--user", "me@x.test", db_uri=db_uri)

    assert result.returncode == 2 and "--user: with DATABASE_URL" in result.stderr


def test_a_bad_account_currency_exits_2_naming_the_option(db_uri: str, tmp_path: Path) -> None:
    report = tmp_path / "g.csv"
    report.write_text(
        'Ad report\n"May 1, 2024 - May 31, 2024"\nAd name,Impr.,Clicks,Cost\nA,1,1,1.00\n'
    )

    result = reelforge("analytics", "import", str(report), "--currency", "us", db_uri=db_uri)

    assert result.returncode == 2
    assert result.stderr.startswith("error: --currency: 'us' is not a currency code")
