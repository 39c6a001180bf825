"""The offline writer across every template, language and a range of durations."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from script_fixtures import BriefFactory, make_palette

from pipeline.errors import BriefError
from pipeline.palette.model import Palette
from pipeline.script import (
    FakeScriptWriter,
    OfflineScriptWriter,
    SceneKind,
    Script,
    ScriptWriter,
    feature_forms,
    format_price,
    script_json_schema,
    spoken_words,
    word_budget,
)
from pipeline.templates import get_template, load_templates

DURATIONS = (6, 15, 30, 60)
CASES = [
    (name, locale, duration)
    for name, template in load_templates().items()
    for locale in ("en", "it-IT")
    for duration in DURATIONS
    if template.min_duration <= duration <= template.max_duration
]
ITALIAN_WORDS = {"ecco", "per", "di", "con", "il", "la", "che", "più", "ora", "non", "è", "a"}


def _write(brief_factory: BriefFactory, name: str, locale: str, duration: float, n: int = 3):
    brief = brief_factory(locale=locale, template=name, duration=duration, options=n)
    template = get_template(name)
    scripts = OfflineScriptWriter().write(brief, template, make_palette(locale), n=n)
    return brief, template, scripts


@pytest.mark.parametrize(("name", "locale", "duration"), CASES)
def test_scripts_are_valid(make_brief: BriefFactory, name: str, locale: str, duration: int) -> None:
    brief, template, scripts = _write(make_brief, name, locale, duration)
    lang = locale[:2]
    limits = {slot.name: slot.max_chars for slot in template.slots}
    assert [s.option for s in scripts] == [1, 2, 3]
    assert len({s.angle for s in scripts}) == 3
    assert len({s.hook for s in scripts}) == 3
    signatures = {tuple((c.on_screen_text, c.voiceover) for c in s.scenes) for s in scripts}
    assert len(signatures) == 3
    for script in scripts:
        Script.model_validate(script.model_dump())  # round-trips through its own validation
        assert script.template == name
        assert script.locale == locale
        assert script.duration == duration
        assert sum(round(c.duration * 100) for c in script.scenes) == duration * 100
        assert script.scenes[0].slot == template.slots[0].name
        assert script.scenes[-1].kind is SceneKind.END_CARD
        assert script.scenes[-1].voiceover == script.cta
        assert script.hook == script.scenes[0].on_screen_text
        assert len(script.scenes) >= len(template.slots)
        for scene in script.scenes:
            assert len(scene.on_screen_text) <= limits[scene.slot], scene
            assert scene.on_screen_text
            assert len(scene.voiceover.split()) <= spoken_words(scene.voiceover)
            assert spoken_words(scene.voiceover) <= word_budget(scene.duration, lang), scene
            assert scene.duration >= template.pacing.min_scene_seconds - 0.01
            if scene.kind is SceneKind.PHOTO:
                assert scene.photo is not None
                assert 0 <= scene.photo < len(brief.product.photos)
            else:
                assert scene.photo is None
        texts = [script.hook, script.cta] + [
            f"{c.on_screen_text} {c.voiceover} {c.visual}" for c in script.scenes
        ]
        assert not any("{" in text or "}" in text for text in texts)  # every placeholder filled


@pytest.mark.parametrize(("name", "locale", "duration"), CASES)
def test_deterministic(make_brief: BriefFactory, name: str, locale: str, duration: int) -> None:
    first = _write(make_brief, name, locale, duration)[2]
    again = _write(make_brief, name, locale, duration)[2]
    assert first == again


@pytest.mark.parametrize("name", sorted(load_templates()))
def test_italian_is_italian(make_brief: BriefFactory, name: str) -> None:
    template = get_template(name)
    duration = max(15, template.min_duration)
    _, _, scripts = _write(make_brief, name, "it-IT", duration, n=6)
    for script in scripts:
        assert script.cta in (template.cta["it"], "Acquista ora")
        words = {
            w.strip(".,:?!").lower()
            for scene in script.scenes
            for w in f"{scene.on_screen_text} {scene.voiceover}".split()
        }
        assert words & ITALIAN_WORDS, script
        text = script.model_dump_json()
        assert "€24.90" not in text
        for english in ("Meet ", "Shop now", "reasons", "Step "):
            assert english not in text
    assert any("24,90 €" in s.model_dump_json() for s in scripts)


def test_price_led_option_shows_price(make_brief: BriefFactory) -> None:
    for locale, price in (("en", "€24.90"), ("it", "24,90 €")):
        _, _, scripts = _write(make_brief, "product_showcase", locale, 15, n=4)
        led = next(s for s in scripts if s.angle == "price-led")
        assert price in led.hook


def test_eight_options_distinct_and_angles_rotate(make_brief: BriefFactory) -> None:
    _, template, scripts = _write(make_brief, "listicle", "en", 30, n=8)
    assert len({s.hook for s in scripts}) == 8
    angles = [s.angle for s in scripts]
    assert len(set(angles[:6])) == 6
    assert angles[:2] == list(template.angle_order()[:2])


def test_long_ads_repeat_feature_slots(make_brief: BriefFactory) -> None:
    short = _write(make_brief, "listicle", "en", 15)[2][0]
    long = _write(make_brief, "listicle", "en", 60)[2][0]
    features = [s for s in long.scenes if s.slot.startswith("item_")]
    assert len(long.scenes) > len(short.scenes)
    assert len(features) == 4  # one scene per feature, never the same feature twice
    assert [s.on_screen_text[:2] for s in features] == ["1.", "2.", "3.", "4."]


def test_features_are_not_truncated_mid_word(make_brief: BriefFactory) -> None:
    scripts = _write(make_brief, "ugc_hook", "en", 15, n=4)[2]
    shown = {s.on_screen_text for script in scripts for s in script.scenes}
    assert "Dishwasher safe" in shown  # the head clause, not "Dishwasher safe, ev"


def test_voiceover_scales_with_time(make_brief: BriefFactory) -> None:
    short = _write(make_brief, "product_showcase", "en", 6)[2][0]
    long = _write(make_brief, "product_showcase", "en", 30)[2][0]
    assert sum(spoken_words(s.voiceover) for s in long.scenes) > sum(
        spoken_words(s.voiceover) for s in short.scenes
    )


def test_product_name_too_long(make_brief: BriefFactory, palette: Palette) -> None:
    name = "The Extraordinarily Insulated Aurora Bottle"
    brief = make_brief(template="listicle", duration=15, name=name)
    with pytest.raises(BriefError) as info:
        OfflineScriptWriter().write(brief, get_template("listicle"), palette, n=3)
    assert info.value.where == "product.name"
    assert info.value.problem == (
        f"too long for template 'listicle' slot 'hook' (max 32 characters, got {len(name)})"
    )


def test_feature_too_long_names_the_feature(make_brief: BriefFactory, palette: Palette) -> None:
    features = ["Leak-proof lid", "Keeps your drinks ice cold for an entire day"]
    brief = make_brief(template="ugc_hook", duration=15, features=features)
    with pytest.raises(BriefError) as info:
        OfflineScriptWriter().write(brief, get_template("ugc_hook"), palette, n=3)
    assert info.value.where == "product.features[1]"
    assert "max 22 characters" in info.value.problem


def test_duration_outside_template(make_brief: BriefFactory, palette: Palette) -> None:
    brief = make_brief(template="lifestyle_story", duration=8)
    with pytest.raises(BriefError) as info:
        OfflineScriptWriter().write(brief, get_template("lifestyle_story"), palette, n=3)
    assert info.value.where == "duration"
    assert "too short" in info.value.problem


def test_unsupported_language(make_brief: BriefFactory, palette: Palette) -> None:
    brief = make_brief(locale="de")
    with pytest.raises(BriefError) as info:
        OfflineScriptWriter().write(brief, get_template("product_showcase"), palette, n=1)
    assert info.value.where == "brand.locale"
    assert "en, it" in info.value.problem


@pytest.mark.parametrize(
    ("price", "currency", "language", "expected"),
    [
        ("24.90", "EUR", "it", "24,90 €"),
        ("24.90", "USD", "en", "$24.90"),
        ("24.90", "EUR", "en", "€24.90"),
        ("1234.5", "EUR", "it", "1.234,50 €"),
        ("1234.5", "GBP", "en", "£1,234.50"),
        ("99", "CHF", "en", "CHF 99.00"),
    ],
)
def test_format_price(price: str, currency: str, language: str, expected: str) -> None:
    assert format_price(Decimal(price), currency, language) == expected


def test_feature_forms_and_word_counts() -> None:
    assert feature_forms("Dishwasher safe, every part.") == (
        "Dishwasher safe, every part",
        "Dishwasher safe",
    )
    assert feature_forms("Leak-proof lid") == ("Leak-proof lid",)
    assert spoken_words("Just €24.90.") == 5
    assert spoken_words("Double-walled porcelain.") == 3
    assert spoken_words("Caffè - subito") == 2
    # The budget is for the voice's room: the scene less its 0.15 s lead-in and 0.10 s tail.
    assert word_budget(2.0, "en") == 3
    assert word_budget(2.0, "it") == 3
    assert word_budget(1.0, "it") == 1
    # A brief's slower voice.rate fits fewer words; a faster one is not counted on.
    assert word_budget(4.0, "en", rate=80) == 3
    assert word_budget(4.0, "en", rate=300) == word_budget(4.0, "en") == 8


def test_json_schema() -> None:
    schema = json.loads(json.dumps(script_json_schema()))
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {
        "option",
        "template",
        "locale",
        "angle",
        "hook",
        "cta",
        "scenes",
    }
    scene = schema["$defs"]["Scene"]
    assert set(scene["required"]) >= {"photo", "on_screen_text", "voiceover", "duration"}
    assert all("description" in field for field in scene["properties"].values())
    assert "format" not in json.dumps(schema)  # no Path or other exotic types


def test_fake_writer(make_brief: BriefFactory, palette: Palette) -> None:
    writer: ScriptWriter = FakeScriptWriter()
    brief = make_brief(duration=10)
    scripts = writer.write(brief, get_template("product_showcase"), palette, n=2)
    assert [s.option for s in scripts] == [1, 2]
    assert all(s.duration == 10 for s in scripts)
    offline: ScriptWriter = OfflineScriptWriter()  # both satisfy the port
    assert offline.write(brief, get_template("product_showcase"), palette, n=1)
