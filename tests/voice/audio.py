"""Test helpers: read a WAV back and measure its loudness over a time window."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt


def read_pcm(path: Path) -> tuple[npt.NDArray[np.float64], int]:
    """Samples (as floats in int16 units) and sample rate of a mono 16-bit WAV."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, dtype="<i2").astype(np.float64), wav.getframerate()


def rms(samples: npt.NDArray[np.float64], rate: int, start: float, end: float) -> float:
    """Root-mean-square level between two times, in int16 units."""
    window = samples[int(start * rate) : int(end * rate)]
    assert window.size > 0
    return float(np.sqrt(np.mean(window**2)))
