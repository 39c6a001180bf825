"""The timeline → FFmpeg arguments function, checked against stored expected output."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.formats import FORMATS, Format
from pipeline.media.graph import Output, build_args, motion_exprs
from pipeline.timeline import Motion, Rect, StillClip, Timeline, TimelineScene, Transition

EXPECTED = Path(__file__).parent.parent / "data" / "graph_expected.json"
WHITESPACE = " \n\t\r"


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


def test_every_input_is_opened_by_its_own_demuxer_for_local_files_only() -> None:
    args = build_args(
        [Output(_timeline(f), Path(f"/out/{f.value}.mp4")) for f in (Format.V9X16, Format.V1X1)]
    )
    inputs = [i for i, a in enumerate(args) if a == "-i"]
    # one soundtrack, then three stills per format, each opened on its own (the formats share files)
    stills = [f"/work/s{n}.png" for n in range(3)]
    assert [args[i + 1] for i in inputs] == ["/work/soundtrack.m4a", *stills, *stills]
    # each input opened by its container's demuxer alone (nested opens too), local files only
    assert args[: inputs[0]] == [
        *("-f", "mov", "-format_whitelist", "mov", "-protocol_whitelist", "file"),
    ]
    for i in inputs[1:]:
        assert args[i - 8 : i] == [
            *("-f", "png_pipe", "-format_whitelist", "png_pipe"),
            *("-framerate", "30", "-protocol_whitelist", "file"),
        ]
    maps = [args[i + 1] for i, a in enumerate(args) if a == "-map"]
    assert maps[1::2] == ["0:a", "0:a"]  # the soundtrack is input 0, in every output
    assert [a for a in args if a.startswith("/out/")] == ["/out/9x16.mp4", "/out/1x1.mp4"]
    assert "-y" not in args  # run_ffmpeg adds it


# ------------------------------------------------------------- reading the graph back as FFmpeg does


def _token(text: str, pos: int, term: str) -> tuple[str, int]:
    """libavutil's ``av_get_token``: one level of quoting and backslash escapes undone."""
    while pos < len(text) and text[pos] in WHITESPACE:
        pos += 1
    out: list[str] = []
    kept = 0  # trailing whitespace is dropped unless it was escaped or quoted
    while pos < len(text) and text[pos] not in term:
        char, pos = text[pos], pos + 1
        if char == "\\" and pos < len(text):
            out.append(text[pos])
            pos, kept = pos + 1, len(out)
        elif char == "'":
            while pos < len(text) and text[pos] != "'":
                out.append(text[pos])
                pos += 1
            if pos < len(text):
                pos, kept = pos + 1, len(out)
        else:
            out.append(char)
    while len(out) > kept and out[-1] in WHITESPACE:
        out.pop()
    return "".join(out), pos


def _options(text: str) -> dict[str, str]:
    """A filter's ``[value:...]key=value:...`` list, the second level; positional keys are 0, 1..."""
    options: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        key = re.match(r"[A-Za-z0-9_./-]+=", text[pos:])  # libavutil's get_key
        if key:
            pos += key.end()
        value, pos = _token(text, pos, ":")
        options[key.group()[:-1] if key else str(len(options))] = value
        pos += 1
    return options


@dataclass
class _Filter:
    name: str
    options: dict[str, str]
    inputs: list[str]
    outputs: list[str]


def _labels(text: str, pos: int) -> tuple[list[str], int]:
    labels = []
    while text.startswith("[", pos):
        end = text.index("]", pos)
        labels.append(text[pos + 1 : end])
        pos = end + 1
    return labels, pos


def _graph(args: list[str]) -> list[_Filter]:
    """The ``-filter_complex`` graph as libavfilter's parser reads it (filters within a chain
    are linked through made-up labels)."""
    text = args[args.index("-filter_complex") + 1]
    filters: list[_Filter] = []
    pos, chained = 0, False
    while pos < len(text):
        inputs, pos = _labels(text, pos)
        if chained:
            inputs.insert(0, f"#{len(filters) - 1}")
        name, pos = _token(text, pos, "=,;[")
        opts = ""
        if text.startswith("=", pos):
            opts, pos = _token(text, pos + 1, "[],;")
        outputs, pos = _labels(text, pos)
        chained = text.startswith(",", pos)
        if chained:
            outputs.append(f"#{len(filters)}")
        filters.append(_Filter(name, _options(opts), inputs, outputs))
        pos += 1
    return filters


def _producers(filters: list[_Filter]) -> dict[str, _Filter]:
    return {label: f for f in filters for label in f.outputs}


def _source(label: str, producers: dict[str, _Filter]) -> _Filter:
    """The trim a segment was cut with (through its setpts), or the filter making it."""
    f = producers[label]
    if f.name == "setpts" and f.options == {"0": "PTS-STARTPTS"}:
        return producers[f.inputs[0]]
    return f


def _chain_after(f: _Filter, filters: list[_Filter]) -> list[_Filter]:
    """The filters fed, one after another, by ``f``'s single output."""
    consumers = {label: g for g in filters for label in g.inputs}
    chain = []
    while len(f.outputs) == 1 and f.outputs[0] in consumers:
        f = consumers[f.outputs[0]]
        chain.append(f)
    return chain


def test_scene_frames_add_up_exactly_with_crossfade_overlaps() -> None:
    filters = _graph(build_args([Output(_timeline(Format.V9X16), Path("/o.mp4"))]))
    producers = _producers(filters)
    # 2.5 s beat + 0.4 s overlap = 87 frames; last scene 3 s = 90 frames
    loops = [f.options for f in filters if f.name == "loop"]
    assert loops == [{"loop": "86", "size": "1", "start": "0"}, {"loop": "86", "size": "1", "start": "0"},
                     {"loop": "89", "size": "1", "start": "0"}]  # fmt: skip
    # Only the 12 overlapping frames go through xfade; the bodies are concatenated around them.
    fades = [f for f in filters if f.name == "xfade"]
    assert [f.options for f in fades] == [
        {"transition": "fade", "duration": "0.4", "offset": "0"},
        {"transition": "smoothleft", "duration": "0.4", "offset": "0"},
    ]
    for fade in fades:
        tail, head = (_source(label, producers) for label in fade.inputs)
        assert (tail.name, tail.options) == ("trim", {"start_frame": "75", "end_frame": "87"})
        assert (head.name, head.options) == ("trim", {"start_frame": "0", "end_frame": "12"})
    (concat,) = (f for f in filters if f.name == "concat")
    assert concat.options == {"n": "5", "v": "1", "a": "0"}
    segments = [_source(label, producers) for label in concat.inputs]
    # each crossfade goes back to 4:2:0 before the concat (xfade works in 4:4:4 only)
    assert [s.name for s in segments[1::2]] == ["format", "format"]
    assert [producers[s.inputs[0]] for s in segments[1::2]] == fades
    assert [s.options for s in segments[0::2]] == [
        {"start_frame": "0", "end_frame": "75"},
        {"start_frame": "12", "end_frame": "75"},
        {"start_frame": "12", "end_frame": "90"},
    ]
    after = _chain_after(concat, filters)
    assert [(f.name, f.options) for f in after if f.name != "ass"] == [
        ("trim", {"end_frame": "240"}), ("setpts", {"0": "N/30/TB"}), ("fps", {"0": "30"}),
        ("format", {"0": "yuv420p"}),
    ]  # fmt: skip
    assert after[3].name == "ass"


def test_motion_reaches_ffmpeg_as_the_expressions_computed() -> None:
    filters = _graph(build_args([Output(_timeline(Format.V9X16), Path("/o.mp4"))]))
    (persp,) = (f for f in filters if f.name == "perspective")
    zoom = Motion(start=Rect(x=0, y=0, w=1, h=1), end=Rect(x=0.05, y=0.05, w=0.9, h=0.9))
    assert persp.options == {**motion_exprs(zoom, 87), "interpolation": "linear", "eval": "frame"}
    # the still is 540x960: scaled up after the motion, to keep the motion's sub-pixel precision
    scene = _chain_after(persp, filters)
    assert [(f.name, f.options) for f in scene[:3]] == [
        ("scale", {"0": "1080", "1": "1920", "flags": "bicubic"}), ("format", {"0": "yuv420p"}),
        ("setsar", {"0": "1"}),
    ]  # fmt: skip


def test_user_text_never_reaches_the_filter_graph() -> None:
    # Only paths we create appear; the subtitle path is escaped for the filter parser.
    args = build_args([Output(_timeline(Format.V9X16), Path("/o.mp4"))])
    fc = args[args.index("-filter_complex") + 1]
    assert "ass=filename=/work/cap\\\\: 1.ass:fontsdir=/work/fonts" in fc
    (ass,) = (f for f in _graph(args) if f.name == "ass")
    assert ass.options == {"filename": "/work/cap: 1.ass", "fontsdir": "/work/fonts"}


@pytest.mark.parametrize(
    "path", ["/tmp/my dir:x,y[1];it's\\odd/a=b.ass", "/w/'quoted' 'twice'.ass", "/w/end\\"]
)
def test_subtitle_paths_reach_libass_unchanged(path: str) -> None:
    tl = _timeline(Format.V9X16).model_copy(update={"subtitles": Path(path)})
    args = build_args([Output(tl, Path("/o.mp4"))])
    (ass,) = (f for f in _graph(args) if f.name == "ass")
    assert ass.options["filename"] == path


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
