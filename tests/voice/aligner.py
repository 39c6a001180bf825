"""A forced aligner independent of the voice under test: PocketSphinx's English acoustic model
(BSD-2, on the package index; a test dependency only) places each word of a known transcript
in a WAV."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from .audio import read_pcm

__all__ = ["Aligned", "align", "onset_errors", "spoken_words"]

RATE = 16000  # PocketSphinx's acoustic model
FRAME = 0.01  # seconds per PocketSphinx frame
# Quiet added before the audio: PocketSphinx places a word at the very start of a file poorly
# (its silence model needs frames of its own), so it hears the first word after some silence.
LEAD = 0.3


@dataclass(frozen=True)
class Aligned:
    word: str
    start: float
    end: float


@functools.cache
def _decoder() -> Any:
    from pocketsphinx import Decoder

    return Decoder(samprate=RATE, bestpath=False, loglevel="FATAL")


def spoken_words(text: str) -> list[str]:
    """The words of ``text`` as the aligner's dictionary spells them ("twenty-four" is two)."""
    return re.findall(r"[a-z']+", text.lower())


def align(wav: Path, transcript: str) -> list[Aligned]:
    """The words of ``transcript`` as PocketSphinx finds them in ``wav`` (silences left out)."""
    pcm, rate = read_pcm(wav)
    g = np.gcd(RATE, rate)
    audio = np.clip(resample_poly(pcm, RATE // g, rate // g), -32768, 32767).astype("<i2")
    audio = np.concatenate([np.zeros(round(LEAD * RATE), dtype="<i2"), audio])
    decoder = _decoder()
    decoder.set_align_text(" ".join(spoken_words(transcript)))
    decoder.start_utt()
    decoder.process_raw(audio.tobytes(), full_utt=True)
    decoder.end_utt()
    return [
        Aligned(
            re.sub(r"\(\d+\)$", "", s.word),
            s.start_frame * FRAME - LEAD,
            (s.end_frame + 1) * FRAME - LEAD,
        )
        for s in decoder.seg()
        if s.word not in ("<s>", "</s>", "<sil>", "(NULL)") and not s.word.startswith("++")
    ]


def onset_errors(starts: list[float], transcript: str, wav: Path) -> list[float]:
    """Each word's onset as the voice timed it minus where the aligner hears it begin."""
    found = align(wav, transcript)
    assert [a.word for a in found] == spoken_words(transcript), "the aligner lost a word"
    assert len(starts) == len(found)
    return [start - a.start for start, a in zip(starts, found, strict=True)]
