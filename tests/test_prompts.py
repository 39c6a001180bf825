"""Scene prompts: English, product- and palette-aware, distinct per scene, never asking for text."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pipeline.brief import Brief, parse_brief
from pipeline.palette.model import Palette, PaletteRoles, Swatch
from pipeline.prompts import NEGATIVE_PROMPT, build_prompts, english_colour_names
from pipeline.script import OfflineScriptWriter, Script
from pipeline.templates import Template, get_template


def _brief(tmp_path: Path, locale: str, template: str, tone: str = "warm, confident") -> Brief:
    photo = tmp_path / "p.png"
    Image.new("RGB", (8, 8), (10, 200, 120)).save(photo)
    return parse_brief(
        {
            "version": 1,
            "product": {
                "name": "Aurora Bottle",
                "sku": "AUR-500",
                "description": "An insulated steel bottle.",
                "features": ["Cold for 24 hours", "Leak-proof lid"],
                "price": "24.90",
                "currency": "EUR",
                "url": "https://example.com/aurora",
                "photos": [photo.name],
            },
            "brand": {"name": "Northwind", "tone": tone, "locale": locale},
            "template": template,
            "duration": 15,
            "formats": ["9x16"],
        },
        base_dir=tmp_path,
    )


def _palette(locale: str, names: tuple[str, str]) -> Palette:
    return Palette(
        locale=locale,
        swatches=(
            Swatch(
                hex="#9caf88",
                rgb=(156, 175, 136),
                lab=(69.6, -12.6, 18.4),
                weight=0.7,
                name=names[0],
            ),
            Swatch(
                hex="#1f2a44", rgb=(31, 42, 68), lab=(17.4, 2.6, -17.9), weight=0.3, name=names[1]
            ),
        ),
        roles=PaletteRoles(
            background="#9caf88",
            on_background="#111111",
            accent="#1f2a44",
            on_accent="#ffffff",
            caption_text="#ffffff",
            caption_highlight="#f2c94c",
            caption_outline="#111111",
        ),
        source="photos",
    )


def _prompts(brief: Brief, palette: Palette) -> tuple[Script, Template, list[str]]:
    template = get_template(brief.template)
    script = OfflineScriptWriter().write(brief, template, palette, n=1)[0]
    prompts = build_prompts(script, template=template, palette=palette, brief=brief)
    assert [p.scene for p in prompts] == [s.index for s in script.scenes]
    return script, template, [p.prompt for p in prompts]


@pytest.mark.parametrize("template", ["product_showcase", "ugc_hook", "offer_countdown"])
def test_prompts_mention_product_and_palette(tmp_path: Path, template: str) -> None:
    brief = _brief(tmp_path, "en", template)
    _, _, prompts = _prompts(brief, _palette("en", ("sage green", "midnight navy")))
    for prompt in prompts:
        assert "Aurora Bottle" in prompt
        assert "sage green" in prompt
        assert "midnight navy" in prompt
        assert "warm, confident" in prompt
    assert len(set(prompts)) == len(prompts)


def test_prompts_are_english_for_italian_brands(tmp_path: Path) -> None:
    brief = _brief(tmp_path, "it-IT", "lifestyle_story", tone="caldo, elegante")
    _, _, prompts = _prompts(brief, _palette("it", ("verde salvia", "blu notte")))
    for prompt in prompts:
        assert "verde salvia" not in prompt
        assert "sage green" in prompt
        assert "navy blue" in prompt
        assert "warm, elegant" in prompt


def test_negative_prompt_bans_text(tmp_path: Path) -> None:
    brief = _brief(tmp_path, "en", "product_showcase")
    palette = _palette("en", ("sage green", "midnight navy"))
    template = get_template("product_showcase")
    script = OfflineScriptWriter().write(brief, template, palette, n=1)[0]
    for prompt in build_prompts(script, template=template, palette=palette, brief=brief):
        assert prompt.negative_prompt == NEGATIVE_PROMPT
        assert "text" in prompt.negative_prompt.split(", ")
        assert "watermark" in prompt.negative_prompt
        assert "text" not in prompt.prompt.lower().replace("texture", "")
        assert prompt.camera in prompt.prompt
        assert prompt.lighting in prompt.prompt


def test_camera_follows_pacing(tmp_path: Path) -> None:
    palette = _palette("en", ("sage green", "midnight navy"))
    gentle = _brief(tmp_path, "en", "lifestyle_story")
    dynamic = _brief(tmp_path, "en", "ugc_hook")
    for brief in (gentle, dynamic):
        template = get_template(brief.template)
        script = OfflineScriptWriter().write(brief, template, palette, n=1)[0]
        cameras = [
            p.camera for p in build_prompts(script, template=template, palette=palette, brief=brief)
        ]
        if template.pacing.motion == "gentle":
            assert all("fast" not in c and "crash" not in c for c in cameras)
        else:
            assert any("fast" in c or "snap" in c or "whip" in c for c in cameras)


def test_deterministic(tmp_path: Path) -> None:
    brief = _brief(tmp_path, "en", "how_to")
    palette = _palette("en", ("sage green", "midnight navy"))
    assert _prompts(brief, palette) == _prompts(brief, palette)


def test_english_colour_names() -> None:
    assert english_colour_names(_palette("it", ("verde salvia", "blu notte"))) == [
        "sage green",
        "navy blue",
    ]
    english = _palette("en-GB", ("sage", "midnight"))
    assert english_colour_names(english) == ["sage", "midnight"]
