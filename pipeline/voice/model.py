"""Speech as the rest of the pipeline sees it: an audio file and when each word is spoken."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Speech", "WordTiming"]


class WordTiming(BaseModel):
    """One spoken word; times in seconds from the start of its audio file."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class Speech(BaseModel):
    """A synthesized (or transcribed) voice line: a WAV file plus per-word timings."""

    model_config = ConfigDict(frozen=True)

    path: Path
    sample_rate: int
    duration: float
    words: tuple[WordTiming, ...]
    voice: str  # the voice that spoke: "heart", "en-us", "elevenlabs:<voice id>"
    engine: str  # what made the audio: "hibari", "espeak-ng", "elevenlabs", a transcriber
    spoken: str | None = None  # the text the engine was given, when it differs from the words
