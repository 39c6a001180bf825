"""Mono 16-bit PCM WAV files: atomic writing and duration probing."""

from __future__ import annotations

import contextlib
import os
import tempfile
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.errors import MediaError

__all__ = ["wav_duration", "write_wav"]


def write_wav(out: Path, samples: npt.NDArray[np.int16], sample_rate: int) -> None:
    """Write `samples` as a mono 16-bit WAV; readers never see a half-written `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    # Same folder as `out` so os.replace is a rename on one filesystem (atomic).
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle, wave.open(handle, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(samples.astype("<i2", copy=False).tobytes())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def wav_duration(path: Path) -> float:
    """Length of a PCM WAV file in seconds."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, EOFError, wave.Error) as exc:
        raise MediaError("wav", f"cannot read {path}: {exc}") from exc
