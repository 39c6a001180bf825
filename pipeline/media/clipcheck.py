"""Checks a generated clip before it goes into an ad: long enough, big enough, not black."""

from __future__ import annotations

import re
from pathlib import Path

import av

from pipeline.containers import input_args, open_input
from pipeline.media.ffmpeg import run_ffmpeg

__all__ = ["MIN_SHORT_SIDE", "black_seconds", "check_clip_file"]

# A provider clip is scaled to cover the output; below this its short side upscales visibly.
MIN_SHORT_SIDE = 480
# More than this share of the needed length in black frames fails the clip.
MAX_BLACK_SHARE = 0.3
_BLACK = re.compile(r"black_start:\s*([\d.]+)\s+black_end:\s*([\d.]+)")


def black_seconds(path: Path, *, until: float) -> float:
    """Seconds of (nearly) black picture in the first ``until`` seconds (FFmpeg blackdetect)."""
    stderr = run_ffmpeg(
        [
            *input_args(path), "-t", f"{until:.3f}", "-i", str(path),
            "-vf", "blackdetect=d=0.1:pix_th=0.10", "-an", "-f", "null", "-",
        ],
        stage="clip check",
    )  # fmt: skip
    return sum(float(end) - float(start) for start, end in _BLACK.findall(stderr))


def check_clip_file(
    path: Path, *, needed: float, min_short_side: int = MIN_SHORT_SIDE
) -> list[str]:
    """What is wrong with the video at ``path`` for a scene ``needed`` seconds long; [] if fine."""
    try:
        with open_input(path) as container:
            if not container.streams.video:
                return ["has no video stream"]
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            else:
                duration = 0.0
    except (av.FFmpegError, OSError, ValueError) as exc:
        return [f"is not a readable video ({exc})"]
    problems = []
    # The compositor holds the last frame for a short tail (tpad), so allow 20 % short.
    if duration < needed * 0.8:
        problems.append(f"lasts {duration:.2f}s, the scene needs {needed:.2f}s")
    if min(width, height) < min_short_side:
        problems.append(f"is {width}x{height}, smaller than {min_short_side}px on its short side")
    if not problems:
        black = black_seconds(path, until=min(duration, needed))
        if black > MAX_BLACK_SHARE * min(duration, needed):
            problems.append(f"has {black:.2f}s of black frames")
    return problems
