"""OfflineVoice: the default VoiceSynth, with no network and no key. English is spoken by
hibari's neural voice in reelforge's process; every other language by eSpeak NG in its helper
process, until a neural voice for it ships in a package. A brief that names an eSpeak voice
("en-us+f3") gets eSpeak in English too."""

from __future__ import annotations

from pathlib import Path

from pipeline.voice.espeak import EspeakVoice
from pipeline.voice.hibari_model import bundled_voices
from pipeline.voice.model import Speech
from pipeline.voice.neural import NeuralVoice, speaks_english
from pipeline.voice.port import VoiceSynth

__all__ = ["OfflineVoice"]


class OfflineVoice:
    """Picks the engine per line from its locale and the voice asked for."""

    concurrent = True  # both engines speak independent lines at once

    def __init__(self, neural: VoiceSynth | None = None, espeak: VoiceSynth | None = None) -> None:
        self.neural: VoiceSynth = neural if neural is not None else NeuralVoice()
        self.espeak: VoiceSynth = espeak if espeak is not None else EspeakVoice()

    def engine_for(self, locale: str, voice: str | None = None) -> VoiceSynth:
        """The neural voice for English (by default, or a hibari voice by name), else eSpeak."""
        if speaks_english(locale) and (voice is None or voice.strip() in bundled_voices()):
            return self.neural
        return self.espeak

    def synthesize(
        self,
        text: str,
        *,
        locale: str,
        out: Path,
        voice: str | None = None,
        rate: int | None = None,
    ) -> Speech:
        """See `VoiceSynth.synthesize`."""
        engine = self.engine_for(locale, voice)
        return engine.synthesize(text, locale=locale, out=out, voice=voice, rate=rate)
