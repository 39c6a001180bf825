"""Composition in this process: FFmpeg runs one timeline (or all of them) at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pipeline.media.ffmpeg import run_ffmpeg
from pipeline.media.graph import Output, build_args

__all__ = ["COMPOSE_MODE", "LocalComposer"]

# Measured by bench/render_bench.py: sequential per-format runs are leaner, and not slower, than
# one FFmpeg process encoding every format at once on two cores.
COMPOSE_MODE = "per_format"


def _share(progress: Callable[[float], None], done: float, total: float) -> Callable[[float], None]:
    """Progress of one output's run as a share of every output's seconds."""

    def advance(seconds: float) -> None:
        progress(min(1.0, (done + seconds) / total))

    return advance


class LocalComposer:
    """Composes in this process: one FFmpeg run per format after another (``per_format``), or
    one run encoding every format at once (``single``)."""

    def __init__(self, mode: str = COMPOSE_MODE) -> None:
        if mode not in ("per_format", "single"):
            raise ValueError(f"unknown compose mode {mode!r}")
        self.mode = mode

    def compose(self, outputs: Sequence[Output], progress: Callable[[float], None]) -> None:
        duration = outputs[0].timeline.duration
        if self.mode == "single":
            run_ffmpeg(
                build_args(outputs), stage="compose", total_seconds=duration,
                on_progress=lambda t: progress(min(1.0, t / duration)),
            )  # fmt: skip
            return
        total = duration * len(outputs)
        for n, out in enumerate(outputs):
            run_ffmpeg(
                build_args([out]), stage="compose",
                on_progress=_share(progress, n * duration, total),
            )  # fmt: skip
