"""The VoiceSynth port: what any text-to-speech backend must offer the pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pipeline.voice.model import Speech

__all__ = ["Transcriber", "VoiceSynth"]


class VoiceSynth(Protocol):
    """Speaks text into a WAV file and reports when each word is spoken."""

    def synthesize(
        self,
        text: str,
        *,
        locale: str,
        out: Path,
        voice: str | None = None,
        rate: int | None = None,
    ) -> Speech:
        """Write `text` spoken aloud to `out` (mono 16-bit PCM WAV, atomically) and describe it.

        `locale` picks the voice (e.g. "en-US", "it"); `voice` overrides that choice;
        `rate` is in words per minute, None for the engine default.
        Raises `BadInput` for empty text, an unknown locale or voice, or a rate out of range.
        """
        ...


class Transcriber(Protocol):
    """Speech to text with a time for every word: brings a user's own voice-over to captions."""

    def transcribe(self, audio: Path, *, locale: str | None = None) -> Speech:
        """The words spoken in ``audio`` (any format FFmpeg reads) with their times.

        The returned Speech's ``path`` is ``audio``; ``voice`` names the transcriber.
        Raises BadInput if the file is unreadable or holds no speech.
        """
        ...
