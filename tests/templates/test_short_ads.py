"""Ads at the documented minimum of 6 s: every template that claims it renders a 6 s ad, and a
brief that cannot fit its template is refused when its scripts are written, naming the field."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.brief import Brief, load_brief
from pipeline.errors import BriefError
from pipeline.media.probe import probe
from pipeline.palette import FakePalette
from pipeline.script import OfflineScriptWriter, check_fit
from pipeline.templates import Template, get_template, load_templates
from pipeline.voice import EspeakVoice
from pipeline.voiceover import speak_script

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(ROOT.glob("examples/*/brief.*"))
SIX_SECONDS = [t for t in load_templates().values() if t.min_duration == 6]


def _at(example: Path, template: Template, duration: float, **voice: object) -> Brief:
    brief = load_brief(example)
    data = brief.model_dump(mode="json") | {"template": template.name, "duration": duration}
    data["voice"] = data["voice"] | voice
    return Brief.model_validate(data)


def _refusal(brief: Brief, template: Template) -> BriefError | None:
    try:
        check_fit(brief, template)
    except BriefError as exc:
        return exc
    return None


def test_the_templates_claiming_six_seconds_are_the_ones_checked() -> None:
    assert {t.name for t in SIX_SECONDS} >= {"product_showcase", "features_highlight"}
    assert len(EXAMPLES) >= 3


@pytest.mark.integration
@pytest.mark.parametrize("rate", [None, 80], ids=["default-rate", "slowest-rate"])
@pytest.mark.parametrize("template", SIX_SECONDS, ids=lambda t: t.name)
def test_every_option_of_a_six_second_ad_is_spoken_within_its_scenes(
    template: Template, rate: int | None, tmp_path: Path
) -> None:
    """The voice stage (real eSpeak NG, sped up as far as it goes) fits every line the writer
    wrote for every example brief at 6 s; a brief whose facts do not fit is refused by
    ``check_fit``, as project creation refuses it, instead."""
    spoken = 0
    for example in EXAMPLES:
        brief = _at(example, template, 6, **({"rate": rate} if rate else {}))
        refused = _refusal(brief, template)
        if refused is not None:
            assert refused.where.startswith("product."), refused
            continue
        palette = FakePalette().extract([], locale=brief.brand.locale)
        for script in OfflineScriptWriter().write(brief, template, palette, n=3):
            starts = [0.0, *itertools.accumulate(s.duration for s in script.scenes)][:-1]
            work = tmp_path / f"{example.parent.name}-{script.option}"
            work.mkdir()
            lines = speak_script(EspeakVoice(), script, starts, brief, work)
            # At the default rate the end card's call to action at least is spoken; the
            # slowest voice may leave a 6 s ad silent rather than rushed.
            assert lines or rate is not None, "not even the call to action is spoken"
            spoken += 1
    assert spoken >= 3


@pytest.mark.integration
@pytest.mark.parametrize("template", SIX_SECONDS, ids=lambda t: t.name)
def test_a_six_second_preview_renders(template: Template, tmp_path: Path) -> None:
    """``reelforge render --preview`` of the espresso example at 6 s (option 1: its first
    feature, "Double-walled porcelain", once needed 0.88 s where the scene left 0.85 s)."""
    data = yaml.safe_load((ROOT / "examples/espresso/brief.yaml").read_text())
    data |= {"template": template.name, "duration": 6, "formats": ["9x16"]}
    data["product"]["photos"] = [str(ROOT / "examples/photos/coffee.png")]
    brief = tmp_path / "brief.yaml"
    brief.write_text(yaml.safe_dump(data))
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "render", str(brief), "--out", str(tmp_path / "out"),
         "--preview", "--option", "1"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    video = probe(tmp_path / "out" / "AUR-ESP-01" / "9x16.mp4")
    assert video.duration == pytest.approx(6.0, abs=0.1)


@pytest.mark.parametrize(
    ("name", "duration", "field", "words"),
    [
        ("comparison", 6, "duration", "too short for template 'comparison'"),
        ("comparison", 9.5, "duration", "takes 10-45 s"),
        ("offer_countdown", 31, "duration", "takes 6-30 s"),
    ],
)
def test_a_duration_outside_the_template_is_refused_naming_duration(
    name: str, duration: float, field: str, words: str
) -> None:
    template = get_template(name)
    brief = _at(EXAMPLES[0], template, duration)
    with pytest.raises(BriefError) as refused:
        check_fit(brief, template)
    assert refused.value.where == field and words in refused.value.problem
