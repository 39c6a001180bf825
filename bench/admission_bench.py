"""Media admission benchmark: what admitting a render's inputs costs (copy, SHA-256, signature,
probe), against decoding the same file once. Audio is decoded in full (a truncated file must be
caught); pictures and provider clips only to their first frame.

    python bench/admission_bench.py
    python bench/admission_bench.py --seconds 180
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.containers import Role, input_args
from pipeline.media.ffmpeg import ffmpeg_exe
from pipeline.media.inputs import admit


def _make(out: Path, *args: str) -> Path:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args, str(out)], check=True)
    return out


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _decode(path: Path) -> None:
    """One full decode by FFmpeg, as the render's mix or composition does."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", *input_args(path), "-i", str(path), "-f", "null", "-"],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the media")
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        tone = f"sine=f=440:d={seconds}"
        files = [
            (Role.AUDIO, _make(root / "music.mp3", "-f", "lavfi", "-i", tone, "-b:a", "192k")),
            (Role.AUDIO, _make(root / "music.m4a", "-f", "lavfi", "-i", tone, "-c:a", "aac")),
            (Role.AUDIO, _make(root / "music.flac", "-f", "lavfi", "-i", tone)),
            (Role.AUDIO, _make(root / "voice.wav", "-f", "lavfi", "-i", tone)),
            (Role.VIDEO, _make(root / "clip.mp4", "-f", "lavfi", "-i",
                               "testsrc2=s=1080x1920:r=30:d=10", "-c:v", "libx264",
                               "-preset", "ultrafast", "-pix_fmt", "yuv420p")),
            (Role.IMAGE, _make(root / "photo.jpg", "-f", "lavfi", "-i",
                               "testsrc2=s=4000x3000", "-frames:v", "1", "-q:v", "3")),
        ]  # fmt: skip
        print(f"{'file':<12}{'MB':>8}{'admit s':>10}{'one decode s':>14}")
        for n, (role, path) in enumerate(files):
            into = root / f"inputs{n}"
            admitted = _best(lambda p=path, r=role, i=into: admit(p, r, into=i, field="bench"))
            decoded = _best(lambda p=path: _decode(p))
            size = path.stat().st_size / 1e6
            print(f"{path.name:<12}{size:>8.1f}{admitted:>10.3f}{decoded:>14.3f}")


if __name__ == "__main__":
    main()
