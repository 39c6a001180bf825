"""Creative identity: stable ids, UTM-tagged landing URLs, ad names, and the manifest's creatives."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.creative import (
    UTM_MEDIUM,
    UTM_SOURCES,
    ad_name,
    campaign_slug,
    creative_id,
    creative_ids_in,
    landing_url,
)
from pipeline.manifest import Manifest
from pipeline.render import Ports, RenderResult
from pipeline.render.creatives import creative_for, with_creatives
from pipeline.templates.registry import get_template
from pipeline.voice import FakeVoice
from tests.conftest import BASE_BRIEF, PHOTOS
from tests.rendering import render_ad

HASH = "a" * 64
SCRIPT = "c" * 64


def test_the_same_inputs_give_the_same_id_and_any_change_a_new_one() -> None:
    first = creative_id(HASH, SCRIPT, "9x16")

    assert first == creative_id(HASH, SCRIPT, "9x16")
    assert len({first, creative_id(HASH, "d" * 64, "9x16"), creative_id(HASH, SCRIPT, "1x1"),
                creative_id("b" * 64, SCRIPT, "9x16")}) == 4  # fmt: skip
    assert re.fullmatch(r"rf-[0-9a-f]{12}", first)


def test_the_landing_url_carries_the_four_utm_parameters_and_keeps_the_product_query() -> None:
    url = landing_url(
        "https://shop.example.com/cups/aurora?variant=blue&utm_source=old#reviews",
        source="meta_reels",
        campaign="aur-esp-01",
        content="rf-0a1b2c3d4e5f",
    )

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https",
        "shop.example.com",
        "/cups/aurora",
        "reviews",
    )
    assert parse_qs(parts.query) == {
        "variant": ["blue"],
        "utm_source": ["meta_reels"],
        "utm_medium": [UTM_MEDIUM],
        "utm_campaign": ["aur-esp-01"],
        "utm_content": ["rf-0a1b2c3d4e5f"],
    }


def test_values_are_url_encoded() -> None:
    url = landing_url("https://x.test/p", source="a b", campaign="c&d", content="rf-abcd")

    assert "utm_source=a+b" in url and "utm_campaign=c%26d" in url


def test_every_format_has_a_documented_utm_source() -> None:
    assert set(UTM_SOURCES) == {"9x16", "4x5", "1x1", "16x9"}
    assert UTM_SOURCES["16x9"] == "youtube" and UTM_SOURCES["9x16"] == "meta_reels"


def test_ad_name_contains_the_id_and_the_id_is_found_again() -> None:
    cid = creative_id(HASH, SCRIPT, "4x5")
    name = ad_name(sku="AUR-ESP-01", template="product_showcase", fmt="4x5", option=2, creative=cid)

    assert name == f"AUR-ESP-01_product_showcase_4x5_o2_{cid}"
    assert creative_ids_in(name) == [cid]
    assert creative_ids_in(name.upper()) == [cid]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("SURF-BOARD-01 summer", []),  # "rf-" inside a word is not an id
        ("rf-ab", []),  # too short
        ("x rf-0a1b2c3d4e5f|rf-1b2c3d4e5f60", ["rf-0a1b2c3d4e5f", "rf-1b2c3d4e5f60"]),
        ("https://x.test/?utm_content=rf-0a1b2c3d4e5f&a=1", ["rf-0a1b2c3d4e5f"]),
        ("rf-0a1b2c3d4e5f_9x16", ["rf-0a1b2c3d4e5f"]),  # "_" ends the id
    ],
)
def test_creative_ids_are_found_only_as_whole_tokens(text: str, found: list[str]) -> None:
    assert creative_ids_in(text) == found


def test_campaign_slug() -> None:
    assert campaign_slug("AUR-ESP 01") == "aur-esp-01"
    assert campaign_slug("---") == "reelforge"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> RenderResult:
    """A small real render: preview, one format."""
    root = tmp_path_factory.mktemp("creative")
    (root / "photos").mkdir()
    (root / "photos" / "coffee.png").write_bytes((PHOTOS / "coffee.png").read_bytes())
    data = json.loads(json.dumps(BASE_BRIEF))
    data["product"]["url"] = "https://example.com/cup?ref=brief"
    (root / "brief.json").write_text(json.dumps(data))
    return render_ad(
        root / "brief.json",
        root / "out",
        preview=True,
        ports=Ports(voice=FakeVoice()),
    )


@pytest.mark.integration
def test_a_render_records_each_outputs_creative_in_the_manifest(rendered: RenderResult) -> None:
    manifest = rendered.manifest
    (entry,) = manifest.outputs
    creative = entry.creative
    assert creative is not None
    script = manifest.scripts[manifest.chosen_option - 1]
    assert creative.creative_id == creative_id(manifest.brief_hash, manifest.script_hash, "9x16")
    assert creative.format == "9x16" and creative.script_option == 1
    assert (creative.sku, creative.product) == ("AUR-ESP-01", "Aurora Espresso Cup")
    assert creative.template == "product_showcase"
    assert creative.caption_style == get_template("product_showcase").caption_style.name
    assert creative.duration_s == entry.duration
    assert creative.duration_bucket == "<15s"  # an 8 s ad
    assert creative.palette_colour == manifest.palette.swatches[0].name
    assert creative.voice == "on"
    assert creative.hook == " ".join(script.scenes[0].voiceover.split())
    assert creative.creative_id in creative.ad_name
    query = parse_qs(urlsplit(creative.landing_url).query)
    assert query == {
        "ref": ["brief"],
        "utm_source": ["meta_reels"],
        "utm_medium": ["paid_social"],
        "utm_campaign": ["aur-esp-01"],
        "utm_content": [creative.creative_id],
    }
    on_disk = Manifest.model_validate_json((rendered.out_dir / "manifest.json").read_text())
    assert on_disk.outputs[0].creative == creative


@pytest.mark.integration
def test_without_a_voice_the_hook_is_the_first_on_screen_text(rendered: RenderResult) -> None:
    silent = rendered.manifest.model_copy(update={"voice": ()})
    script = silent.scripts[silent.chosen_option - 1]

    creative = creative_for(silent, silent.outputs[0], caption_style="bold")

    assert creative.voice == "off"
    assert creative.hook == " ".join(script.scenes[0].on_screen_text.split())
    assert creative.creative_id == rendered.manifest.outputs[0].creative.creative_id  # type: ignore[union-attr]


@pytest.mark.integration
def test_re_deriving_creatives_from_a_manifest_is_stable(rendered: RenderResult) -> None:
    again = with_creatives(
        rendered.manifest,
        caption_style=rendered.manifest.outputs[0].creative.caption_style,  # type: ignore[union-attr]
    )

    assert again.outputs == rendered.manifest.outputs


@pytest.mark.integration
def test_a_manifest_written_before_creatives_still_loads(rendered: RenderResult) -> None:
    data = json.loads((rendered.out_dir / "manifest.json").read_text())
    for output in data["outputs"]:
        del output["creative"]

    assert Manifest.model_validate(data).outputs[0].creative is None


@pytest.mark.integration
def test_the_duration_bucket_is_the_briefs_length_not_the_containers_drift(
    rendered: RenderResult,
) -> None:
    manifest = rendered.manifest
    for asked, probed, bucket in ((30, 30.021, "15-30s"), (15, 15.021, "15-30s"),
                                  (14.5, 14.52, "<15s"), (45, 44.98, "30s+")):  # fmt: skip
        brief = {**manifest.brief, "duration": asked}
        entry = manifest.outputs[0].model_copy(update={"duration": probed})

        creative = creative_for(
            manifest.model_copy(update={"brief": brief}), entry, caption_style="bold"
        )

        assert (creative.duration_bucket, creative.duration_s) == (bucket, probed)
