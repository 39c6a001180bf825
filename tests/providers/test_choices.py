"""Which provider each stage uses, missing keys named before any spend, the ports built from the
choices, the provider estimate, and ``reelforge providers``."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.brief import Brief, parse_brief
from pipeline.cli import app
from pipeline.errors import BadInput
from pipeline.formats import Format
from pipeline.providers.cache import ProviderCache
from pipeline.providers.choices import choices, provider_estimate
from pipeline.providers.memo import MemoVoice
from pipeline.providers.prices import PriceTable
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.scenes import ProviderClips
from pipeline.script import OfflineScriptWriter
from pipeline.settings import ProviderSettings, Settings
from pipeline.voice import OfflineVoice
from pipeline.wiring import Runtime, RuntimeKind, build_ports
from tests.conftest import BASE_BRIEF, PHOTOS

KEYS = ("OPENROUTER_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "KLING_ACCESS_KEY",
        "KLING_SECRET_KEY", "FAL_KEY", "ELEVENLABS_API_KEY", "PEXELS_API_KEY", "HEYGEN_API_KEY",
        "REELFORGE_SCRIPT_PROVIDER", "REELFORGE_CLIP_PROVIDER", "REELFORGE_VOICE_PROVIDER")  # fmt: skip


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)


def _brief(**providers: Any) -> Brief:
    data = copy.deepcopy(BASE_BRIEF)
    data["product"]["photos"] = [str(PHOTOS / "coffee.png")]
    if providers:
        data["providers"] = providers
    return parse_brief(data, base_dir=Path.cwd())


def _runtime(tmp_path: Path) -> Runtime:
    return Runtime(kind=RuntimeKind.LOCAL, provider=ProviderRuntime(cache=ProviderCache(tmp_path)))


def _settings(**env: str) -> Settings:
    """The settings of an environment holding only ``env``."""
    return Settings.from_env(env)


def test_without_keys_every_stage_is_offline(tmp_path: Path) -> None:
    chosen = choices(_brief(), ProviderSettings())
    assert {s: c.provider for s, c in chosen.items()} == {
        "script": "offline", "clips": "offline", "voice": "offline", "transcriber": "none",
    }  # fmt: skip
    ports = build_ports(_brief(), Settings(), _runtime(tmp_path))
    assert isinstance(ports.writer, OfflineScriptWriter)
    # the offline voice, its lines kept in the runtime's cache
    assert isinstance(ports.voice, MemoVoice) and isinstance(ports.voice.inner, OfflineVoice)
    assert ports.transcriber is None


def test_a_key_makes_its_provider_the_default_and_the_brief_overrides_it(tmp_path: Path) -> None:
    settings = _settings(FAL_KEY="fal-key", ELEVENLABS_API_KEY="el-key")
    chosen = choices(_brief(), settings.providers)
    assert (chosen["clips"].provider, chosen["clips"].source) == ("fal", "key")
    assert chosen["voice"].provider == "elevenlabs" and chosen["transcriber"].key_set
    chosen = choices(_brief(clips="offline", voice="offline"), settings.providers)
    assert (chosen["clips"].provider, chosen["clips"].source) == ("offline", "brief")
    assert chosen["voice"].provider == "offline"
    ports = build_ports(_brief(), settings, _runtime(tmp_path))
    from pipeline.providers.elevenlabs import ElevenLabsVoice

    assert isinstance(ports.voice, ElevenLabsVoice)
    assert ports.meter is not None
    clips = ports.clip_factory  # a provider factory, not the offline one
    assert clips.__name__ == "factory"


def test_settings_choose_when_the_brief_does_not() -> None:
    settings = _settings(REELFORGE_CLIP_PROVIDER="pexels", PEXELS_API_KEY="px")
    chosen = choices(_brief(), settings.providers)
    assert (chosen["clips"].provider, chosen["clips"].source) == ("pexels", "settings")
    settings = _settings(REELFORGE_CLIP_PROVIDER="sora", PEXELS_API_KEY="px")
    with pytest.raises(BadInput, match=r"REELFORGE_CLIP_PROVIDER: unknown provider 'sora'"):
        choices(_brief(), settings.providers)


def test_a_chosen_provider_without_its_key_is_named_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as info:
        build_ports(_brief(clips="kling"), Settings(), _runtime(tmp_path))
    assert info.value.where == "KLING_ACCESS_KEY"
    assert "KLING_ACCESS_KEY and KLING_SECRET_KEY" in info.value.problem
    with pytest.raises(BadInput, match="OPENROUTER_API_KEY"):
        build_ports(_brief(script="openrouter"), Settings(), _runtime(tmp_path))


def test_the_scene_fallback_follows_the_brief(tmp_path: Path) -> None:
    settings = _settings(FAL_KEY="fal-key")
    ports = build_ports(_brief(clips="fal", fallback=False), settings, _runtime(tmp_path))
    from PIL import Image

    from pipeline.palette import KMeansPalette
    from pipeline.visuals import ClipContext

    photo = Image.new("RGB", (32, 32), (10, 20, 30))
    ctx = ClipContext(photos=[photo], palette=KMeansPalette().extract([photo], locale="en"),
                      font_path=Path("x.ttf"), product_name="Cup", price="$1", logo=None)  # fmt: skip
    clips = ports.clip_factory(ctx)
    assert isinstance(clips, ProviderClips)
    assert clips.fallback is False and clips.source.name == "fal"


def test_the_estimate_prices_each_paid_stage() -> None:
    table = PriceTable.parse(
        {
            "kling": {"*": {"unit": "second", "credits": 7}},
            "elevenlabs": {"*": {"unit": "1k_chars", "credits": 18}, "scribe_v2": {"unit": "minute", "credits": 1}},
            "openrouter": {"*": {"unit": "1k_tokens", "credits": 0.1}},
        },
        where="test",
    )  # fmt: skip
    brief = _brief()
    assert provider_estimate(brief, [Format.V9X16], ProviderSettings(), table) == 0
    kling = _settings(KLING_ACCESS_KEY="a", KLING_SECRET_KEY="s").providers
    # 4 photo scenes x 10 s x 7 credits, for one generation shape
    assert provider_estimate(brief, [Format.V9X16], kling, table) == 280
    # 4:5 is generated 9:16: the same shape; 16:9 is another
    assert provider_estimate(brief, [Format.V9X16, Format.V4X5], kling, table) == 280
    assert provider_estimate(brief, [Format.V9X16, Format.V16X9], kling, table) == 560
    every = _settings(
        KLING_ACCESS_KEY="a", KLING_SECRET_KEY="s", ELEVENLABS_API_KEY="e", OPENROUTER_API_KEY="o"
    ).providers
    # + 8 s x 20 chars = 0.16k chars x 18 = 2.88; + 2 options x 4k tokens x 0.1 = 0.8
    assert provider_estimate(brief, [Format.V9X16], every, table) == 284


def test_providers_command_lists_stages_and_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("PEXELS_API_KEY", "px")
    runner = CliRunner()
    result = runner.invoke(app, ["providers"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("clips" in line and "offline" in line for line in lines)
    assert any(line.split("│")[1:3] == [" pexels     ", " set "] for line in lines if "│" in line)
    brief = tmp_path / "brief.yaml"
    data = copy.deepcopy(BASE_BRIEF)
    data["product"]["photos"] = [str(PHOTOS / "coffee.png")]
    data["providers"] = {"clips": "heygen"}
    brief.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, ["providers", "--brief", str(brief)])
    assert result.exit_code == 0, result.output
    assert any(
        "heygen" in line and "the brief" in line and "HEYGEN_API_KEY" in line
        for line in result.output.splitlines()
    )


def test_providers_heygen_lists_avatars_and_voices(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from tests.providers.test_heygen import AVATAR, VOICE, HeyGen

    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    missing = runner.invoke(app, ["providers", "--heygen"])
    assert missing.exit_code == 2 and "HEYGEN_API_KEY" in missing.output
    monkeypatch.setenv("HEYGEN_API_KEY", "hg-key")
    api = HeyGen(b"")
    monkeypatch.setattr(
        "pipeline.cli.catalogue._heygen_client",
        lambda: httpx.AsyncClient(transport=httpx.MockTransport(api)),
    )
    listed = runner.invoke(app, ["providers", "--heygen"])
    assert listed.exit_code == 0, listed.output
    assert AVATAR in listed.output and "Abigail (Upper Body)" in listed.output
    assert VOICE in listed.output and "Sara" in listed.output
    assert "broken entry" not in listed.output
