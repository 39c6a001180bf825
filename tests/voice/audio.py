"""Test helpers: read a WAV back and measure its loudness over a time window."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from pipeline.voice import Speech, wav_duration


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


def assert_valid_speech(speech: Speech, text: str, out: Path, *, rate: int) -> None:
    """A real WAV whose word timings cover exactly the input's words, in order."""
    assert speech.path == out
    with wave.open(str(out), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        assert wav.getframerate() == speech.sample_rate == rate
    assert wav_duration(out) == pytest.approx(speech.duration)
    assert [w.text for w in speech.words] == text.split()
    assert 0.15 < speech.duration / len(speech.words) < 0.8  # plausible speech pace
    for word in speech.words:
        assert 0 <= word.start <= word.end <= speech.duration
    for before, after in zip(speech.words, speech.words[1:], strict=False):
        assert before.start < after.start
        assert before.end <= after.start
