"""FakeTranscriber: a Transcriber for tests that hears the words it was given, with no provider."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import BadInput
from pipeline.voice.audiofile import audio_info
from pipeline.voice.model import Speech, WordTiming

__all__ = ["FakeTranscriber"]


class FakeTranscriber:
    """Returns ``words`` for any readable audio file, and records each call in ``calls``."""

    def __init__(self, words: Sequence[WordTiming], *, name: str = "fake-transcriber") -> None:
        self.words = tuple(words)
        self.name = name
        self.calls: list[tuple[Path, str | None]] = []

    def transcribe(self, audio: Path, *, locale: str | None = None) -> Speech:
        """See ``Transcriber.transcribe``; validates the file as a real transcriber would."""
        info = audio_info(audio)
        self.calls.append((audio, locale))
        if not self.words:
            raise BadInput("voice.file", f"no speech found in {audio}")
        return Speech(
            path=audio,
            sample_rate=info.sample_rate,
            duration=info.duration,
            words=self.words,
            voice=self.name,
            engine=self.name,
        )
