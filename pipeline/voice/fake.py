"""FakeVoice: a deterministic VoiceSynth for tests, a quiet tone per word and no speech engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.errors import BadInput
from pipeline.voice.locales import DEFAULT_RATE, check_rate, voice_for
from pipeline.voice.model import Speech, WordTiming
from pipeline.voice.timing import split_words
from pipeline.voice.wav import write_wav

__all__ = ["FakeVoice"]


class FakeVoice:
    """Each word: `word_seconds` of 220 Hz tone (scaled by rate), then `gap_seconds` of silence."""

    sample_rate = 22050

    def __init__(self, word_seconds: float = 0.3, gap_seconds: float = 0.05) -> None:
        self.word_seconds = word_seconds
        self.gap_seconds = gap_seconds

    def synthesize(
        self,
        text: str,
        *,
        locale: str,
        out: Path,
        voice: str | None = None,
        rate: int | None = None,
    ) -> Speech:
        """See `VoiceSynth.synthesize`; validates like EspeakVoice, so error paths can be tested."""
        words = [m.group() for m in split_words(text)]
        if not words:
            raise BadInput("voice.text", "there is no text to speak")
        if voice is not None and not voice.strip():
            raise BadInput("voice.name", "is empty")
        name = f"fake:{voice_for(locale) if voice is None else voice.strip()}"
        sr = self.sample_rate
        # Whole samples per slot keep starts exact and the WAV length equal to `duration`.
        word_len = round(self.word_seconds * DEFAULT_RATE / check_rate(rate) * sr)
        gap_len = round(self.gap_seconds * sr)
        tone = (0.05 * 32767 * np.sin(2 * np.pi * 220 * np.arange(word_len) / sr)).astype(np.int16)
        slot = np.concatenate([tone, np.zeros(gap_len, dtype=np.int16)])
        pcm = np.tile(slot, len(words))[: len(words) * (word_len + gap_len) - gap_len]
        timings = tuple(
            WordTiming(
                text=word,
                start=i * (word_len + gap_len) / sr,
                end=(i * (word_len + gap_len) + word_len) / sr,
            )
            for i, word in enumerate(words)
        )
        write_wav(out, pcm, sr)
        return Speech(
            path=out, sample_rate=sr, duration=len(pcm) / sr, words=timings, voice=name,
            engine="fake",
        )  # fmt: skip
