"""Timeline → FFmpeg arguments, as a pure function: one filter graph renders every format asked.

Motion uses the ``perspective`` filter: it samples with sub-pixel precision, so a slow Ken Burns
drifts smoothly instead of stepping a pixel at a time as crop- or zoompan-based motion does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.media.ffmpeg import SAFE_PROTOCOLS
from pipeline.timeline import Motion, StillClip, Timeline, TimelineScene, VideoClip

__all__ = ["Output", "build_args", "motion_exprs"]


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


def _quote(expr: str) -> str:
    # Expressions hold commas; single quotes keep them inside one option value.
    return f"'{expr}'"


def _scene_chain(scene: TimelineScene, frames: int, tl: Timeline, src: str, out: str) -> str:
    w, h, fps = tl.spec.width, tl.spec.height, tl.fps
    clip = scene.clip
    if isinstance(clip, StillClip):
        parts = [
            "format=yuv420p",
            f"loop=loop={frames - 1}:size=1:start=0",
            f"setpts=N/{fps}/TB",
        ]
        if clip.motion is not None:
            exprs = motion_exprs(clip.motion, frames)
            options = ":".join(f"{k}={_quote(v)}" for k, v in exprs.items())
            parts.append(f"perspective={options}:interpolation=linear:eval=frame")
        if (clip.width, clip.height) != (w, h):
            parts.append(f"scale={w}:{h}:flags=bicubic")
        parts.append("setsar=1")
    else:
        assert isinstance(clip, VideoClip)
        seconds = frames / fps
        parts = [
            f"trim=start={_num(clip.trim_start)}:duration={_num(seconds)}",
            "setpts=PTS-STARTPTS",
            f"fps={fps}",
            f"scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic",
            f"crop={w}:{h}",
            "setsar=1",
            "format=yuv420p",
            f"tpad=stop_mode=clone:stop_duration={_num(seconds)}",
            f"trim=end_frame={frames}",
        ]
    return f"[{src}]{','.join(parts)}[{out}]"


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


def _video_graph(tl: Timeline, first_input: int, tag: str) -> tuple[list[str], str]:
    """Scene chains, crossfades and captions for one format.

    ``xfade`` costs a full-frame pass on every frame it sees, inside the transition or not, so
    each scene is cut into head, body and tail: only the short overlaps go through ``xfade`` and
    ``concat`` (which only shifts timestamps) joins the pieces.
    """
    from pipeline.captions import ass_filter

    chains: list[str] = []
    plan = _frame_plan(tl)
    segments: list[str] = []
    n = len(tl.scenes)
    for i, (scene, (_, frames, _)) in enumerate(zip(tl.scenes, plan, strict=True)):
        src = f"{tag}s{i}"
        chains.append(_scene_chain(scene, frames, tl, f"{first_input + i}:v", src))
        head = plan[i - 1][2] if i > 0 else 0
        tail = plan[i][2] if i + 1 < n else 0
        parts = [(name, a, b) for name, a, b in (
            ("h", 0, head), ("b", head, frames - tail), ("t", frames - tail, frames)
        ) if b > a]  # fmt: skip
        if len(parts) == 1:
            chains.append(f"[{src}]null[{tag}{parts[0][0]}{i}]")
        else:
            outs = "".join(f"[{tag}{name}{i}in]" for name, _, _ in parts)
            chains.append(f"[{src}]split={len(parts)}{outs}")
            for name, a, b in parts:
                chains.append(
                    f"[{tag}{name}{i}in]trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS[{tag}{name}{i}]"
                )
    for i in range(n):
        segments.append(f"{tag}b{i}")
        if i + 1 < n and plan[i][2] > 0:
            trans = tl.scenes[i].transition
            assert trans is not None
            out = f"{tag}x{i}"
            chains.append(
                f"[{tag}t{i}][{tag}h{i + 1}]xfade=transition={trans.name}"
                f":duration={_num(plan[i][2] / tl.fps)}:offset=0[{out}]"
            )
            segments.append(out)
    joined = f"{tag}cat"
    chains.append(
        f"{''.join(f'[{s}]' for s in segments)}concat=n={len(segments)}:v=1:a=0[{joined}]"
    )
    # Exact timestamps and a declared 30 fps let the encoder pass frames through untouched:
    # a cfr resampler at the output would drop or repeat frames on rounding noise.
    final = [f"trim=end_frame={tl.frames}", f"setpts=N/{tl.fps}/TB", f"fps={tl.fps}"]
    if tl.subtitles is not None:
        final.append(ass_filter(tl.subtitles, tl.fonts_dir))
    final.append("format=yuv420p")
    label = f"{tag}v"
    chains.append(f"[{joined}]{','.join(final)}[{label}]")
    return chains, label


def _encode_args(tl: Timeline) -> list[str]:
    enc = tl.encode
    gop = max(1, round(enc.gop_seconds * tl.fps))
    return [
        "-c:v", "libx264",
        "-preset", enc.preset,
        "-profile:v", "high",
        "-pix_fmt", "yuv420p",
        "-crf", str(enc.crf),
        "-maxrate", f"{enc.maxrate_kbps}k",
        "-bufsize", f"{enc.maxrate_kbps * 2}k",
        "-g", str(gop),
        "-keyint_min", str(min(gop, tl.fps)),
        "-x264-params", "open-gop=0",
        "-fps_mode", "passthrough",
        "-c:a", "copy",
        "-t", _num(tl.frames / tl.fps),
        "-map_metadata", "-1",
        "-map_chapters", "-1",
        "-movflags", "+faststart+negative_cts_offsets",
        "-use_editlist", "0",
        "-f", "mp4",
    ]  # fmt: skip


def build_args(outputs: Sequence[Output]) -> list[str]:
    """FFmpeg arguments (without the binary) rendering every output in one process."""
    if not outputs:
        raise ValueError("no outputs")
    audio = outputs[0].timeline.audio
    args: list[str] = ["-protocol_whitelist", SAFE_PROTOCOLS, "-i", str(audio)]
    chains: list[str] = []
    labels: list[str] = []
    next_input = 1
    for n, out in enumerate(outputs):
        tl = out.timeline
        if tl.audio != audio:
            raise ValueError("all outputs of one run share one soundtrack")
        for scene in tl.scenes:
            if isinstance(scene.clip, StillClip):
                # read at the timeline's rate, so stills and provider videos meet in xfade
                # with one frame rate and time base
                args += ["-framerate", str(tl.fps), "-protocol_whitelist", SAFE_PROTOCOLS,
                         "-i", str(scene.clip.image)]  # fmt: skip
            else:
                args += ["-protocol_whitelist", SAFE_PROTOCOLS, "-i", str(scene.clip.path)]
        graph, label = _video_graph(tl, next_input, f"f{n}")
        next_input += len(tl.scenes)
        chains += graph
        labels.append(label)
    args += ["-filter_complex", ";".join(chains)]
    for out, label in zip(outputs, labels, strict=True):
        args += ["-map", f"[{label}]", "-map", "0:a", *_encode_args(out.timeline), str(out.path)]
    return args
