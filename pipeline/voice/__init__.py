"""Voice-over: the VoiceSynth port, its offline adapters (hibari's neural English voice, eSpeak
NG), text normalisation, a test fake and the Speech model."""

from __future__ import annotations

from pipeline.voice.espeak import EspeakVoice
from pipeline.voice.fake import FakeVoice
from pipeline.voice.fake_transcriber import FakeTranscriber
from pipeline.voice.model import Speech, WordTiming
from pipeline.voice.neural import NeuralVoice
from pipeline.voice.normalisation import normalise
from pipeline.voice.offline import OfflineVoice
from pipeline.voice.port import Transcriber, VoiceSynth
from pipeline.voice.spoken import SpokenText, speak
from pipeline.voice.wav import wav_duration

__all__ = [
    "EspeakVoice",
    "FakeTranscriber",
    "FakeVoice",
    "NeuralVoice",
    "OfflineVoice",
    "Speech",
    "SpokenText",
    "Transcriber",
    "VoiceSynth",
    "WordTiming",
    "normalise",
    "speak",
    "wav_duration",
]
