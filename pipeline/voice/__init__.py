"""Voice-over: the VoiceSynth port, its eSpeak NG adapter, a test fake and the Speech model."""

from __future__ import annotations

from pipeline.voice.espeak import EspeakVoice
from pipeline.voice.fake import FakeVoice
from pipeline.voice.fake_transcriber import FakeTranscriber
from pipeline.voice.model import Speech, WordTiming
from pipeline.voice.port import Transcriber, VoiceSynth
from pipeline.voice.wav import wav_duration

__all__ = [
    "EspeakVoice",
    "FakeTranscriber",
    "FakeVoice",
    "Speech",
    "Transcriber",
    "VoiceSynth",
    "WordTiming",
    "wav_duration",
]
