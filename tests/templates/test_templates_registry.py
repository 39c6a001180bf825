"""The packaged templates: all load, have the required structure, and really differ."""

from __future__ import annotations

import pytest

from pipeline.errors import BriefError, StageError
from pipeline.templates import LANGUAGES, Template, get_template, load_templates, parse_template

REQUIRED = {
    "product_showcase",
    "before_after",
    "features_highlight",
    "lifestyle_story",
    "problem_solution",
    "testimonial",
    "unboxing",
    "offer_countdown",
    "how_to",
    "comparison",
    "listicle",
    "ugc_hook",
}

TEMPLATES = list(load_templates().values())


def test_required_templates_exist() -> None:
    assert set(load_templates()) >= REQUIRED


def test_load_is_cached() -> None:
    assert load_templates() is load_templates()


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_structure(template: Template) -> None:
    assert template.slots[0].role == "hook"
    assert template.slots[-1].kind == "end_card"
    assert all(slot.weight > 0 for slot in template.slots)
    assert 1 <= template.caption_style.max_words <= 4
    assert 0.2 <= template.pacing.transition_seconds <= 0.6
    assert set(LANGUAGES) <= set(template.cta)
    assert template.minimum_seconds() <= template.min_duration <= template.max_duration


def test_templates_differ() -> None:
    sequences = [tuple((s.kind, s.role) for s in t.slots) for t in TEMPLATES]
    assert len(set(sequences)) == len(sequences)
    looks = [(t.pacing.transition, t.pacing.motion, t.caption_style) for t in TEMPLATES]
    assert len(set(looks)) == len(looks)


def test_character_of_key_templates() -> None:
    ugc = get_template("ugc_hook")
    assert ugc.caption_style.uppercase
    assert ugc.caption_style.max_words <= 2
    assert ugc.pacing.motion == "dynamic"
    story = get_template("lifestyle_story")
    assert story.pacing.transition == "dissolve"
    assert story.pacing.motion == "gentle"
    assert story.caption_style.max_words == 4
    offer = get_template("offer_countdown")
    assert offer.angles[0] == "price-led"
    assert any(slot.role == "offer" for slot in offer.slots)


def test_unknown_template_names_field_and_known() -> None:
    with pytest.raises(BriefError) as info:
        get_template("nope")
    assert info.value.where == "template"
    assert "unknown template 'nope'" in info.value.problem
    for name in REQUIRED:
        assert name in info.value.problem


def _yaml(extra: str = "", slots: str = "") -> str:
    slots = slots or (
        "  - {name: hook, kind: photo, role: hook, weight: 1, max_chars: 30}\n"
        "  - {name: end, kind: end_card, role: cta, weight: 1, max_chars: 30}\n"
    )
    return (
        "name: mini\ntitle: Mini\ndescription: A test.\nslots:\n" + slots + "pacing: "
        "{transition: fade, transition_seconds: 0.3, motion: gentle, min_scene_seconds: 1.0}\n"
        "caption_style: {name: c, max_words: 2, uppercase: false, scale: 1.0, position: lower}\n"
        "cta: {en: Shop now, it: Acquista ora}\nmin_duration: 6\nmax_duration: 30\n" + extra
    )


def test_parse_minimal_template() -> None:
    template = parse_template(_yaml(), source="mini.yaml")
    assert template.name == "mini"
    assert template.angle_order()[0] == "benefit-led"


def test_unknown_key_is_an_error() -> None:
    with pytest.raises(StageError, match=r"mini\.yaml: colour"):
        parse_template(_yaml("colour: red\n"), source="mini.yaml")


def test_bad_transition_is_an_error() -> None:
    with pytest.raises(StageError, match="transition"):
        parse_template(_yaml().replace("fade,", "zoomin,"), source="mini.yaml")


@pytest.mark.parametrize(
    ("slots", "problem"),
    [
        (
            "  - {name: a, kind: photo, role: feature, weight: 1, max_chars: 30}\n"
            "  - {name: end, kind: end_card, role: cta, weight: 1, max_chars: 30}\n",
            "hook",
        ),
        (
            "  - {name: hook, kind: photo, role: hook, weight: 1, max_chars: 30}\n"
            "  - {name: b, kind: photo, role: benefit, weight: 1, max_chars: 30}\n",
            "end_card",
        ),
        (
            "  - {name: hook, kind: photo, role: hook, weight: 0, max_chars: 30}\n"
            "  - {name: end, kind: end_card, role: cta, weight: 1, max_chars: 30}\n",
            "weight",
        ),
    ],
)
def test_structure_errors(slots: str, problem: str) -> None:
    with pytest.raises(StageError, match=problem):
        parse_template(_yaml(slots=slots), source="mini.yaml")
