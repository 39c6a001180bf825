"""The bundled example briefs stay valid: `reelforge demo` and the README commands depend on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.brief import load_brief
from pipeline.palette import FakePalette
from pipeline.script import OfflineScriptWriter
from pipeline.templates.registry import get_template

ROOT = Path(__file__).resolve().parent.parent
BRIEFS = sorted([*ROOT.glob("examples/*/brief.*"), ROOT / "bench" / "brief.yaml"])


@pytest.mark.parametrize("path", BRIEFS, ids=[str(p.relative_to(ROOT)) for p in BRIEFS])
def test_example_brief_loads_and_scripts(path: Path) -> None:
    brief = load_brief(path)
    template = get_template(brief.template)
    palette = FakePalette().extract([], locale=brief.brand.locale)
    scripts = OfflineScriptWriter().write(brief, template, palette, n=brief.options)
    assert len(scripts) == brief.options
    assert abs(scripts[0].duration - brief.duration) < 0.01


def test_examples_cover_english_and_italian() -> None:
    languages = {load_brief(p).brand.language for p in BRIEFS}
    assert {"en", "it"} <= languages


def test_bench_ad_has_five_scenes() -> None:
    brief = load_brief(ROOT / "bench" / "brief.yaml")
    script = OfflineScriptWriter().write(
        brief, get_template(brief.template), FakePalette().extract([], locale="en"), n=1
    )[0]
    assert len(script.scenes) == 5 and brief.duration == 30


def test_photos_keep_their_attribution() -> None:
    sources = (ROOT / "examples" / "photos" / "SOURCES.md").read_text()
    for photo in (ROOT / "examples" / "photos").glob("*.png"):
        assert photo.name in sources
