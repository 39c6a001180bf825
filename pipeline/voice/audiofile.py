"""A user's own audio file (a voice-over): how long it lasts and at what rate, or why it is unusable."""

from __future__ import annotations

from pathlib import Path

import av
from pydantic import BaseModel, ConfigDict

from pipeline.containers import open_input
from pipeline.errors import BadInput

__all__ = ["AudioInfo", "audio_info"]


class AudioInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    duration: float  # seconds
    sample_rate: int


def audio_info(path: Path, *, field: str = "voice.file") -> AudioInfo:
    """Probe ``path`` (an admitted copy, read by its container's demuxer); BadInput naming
    ``field`` if it has no sound."""
    if not path.is_file():
        raise BadInput(field, f"file not found: {path}")
    try:
        with open_input(path) as container:
            if not container.streams.audio:
                raise BadInput(field, f"file has no audio stream: {path}")
            stream = container.streams.audio[0]
            rate = int(stream.codec_context.sample_rate or 0)
            duration = float(container.duration or 0) / av.time_base
            if duration <= 0 and stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            if duration <= 0:
                # Raw streams carry no duration: count the samples.
                samples = sum(frame.samples for frame in container.decode(stream))
                duration = samples / rate if rate else 0.0
    except (av.FFmpegError, ValueError) as exc:
        raise BadInput(field, f"not a readable audio file ({exc}): {path}") from None
    if duration <= 0 or rate <= 0:
        raise BadInput(field, f"audio file is empty: {path}")
    return AudioInfo(duration=duration, sample_rate=rate)
