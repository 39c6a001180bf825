"""Running the FFmpeg binary shipped in the imageio-ffmpeg wheel, with errors worth reading."""

from __future__ import annotations

import functools
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.errors import MediaError

__all__ = ["ffmpeg_exe", "run_ffmpeg"]


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _tail(text: str, lines: int = 12) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def run_ffmpeg(
    args: Sequence[str],
    *,
    stage: str,
    on_progress: Callable[[float], None] | None = None,
    total_seconds: float | None = None,
    cwd: Path | None = None,
) -> str:
    """Run ``ffmpeg ARGS``; returns stderr. ``on_progress`` gets seconds of output written."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    if on_progress is not None:
        cmd[1:1] = ["-progress", "pipe:1", "-stats_period", "0.25"]
    stderr_chunks: list[str] = []
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=cwd,
        )
    except OSError as exc:
        raise MediaError(stage, f"cannot start FFmpeg: {exc}") from exc
    with proc:  # closes both pipes, whatever happens
        if on_progress is None:
            _, err = proc.communicate()
            stderr_chunks.append(err)
        else:
            err_pipe = proc.stderr
            assert proc.stdout is not None and err_pipe is not None
            # stderr is drained on a thread so a chatty FFmpeg never blocks on a full pipe.
            reader = threading.Thread(
                target=lambda: stderr_chunks.append(err_pipe.read()), daemon=True
            )
            reader.start()
            for line in proc.stdout:
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and value.isdigit():
                    on_progress(int(value) / 1e6)
            reader.join()
            proc.wait()
    stderr = "".join(stderr_chunks)
    if proc.returncode != 0:
        detail = _tail(stderr)
        raise MediaError(
            stage, f"FFmpeg exited with {proc.returncode}" + (f":\n{detail}" if detail else "")
        )
    if on_progress is not None and total_seconds is not None:
        on_progress(total_seconds)
    return stderr
