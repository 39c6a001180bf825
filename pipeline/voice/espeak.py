"""EspeakVoice: the offline VoiceSynth, eSpeak NG with word timings from the engine's own events."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np

from pipeline.errors import BadInput
from pipeline.voice import _engine
from pipeline.voice.locales import check_rate, voice_for
from pipeline.voice.model import Speech
from pipeline.voice.timing import align_words
from pipeline.voice.wav import write_wav

__all__ = ["EspeakVoice", "clean_text"]


def clean_text(text: str) -> str:
    """`text` with control and unencodable characters blanked, one for one.

    Keeping the length unchanged keeps eSpeak's character positions valid for the
    returned string; a NUL would otherwise cut the C string short.
    """
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)
    if not cleaned.strip():
        raise BadInput("voice.text", "there is no text to speak")
    return cleaned


def _check_voice(voice: str) -> str:
    voice = voice.strip()
    if not voice:
        raise BadInput("voice.name", "is empty")
    # eSpeak silently ignores an unknown "+variant", so check it against the data folder.
    _, plus, variant = voice.partition("+")
    if plus and not (_engine.data_path() / "voices" / "!v" / variant).is_file():
        raise BadInput("voice.name", f"eSpeak NG has no voice variant {variant!r}")
    return voice


class EspeakVoice:
    """Speaks with the eSpeak NG library bundled in the espeakng-loader wheel (no network)."""

    def synthesize(
        self,
        text: str,
        *,
        locale: str,
        out: Path,
        voice: str | None = None,
        rate: int | None = None,
    ) -> Speech:
        """See `VoiceSynth.synthesize`; an explicit `voice` makes `locale` irrelevant."""
        spoken = clean_text(text)
        name = voice_for(locale) if voice is None else _check_voice(voice)
        raw = _engine.synthesize(spoken, name, check_rate(rate))
        pcm = np.frombuffer(raw.pcm, dtype=np.int16)
        words = align_words(spoken, raw.words, pcm, raw.sample_rate)
        if not words:
            raise BadInput("voice.text", f"eSpeak NG found no words to speak in {text!r}")
        write_wav(out, pcm, raw.sample_rate)
        return Speech(
            path=out,
            sample_rate=raw.sample_rate,
            duration=len(pcm) / raw.sample_rate,
            words=words,
            voice=name,
        )
