"""Scene assets fan out through a ``map`` (Modal's ``generate_scene.map``) and render the same ad."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from modal_app.scenes import MapClips, SceneAsset, SceneTask, render_scene
from pipeline.brief import load_brief
from pipeline.formats import Format
from pipeline.render import Ports
from pipeline.voice import FakeVoice
from tests.rendering import render_ad

pytestmark = pytest.mark.integration
WriteBrief = Callable[[dict[str, Any]], Path]


def test_render_fans_scenes_out_through_map(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    batches: list[int] = []

    def local_map(tasks: list[SceneTask]) -> Iterable[SceneAsset]:
        batches.append(len(tasks))
        return [render_scene(t) for t in tasks]  # what each container would run

    brief = load_brief(write_brief(brief_data))
    options: dict[str, Any] = {"preview": True, "formats": (Format.V9X16, Format.V1X1)}
    mapped = render_ad(
        brief, tmp_path / "mapped", **options,
        ports=Ports(voice=FakeVoice(), clip_factory=lambda ctx: MapClips(local_map, ctx)),
    )  # fmt: skip
    scenes = len(mapped.manifest.script.scenes)
    assert batches == [2 * scenes], "one map call for every scene of every format"
    assert all(o.qc.passed for o in mapped.manifest.outputs)
    local = render_ad(brief, tmp_path / "local", **options, ports=Ports(voice=FakeVoice()))
    assert mapped.manifest.palette == local.manifest.palette
    assert [o.duration for o in mapped.manifest.outputs] == [
        o.duration for o in local.manifest.outputs
    ]
