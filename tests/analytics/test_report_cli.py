"""``reelforge analytics report | recommend | costs`` as a user meets them: tables, JSON, charts,
exit codes and one-line errors; once against a real database."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from pipeline.analytics.cost import AssetCost, CostReport
from pipeline.analytics.plot import HEIGHT_PX, WIDTH_PX
from pipeline.analytics.recommend import Recommendation
from pipeline.analytics.report import Report
from pipeline.cli import app
from pipeline.cli import report as report_commands
from pipeline.store import Store
from tests.analytics.seed import insert_creatives, insert_job, insert_rows
from tests.analytics.synthetic import Dataset, generate, lucky_hook
from tests.store.conftest import *  # noqa: F403  (the embedded PostgreSQL fixtures)

DATA = generate()


@pytest.fixture
def fake_store(monkeypatch: pytest.MonkeyPatch) -> Dataset:
    """The commands read the synthetic dataset instead of a database."""
    monkeypatch.setattr(
        report_commands, "_dataset", lambda settings, user: (list(DATA.creatives), list(DATA.rows))
    )
    costs = [
        AssetCost(
            creative_id=c.creative_id,
            template=c.template,
            job_id=None,
            job_credits=120,
            duration_s=c.duration_s,
            job_durations=(c.duration_s,),
        )
        for c in DATA.creatives
    ]
    monkeypatch.setattr(
        report_commands, "_cost_inputs", lambda settings, user: (costs, list(DATA.rows))
    )
    return DATA


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["analytics", *args])
    return result.exit_code, result.stdout, result.stderr


def test_report_prints_a_ranked_table_with_the_thin_template_flagged(fake_store: Dataset) -> None:
    code, out, err = run("report", "--by", "template")
    assert code == 0, err
    assert "template · ranked by median CTR · USD" in out
    for column in ("CTR", "CPC", "CPM", "hook rate", "thruplay rate", "ROAS", "CTR vs rest"):
        assert column in out
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if "before_after" in line)
    last = next(i for i, line in enumerate(lines) if "unboxing" in line)
    assert first < last
    assert "thin: 2,804 impressions" in lines[last]
    assert "thin (not ranked): fewer than 5 creatives" in out


def test_report_without_by_shows_every_attribute(fake_store: Dataset) -> None:
    code, out, _ = run("report")
    assert code == 0
    for title in ("template ·", "duration bucket ·", "palette colour ·", "voice ·", "format ·"):
        assert title in out


def test_report_json_is_the_report(fake_store: Dataset) -> None:
    code, out, _ = run("report", "--by", "duration_bucket", "--metric", "roas", "--json")
    assert code == 0
    report = Report.model_validate_json(out)
    assert report.by == "duration_bucket" and report.metric == "roas"
    assert {g.value for g in report.section("duration_bucket").groups} == {"<15s", "15-30s", "30s+"}


def test_report_writes_the_chart(fake_store: Dataset, tmp_path: Path) -> None:
    target = tmp_path / "ctr.png"
    code, _, err = run("report", "--plot", str(target))
    assert code == 0, err
    assert f"chart: {target}" in err
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == (WIDTH_PX, HEIGHT_PX)


def test_a_chart_into_a_missing_folder_is_refused(fake_store: Dataset, tmp_path: Path) -> None:
    code, out, err = run("report", "--plot", str(tmp_path / "nope" / "ctr.png"))
    assert code == 2
    assert "error: --plot: folder not found" in err
    assert out == ""


def test_mixed_currencies_exit_2_and_say_which(
    fake_store: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    euro = generate(seed=9, currency="EUR")
    rows = [*DATA.rows, *euro.rows]
    creatives = [*DATA.creatives, *euro.creatives]
    monkeypatch.setattr(report_commands, "_dataset", lambda settings, user: (creatives, rows))
    code, _, err = run("report", "--by", "template")
    assert code == 2
    assert "currency: the rows are in EUR, USD" in err
    code, out, _ = run("report", "--by", "template", "--currency", "EUR", "--json")
    assert code == 0 and Report.model_validate_json(out).currency == "EUR"


@pytest.mark.parametrize("command", ["report", "recommend", "costs"])
def test_currency_is_taken_in_any_case_and_a_bad_one_named(
    fake_store: Dataset, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    euro = generate(seed=9, currency="EUR")
    monkeypatch.setattr(
        report_commands,
        "_dataset",
        lambda settings, user: ([*DATA.creatives, *euro.creatives], [*DATA.rows, *euro.rows]),
    )
    extra = ["--variants", "4"] if command == "recommend" else []

    code, out, err = run(command, *extra, "--currency", "usd", "--json")

    assert code == 0, err
    if command == "report":
        assert Report.model_validate_json(out).currency == "USD"
    for bad in ("us", "usd1", "€"):
        code, out, err = run(command, *extra, "--currency", bad)
        assert (code, out) == (2, "")
        assert err.startswith(f"error: --currency: {bad!r} is not a currency code")


def test_the_table_shows_the_ranked_metrics_own_creatives_and_impressions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = lucky_hook()
    monkeypatch.setattr(
        report_commands, "_dataset", lambda settings, user: (data.creatives, data.rows)
    )

    code, out, err = run("report", "--by", "template", "--metric", "hook_rate")

    assert code == 0, err
    lucky = next(i for i, line in enumerate(out.splitlines()) if "tpl_a" in line)
    block = "\n".join(out.splitlines()[lucky : lucky + 3])
    assert "1/6" in block and "12,000" in block and "2,000 for hook rate" in block
    assert "thin: 1 creative measured for" in block


def test_an_unknown_attribute_is_a_usage_error(fake_store: Dataset) -> None:
    code, _, err = run("report", "--by", "colourway")
    assert code == 2
    assert "--by" in err


def test_recommend_prints_one_line_per_template_and_the_mix(fake_store: Dataset) -> None:
    code, out, err = run("recommend", "--variants", "10")
    assert code == 0, err
    assert "Template mix for 10 variants, by CTR:" in out
    assert "before_after: " in out and "highest median CTR" in out
    assert "unboxing: 1 of 10 — exploring" in out
    assert "mix: before_after, before_after" in out
    code, out, _ = run("recommend", "--variants", "4", "--json", "--all-templates")
    rec = Recommendation.model_validate_json(out)
    assert rec.variants == 4 and len(rec.mix()) == 4
    assert {"ugc_hook", "testimonial"} <= {t.template for t in rec.templates}


def test_costs_prints_a_table_per_template(fake_store: Dataset) -> None:
    code, out, err = run("costs")
    assert code == 0, err
    assert "Cost and return per asset · USD · a credit is 0.01 USD" in out
    assert "before_after" in out and "all" in out
    code, out, _ = run("costs", "--json")
    costs = CostReport.model_validate_json(out)
    assert costs.total.assets == len(DATA.creatives)
    assert costs.total.production_cost == Decimal("1.20") * len(DATA.creatives)


def test_without_a_database_the_commands_say_so(tmp_path: Path) -> None:
    code, _, err = run("report")
    assert code == 2
    assert "no database yet" in err


@pytest.mark.integration
def test_report_and_costs_read_the_users_data_from_the_database(
    store: Store, db_uri: str, user_a: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = insert_job(store, user_a, {DATA.creatives[0].format: 12.0}, hold=200, settled=130)
    insert_creatives(store, user_a, DATA.creatives, jobs={DATA.creatives[0].creative_id: job})
    insert_rows(store, user_a, DATA.rows)
    monkeypatch.setenv("DATABASE_URL", db_uri)

    code, out, err = run("report", "--by", "template", "--json", "--user", str(user_a))
    assert code == 0, err
    report = Report.model_validate_json(out)
    assert report.creatives == len(DATA.creatives)
    assert report.section("template").ranked[0].value == "before_after"
    assert report.spend == sum((r.spend for r in DATA.rows), Decimal(0))

    code, out, err = run("costs", "--json", "--user", str(user_a))
    assert code == 0, err
    costs = json.loads(out)
    assert costs["total"]["costed"] == 1 and costs["total"]["credits"] == "130.00"

    code, _, err = run("report", "--user", "someone@example.com")
    assert code == 2 and "--user" in err
