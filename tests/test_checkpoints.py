"""A render given a persistent work folder reuses every finished stage whose inputs are unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pipeline.render.composer as render_module
from pipeline.brief import load_brief
from pipeline.formats import Format
from pipeline.render import Ports
from pipeline.voice import FakeVoice, Speech
from tests.rendering import render_ad

pytestmark = pytest.mark.integration
WriteBrief = Callable[[dict[str, Any]], Path]


class CountingVoice(FakeVoice):
    def __init__(self) -> None:
        super().__init__(word_seconds=0.12, gap_seconds=0.03)
        self.calls = 0

    def synthesize(self, text: str, **kwargs: Any) -> Speech:
        self.calls += 1
        return super().synthesize(text, **kwargs)


@pytest.fixture
def compose_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    runs: list[list[str]] = []
    real = render_module.run_ffmpeg

    def spy(args: Any, **kwargs: Any) -> str:
        if kwargs.get("stage") == "compose":
            runs.append(list(args))
        return real(args, **kwargs)

    monkeypatch.setattr(render_module, "run_ffmpeg", spy)
    return runs


def test_a_resumed_render_reuses_voice_soundtrack_and_composed_formats(
    tmp_path: Path,
    write_brief: WriteBrief,
    brief_data: dict[str, Any],
    compose_runs: list[list[str]],
) -> None:
    brief = load_brief(write_brief(brief_data))
    voice = CountingVoice()
    options: dict[str, Any] = dict(
        preview=True, formats=(Format.V9X16, Format.V1X1), work_dir=tmp_path / "work"
    )
    first = render_ad(brief, tmp_path / "a", **options, ports=Ports(voice=voice))
    spoken, composed = voice.calls, len(compose_runs)
    assert spoken > 0 and composed == 2 and first.manifest.reused == ()

    second = render_ad(brief, tmp_path / "b", **options, ports=Ports(voice=voice))
    assert voice.calls == spoken, "no line is spoken twice"
    assert len(compose_runs) == composed, "no format is composed twice"
    reused = set(second.manifest.reused)
    assert {"soundtrack", "compose:9x16", "compose:1x1"} <= reused
    assert any(r.startswith("voice:") for r in reused)
    for fmt in ("9x16", "1x1"):
        assert (first.out_dir / f"{fmt}.mp4").read_bytes() == (
            second.out_dir / f"{fmt}.mp4"
        ).read_bytes()
    assert second.manifest.outputs[0].qc.passed


def test_changed_inputs_are_made_again(
    tmp_path: Path,
    write_brief: WriteBrief,
    brief_data: dict[str, Any],
    compose_runs: list[list[str]],
) -> None:
    voice = CountingVoice()
    work = tmp_path / "work"
    options: dict[str, Any] = dict(preview=True, work_dir=work)
    render_ad(
        load_brief(write_brief(brief_data)),
        tmp_path / "a",
        **options,
        ports=Ports(voice=voice),
    )
    spoken = voice.calls
    brief_data["product"]["name"] = "Aurora Lungo Cup"  # new hook text: new voice line, new frames
    again = render_ad(
        load_brief(write_brief(brief_data)),
        tmp_path / "b",
        **options,
        ports=Ports(voice=voice),
    )
    assert voice.calls > spoken
    assert "compose:9x16" not in again.manifest.reused and len(compose_runs) == 2


def test_without_a_work_folder_nothing_is_kept(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    result = render_ad(
        load_brief(write_brief(brief_data)),
        tmp_path / "a",
        preview=True,
        ports=Ports(voice=FakeVoice()),
    )
    assert result.manifest.reused == ()
    assert sorted(p.name for p in result.out_dir.iterdir()) == [
        "9x16.mp4",
        "9x16.png",
        "manifest.json",
    ]
