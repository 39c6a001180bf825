"""A brief that asks for N variants: the template mix (recommended from performance data, or the
brief's own), one script option per repeat, and one render folder and creative id per variant."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipeline.brief import Brief, parse_brief
from pipeline.cli import app
from pipeline.errors import BriefError
from pipeline.variants import fitting_templates, plan_variants, variant_brief
from tests.analytics.synthetic import generate
from tests.conftest import BASE_BRIEF, PHOTOS


def _brief(**extra: Any) -> Brief:
    data = copy.deepcopy(BASE_BRIEF)
    data["product"]["photos"] = [str(PHOTOS / "coffee.png")]
    data.update(extra)
    return parse_brief(data, base_dir=Path.cwd())


def test_repeats_of_a_template_take_the_next_script_option() -> None:
    brief = _brief(options=2)
    plans = plan_variants(
        brief, ["before_after", "product_showcase", "before_after", "before_after"]
    )
    assert [(p.template, p.option, p.options) for p in plans] == [
        ("before_after", 1, 3), ("product_showcase", 1, 2), ("before_after", 2, 3), ("before_after", 3, 3),
    ]  # fmt: skip
    assert plans[2].folder == "v03-before_after"
    variant = variant_brief(brief, plans[3])
    # a third before_after needs a third script: its brief writes three options
    assert (variant.template, variant.options, variant.variants) == ("before_after", 3, None)
    with pytest.raises(BriefError, match="would make 9 variants"):
        plan_variants(brief, ["before_after"] * 9)


def test_only_templates_that_fit_the_length_are_offered() -> None:
    brief = _brief(duration=8)
    fitting = fitting_templates(brief)
    assert "before_after" in fitting and "lifestyle_story" not in fitting  # 12 s at least
    with pytest.raises(BriefError, match="'lifestyle_story' does not fit a 8 s ad"):
        plan_variants(brief, ["lifestyle_story"])
    with pytest.raises(BriefError, match="template"):
        plan_variants(brief, ["no_such_template"])


def test_the_brief_validates_its_batch() -> None:
    assert _brief(variants={"count": 3}).variants is not None
    with pytest.raises(BriefError, match=r"variants\.count"):
        _brief(variants={"count": 0})
    with pytest.raises(BriefError, match=r"variants\.mix"):
        _brief(variants={"count": 2, "mix": "random"})


@pytest.mark.integration
def test_render_takes_the_recommended_mix(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    write_brief: Callable[[dict[str, Any]], Path],
    brief_data: dict[str, Any],
) -> None:
    data = generate()  # before_after clearly ahead of product_showcase
    monkeypatch.setattr(
        "pipeline.cli.report._dataset",
        lambda settings, user: (list(data.creatives), list(data.rows)),
    )
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused.invalid/db")  # "a database exists"
    brief_data["variants"] = {"count": 3, "mix": "recommended"}
    path = write_brief(brief_data)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["render", str(path), "--out", str(out), "--preview", "--no-record"]
    )
    assert result.exit_code == 0, result.output
    assert "Template mix for 3 variants" in result.output
    folders = sorted(p.name for p in out.iterdir())
    manifests = {
        f: json.loads((out / f / "AUR-ESP-01" / "manifest.json").read_text()) for f in folders
    }
    templates = [m["template"] for m in manifests.values()]
    # the data's winner takes the exploit slots, each with its own script option ...
    assert templates.count("before_after") == 2
    assert sorted(
        m["chosen_option"] for m in manifests.values() if m["template"] == "before_after"
    ) == [1, 2]
    # ... and one slot explores a template with no data yet that fits an 8 s ad
    [explored] = [t for t in templates if t != "before_after"]
    assert explored not in {c.template for c in data.creatives} and explored in fitting_templates(
        _brief()
    )
    ids = {m["outputs"][0]["creative"]["creative_id"] for m in manifests.values()}
    assert len(ids) == 3  # three different ads, three creative ids


def test_a_job_renders_one_ad_not_a_batch(tmp_path: Path) -> None:
    from pipeline.errors import BadInput
    from pipeline.render import RenderRequest

    data = copy.deepcopy(BASE_BRIEF)
    data["product"]["photos"] = [str(PHOTOS / "coffee.png")]
    data["variants"] = {"count": 2}
    with pytest.raises(BadInput) as info:
        RenderRequest.from_payload({"brief": data}, base_dir=PHOTOS)
    assert info.value.where == "payload.brief.variants"
    assert "one job per variant" in info.value.problem


def test_a_batch_does_not_take_one_option_for_every_variant(
    write_brief: Callable[[dict[str, Any]], Path], brief_data: dict[str, Any], tmp_path: Path
) -> None:
    brief_data["variants"] = {"count": 2}
    result = CliRunner().invoke(
        app, ["render", str(write_brief(brief_data)), "--out", str(tmp_path / "o"), "--option", "2"]
    )
    assert result.exit_code == 2
    assert "--option: a batch renders each variant's own script option" in result.output
    assert not (tmp_path / "o").exists()
