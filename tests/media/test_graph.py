"""The timeline → FFmpeg arguments function, checked against stored expected output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.formats import FORMATS, Format
from pipeline.media.graph import Output, build_args, motion_exprs
from pipeline.timeline import Motion, Rect, StillClip, Timeline, TimelineScene, Transition

EXPECTED = Path(__file__).parent.parent / "data" / "graph_expected.json"


def _timeline(fmt: Format) -> Timeline:
    spec = FORMATS[fmt]
    zoom = Motion(start=Rect(x=0, y=0, w=1, h=1), end=Rect(x=0.05, y=0.05, w=0.9, h=0.9))
    scenes = (
        TimelineScene(
            index=0, start=0.0, beat=2.5,
            clip=StillClip(image=Path("/work/s0.png"), width=540, height=960, motion=zoom),
            transition=Transition(name="fade", duration=0.4),
        ),
        TimelineScene(
            index=1, start=2.5, beat=2.5,
            clip=StillClip(image=Path("/work/s1.png"), width=spec.width, height=spec.height, motion=None),
            transition=Transition(name="smoothleft", duration=0.4),
        ),
        TimelineScene(
            index=2, start=5.0, beat=3.0,
            clip=StillClip(image=Path("/work/s2.png"), width=spec.width, height=spec.height),
        ),
    )  # fmt: skip
    return Timeline(
        spec=spec, duration=8.0, scenes=scenes, subtitles=Path("/work/cap: 1.ass"),
        fonts_dir=Path("/work/fonts"), audio=Path("/work/soundtrack.m4a"),
    )  # fmt: skip


def test_timeline_to_ffmpeg_arguments_matches_stored_output() -> None:
    args = build_args([Output(_timeline(Format.V9X16), Path("/out/9x16.mp4"))])
    if os.environ.get("REELFORGE_REGENERATE"):
        EXPECTED.write_text(json.dumps(args, indent=1) + "\n")
    assert args == json.loads(EXPECTED.read_text())


def test_every_input_is_restricted_to_local_protocols() -> None:
    args = build_args(
        [Output(_timeline(f), Path(f"/out/{f.value}.mp4")) for f in (Format.V9X16, Format.V1X1)]
    )
    inputs = [i for i, a in enumerate(args) if a == "-i"]
    assert len(inputs) == 1 + 3 * 2  # one soundtrack, three stills per format
    for i in inputs:
        assert args[i - 2 : i] == ["-protocol_whitelist", "file,pipe"]


def test_scene_frames_add_up_exactly_with_crossfade_overlaps() -> None:
    graph = build_args([Output(_timeline(Format.V9X16), Path("/o.mp4"))])
    fc = graph[graph.index("-filter_complex") + 1]
    # 2.5 s beat + 0.4 s overlap = 87 frames; last scene 3 s = 90 frames
    assert "loop=loop=86:size=1" in fc and "loop=loop=89:size=1" in fc
    # Only the 12 overlapping frames go through xfade; the bodies are concatenated around them.
    assert "[f0t0in]trim=start_frame=75:end_frame=87" in fc
    assert "[f0h1in]trim=start_frame=0:end_frame=12" in fc
    assert "xfade=transition=fade:duration=0.4:offset=0" in fc
    assert "xfade=transition=smoothleft:duration=0.4:offset=0" in fc
    assert "[f0b0][f0x0][f0b1][f0x1][f0b2]concat=n=5" in fc
    assert "trim=end_frame=240" in fc


def test_user_text_never_reaches_the_filter_graph() -> None:
    # Only paths we create appear; the subtitle path is escaped for the filter parser.
    graph = build_args([Output(_timeline(Format.V9X16), Path("/o.mp4"))])
    fc = graph[graph.index("-filter_complex") + 1]
    assert "filename=/work/cap\\\\: 1.ass:" in fc


def test_outputs_meet_the_delivery_settings() -> None:
    args = build_args([Output(_timeline(Format.V16X9), Path("/o.mp4"))])
    joined = " ".join(args)
    for expected in ("-c:v libx264", "-profile:v high", "-pix_fmt yuv420p", "-g 60", "-fps_mode passthrough",
                     "-movflags +faststart+negative_cts_offsets", "-c:a copy", "-use_editlist 0"):  # fmt: skip
        assert expected in joined


def test_motion_expressions_interpolate_corners() -> None:
    motion = Motion(
        start=Rect(x=0, y=0, w=1, h=1), end=Rect(x=0.1, y=0.2, w=0.8, h=0.7), easing="linear"
    )
    exprs = motion_exprs(motion, frames=31)
    assert exprs["x0"] == "W*(0+0.1*clip(in/30,0,1))"
    assert exprs["y3"] == "H*(1+-0.1*clip(in/30,0,1))"


def test_output_list_must_share_a_soundtrack() -> None:
    a = _timeline(Format.V9X16)
    b = a.model_copy(update={"audio": Path("/other.m4a")})
    with pytest.raises(ValueError, match="share one soundtrack"):
        build_args([Output(a, Path("/a.mp4")), Output(b, Path("/b.mp4"))])
