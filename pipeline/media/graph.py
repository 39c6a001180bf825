"""Timeline → FFmpeg arguments, as a pure function: one filter graph renders every format asked.

The graph is built as ffmpeg-python nodes and compiled by it, so no filter string is written by
hand: ffmpeg-python escapes every option value for both levels of FFmpeg's filter parser and
names the links between filters itself (``[s0]``, ``[s1]``, ...). Positional filter arguments
carry plain values only (numbers, ``yuv420p``, ``N/30/TB``): ffmpeg-python escapes those twice,
which is harmless only when there is nothing to escape; anything else goes in by name.

Motion uses the ``perspective`` filter: it samples with sub-pixel precision, so a slow Ken Burns
drifts smoothly instead of stepping a pixel at a time as crop- or zoompan-based motion does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import ffmpeg  # ffmpeg-python (untyped: the protocols below are the part of it used here)

from pipeline.containers import input_options
from pipeline.timeline import Motion, StillClip, Timeline, TimelineScene, VideoClip

__all__ = ["PIX_FMT", "Output", "build_args", "motion_exprs"]

PIX_FMT = "yuv420p"
"""The pixel format of every link in the graph except a crossfade's (``xfade`` takes 4:4:4 only).
Left to FFmpeg's negotiation, one crossfade pulled the upscales, ``concat``, ``fps`` and the
captions of the whole format into full-resolution chroma: half of the graph's CPU."""


class _Stream(Protocol):
    """An ffmpeg-python stream: an input's or a filter's output, to filter further or map."""

    def filter(self, filter_name: str, *args: object, **kwargs: object) -> _Stream: ...

    def split(self) -> _Split: ...

    @property
    def video(self) -> _Stream: ...

    @property
    def audio(self) -> _Stream: ...


class _Split(Protocol):
    """A ``split`` node; ``node[i]`` is its i-th output (ffmpeg-python sets ``split=N``)."""

    def __getitem__(self, label: int) -> _Stream: ...


class Output:
    """A timeline and the file it renders to."""

    __slots__ = ("path", "timeline")

    def __init__(self, timeline: Timeline, path: Path) -> None:
        self.timeline = timeline
        self.path = path


def _num(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _progress(frames: int, easing: str) -> str:
    last = max(frames - 1, 1)
    p = f"clip(in/{last},0,1)"
    if easing == "linear":
        return p
    return f"(0.5-0.5*cos(PI*{p}))"


def motion_exprs(motion: Motion, frames: int) -> dict[str, str]:
    """The perspective filter's corner expressions for a window moving from start to end."""
    e = _progress(frames, motion.easing)
    s, t = motion.start, motion.end

    def lerp(a: float, b: float) -> str:
        if abs(a - b) < 1e-9:
            return _num(a)
        return f"({_num(a)}+{_num(b - a)}*{e})"

    left = f"W*{lerp(s.x, t.x)}"
    top = f"H*{lerp(s.y, t.y)}"
    right = f"W*{lerp(s.x + s.w, t.x + t.w)}"
    bottom = f"H*{lerp(s.y + s.h, t.y + t.h)}"
    return {
        "x0": left, "y0": top,
        "x1": right, "y1": top,
        "x2": left, "y2": bottom,
        "x3": right, "y3": bottom,
    }  # fmt: skip


def _input(path: Path, key: str, **options: object) -> _Stream:
    """``ffmpeg.input(path, **options)``, as a node of its own even when another reads the file.

    ffmpeg-python takes nodes with equal arguments for one node: two scenes or two formats
    reading one image would share an input and, where their first filters match, one chain with
    two consumers, which it refuses to compile. ``key`` is kept in the node's positional
    arguments, which count for its identity but never reach the command line.
    """
    kwargs = {"filename": str(path), **options}
    stream: _Stream = ffmpeg.nodes.InputNode(
        ffmpeg.input.__name__, args=[key], kwargs=kwargs
    ).stream()
    return stream


def _scene_input(scene: TimelineScene, fps: int, key: str) -> _Stream:
    """The scene's file, opened by its container's demuxer alone, for local files only."""
    clip = scene.clip
    if isinstance(clip, StillClip):
        # read at the timeline's rate, so stills and provider videos meet in xfade
        # with one frame rate and time base
        return _input(clip.image, key, framerate=fps, **input_options(clip.image))
    return _input(clip.path, key, **input_options(clip.path))


def _still_chain(src: _Stream, clip: StillClip, frames: int, tl: Timeline) -> _Stream:
    """One image held for ``frames`` frames, moved by its Ken Burns, at the format's size."""
    w, h = tl.spec.width, tl.spec.height
    v = (
        src.filter("format", PIX_FMT)
        .filter("loop", loop=frames - 1, size=1, start=0)
        .filter("setpts", f"N/{tl.fps}/TB")
    )
    if clip.motion is not None:
        # The expressions go in raw: ffmpeg-python escapes their commas for the graph parser.
        exprs = motion_exprs(clip.motion, frames)
        v = v.filter("perspective", **exprs, interpolation="linear", eval="frame")
    if (clip.width, clip.height) != (w, h):
        # Named again after the scale: otherwise it upscales straight into a crossfade's 4:4:4.
        v = v.filter("scale", w, h, flags="bicubic").filter("format", PIX_FMT)
    return v.filter("setsar", 1)


def _video_chain(src: _Stream, clip: VideoClip, frames: int, tl: Timeline) -> _Stream:
    """A provider video cut to ``frames`` frames at the timeline's rate, filling the format.

    ``tpad`` clones the last frame if the file runs short, so the scene always has its length.
    """
    w, h, fps = tl.spec.width, tl.spec.height, tl.fps
    seconds = _num(frames / fps)
    return (
        src.filter("trim", start=_num(clip.trim_start), duration=seconds)
        .filter("setpts", "PTS-STARTPTS")
        .filter("fps", fps)
        .filter("scale", w, h, force_original_aspect_ratio="increase", flags="bicubic")
        .filter("crop", w, h)
        .filter("setsar", 1)
        .filter("format", PIX_FMT)
        .filter("tpad", stop_mode="clone", stop_duration=seconds)
        .filter("trim", end_frame=frames)
    )


def _frame_plan(tl: Timeline) -> list[tuple[int, int, int]]:
    """(start frame, clip frames, transition frames) per scene, exact in whole frames."""
    fps = tl.fps
    total = tl.frames
    plan = []
    for i, scene in enumerate(tl.scenes):
        start = round(scene.start * fps)
        nxt = round(tl.scenes[i + 1].start * fps) if i + 1 < len(tl.scenes) else total
        trans = (
            round(scene.transition.duration * fps)
            if scene.transition and i + 1 < len(tl.scenes)
            else 0
        )
        plan.append((start, nxt - start + trans, trans))
    return plan


def _pieces(scene: _Stream, frames: int, head: int, tail: int) -> dict[str, _Stream]:
    """The scene cut into its head ``h``, body ``b`` and tail ``t`` (the empty ones left out).

    ``xfade`` costs a full-frame pass on every frame it sees, inside the transition or not, so
    only the head and tail, the frames overlapping a neighbour, go through it.
    """
    spans = [
        (name, a, b)
        for name, a, b in (("h", 0, head), ("b", head, frames - tail), ("t", frames - tail, frames))
        if b > a
    ]
    if len(spans) == 1:
        return {spans[0][0]: scene}
    split = scene.split()
    return {
        name: split[i].filter("trim", start_frame=a, end_frame=b).filter("setpts", "PTS-STARTPTS")
        for i, (name, a, b) in enumerate(spans)
    }


def _video_graph(tl: Timeline, inputs: Sequence[_Stream]) -> _Stream:
    """Scene chains, crossfades and captions for one format.

    ``concat`` (which only shifts timestamps) joins the bodies and the crossfaded overlaps.
    """
    plan = _frame_plan(tl)
    pieces: list[dict[str, _Stream]] = []
    for i, (scene, src, (_, frames, tail)) in enumerate(zip(tl.scenes, inputs, plan, strict=True)):
        clip = scene.clip
        if isinstance(clip, StillClip):
            chain = _still_chain(src.video, clip, frames, tl)
        else:
            chain = _video_chain(src.video, clip, frames, tl)
        head = plan[i - 1][2] if i > 0 else 0
        pieces.append(_pieces(chain, frames, head, tail))
    segments: list[_Stream] = []
    for i, scene in enumerate(tl.scenes):
        if "b" in pieces[i]:  # a scene no longer than the crossfade into it has no body
            segments.append(pieces[i]["b"])
        trans = scene.transition
        if plan[i][2] > 0 and trans is not None:  # the last scene's is always 0
            fade: _Stream = ffmpeg.filter(
                [pieces[i]["t"], pieces[i + 1]["h"]], "xfade",
                transition=trans.name, duration=_num(plan[i][2] / tl.fps), offset=0,
            )  # fmt: skip
            # xfade works in 4:4:4 only: back to 4:2:0 at once, so concat, fps and the captions
            # run on subsampled chroma as the encoder wants it.
            segments.append(fade.filter("format", PIX_FMT))
    joined: _Stream = ffmpeg.concat(*segments, v=1, a=0)
    return _finish(joined, tl)


def _finish(video: _Stream, tl: Timeline) -> _Stream:
    """Exact length and timestamps, then the captions burnt in.

    Exact timestamps and a declared 30 fps let the encoder pass frames through untouched:
    a cfr resampler at the output would drop or repeat frames on rounding noise.
    """
    from pipeline.captions import ass_filter_args

    v = (
        video.filter("trim", end_frame=tl.frames)
        .filter("setpts", f"N/{tl.fps}/TB")
        .filter("fps", tl.fps)
    )
    if tl.subtitles is not None:
        name, options = ass_filter_args(tl.subtitles, tl.fonts_dir)
        v = v.filter(name, **options)
    return v.filter("format", PIX_FMT)


def _encode_options(tl: Timeline) -> dict[str, str]:
    """Output options (ffmpeg-python writes ``-key value``, sorted, with ``-f`` first)."""
    enc = tl.encode
    gop = max(1, round(enc.gop_seconds * tl.fps))
    return {
        "c:v": "libx264",
        "preset": enc.preset,
        "profile:v": "high",
        "pix_fmt": PIX_FMT,
        "crf": str(enc.crf),
        "maxrate": f"{enc.maxrate_kbps}k",
        "bufsize": f"{enc.maxrate_kbps * 2}k",
        "g": str(gop),
        "keyint_min": str(min(gop, tl.fps)),
        "x264-params": "open-gop=0",
        "fps_mode": "passthrough",
        "c:a": "copy",
        "t": _num(tl.frames / tl.fps),
        "map_metadata": "-1",
        "map_chapters": "-1",
        "movflags": "+faststart+negative_cts_offsets",
        "use_editlist": "0",
        "format": "mp4",
    }


def _compile(outputs: object, soundtrack: _Stream, audio: Path) -> list[str]:
    """ffmpeg-python's argument list (no binary, no ``-y``: ``run_ffmpeg`` adds both).

    Inputs are numbered in the order ffmpeg-python's walk back from the outputs first meets them,
    which would make the soundtrack the last input. The walk starts from the last node given, so
    the soundtrack goes last to stay input 0, mapped as ``0:a``.
    """
    args: list[str] = ffmpeg.get_args([outputs, soundtrack])
    if args[args.index("-i") + 1] != str(audio):
        raise RuntimeError("ffmpeg-python did not number the soundtrack as input 0")
    return args


def build_args(outputs: Sequence[Output]) -> list[str]:
    """FFmpeg arguments (without the binary) rendering every output in one process."""
    if not outputs:
        raise ValueError("no outputs")
    audio = outputs[0].timeline.audio
    soundtrack: _Stream = ffmpeg.input(str(audio), **input_options(audio))
    files = []
    for n, out in enumerate(outputs):
        tl = out.timeline
        if tl.audio != audio:
            raise ValueError("all outputs of one run share one soundtrack")
        inputs = [_scene_input(s, tl.fps, f"{n}.{i}") for i, s in enumerate(tl.scenes)]
        video = _video_graph(tl, inputs)
        files.append(ffmpeg.output(video, soundtrack.audio, str(out.path), **_encode_options(tl)))
    return _compile(ffmpeg.merge_outputs(*files), soundtrack, audio)
