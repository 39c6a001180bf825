"""The timeline: plain, versioned data that says what is on screen and heard at each moment.

A pure function (``pipeline.media.graph``) turns it into FFmpeg arguments; nothing here does I/O.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.formats import FormatSpec

__all__ = [
    "Encode",
    "Motion",
    "Rect",
    "StillClip",
    "Timeline",
    "TimelineFile",
    "TimelineScene",
    "Transition",
    "VideoClip",
]

TIMELINE_VERSION: Literal[1] = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rect(_Frozen):
    """A window into an image, in fractions of its width and height."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(gt=0, le=1)
    h: float = Field(gt=0, le=1)


class Motion(_Frozen):
    """Ken Burns: the visible window moves from ``start`` to ``end`` over the clip."""

    start: Rect
    end: Rect
    easing: Literal["linear", "ease_in_out"] = "ease_in_out"


class StillClip(_Frozen):
    kind: Literal["still"] = "still"
    image: Path
    width: int  # the prepared image's size; the working resolution of the motion
    height: int
    motion: Motion | None = None


class VideoClip(_Frozen):
    kind: Literal["video"] = "video"
    path: Path
    trim_start: float = 0.0


Clip = Annotated[StillClip | VideoClip, Field(discriminator="kind")]


class Transition(_Frozen):
    name: str = "fade"
    duration: float = Field(default=0.4, ge=0, le=1.0)


class TimelineScene(_Frozen):
    index: int
    start: float = Field(ge=0)  # when the scene starts on the output (its beat)
    beat: float = Field(gt=0)  # seconds until the next scene starts
    clip: Clip
    transition: Transition | None = None  # into the next scene

    @property
    def length(self) -> float:
        """Seconds of picture the clip must supply: its beat plus the overlap into the next."""
        return self.beat + (self.transition.duration if self.transition else 0.0)


class Encode(_Frozen):
    preset: str = "veryfast"
    crf: int = Field(default=20, ge=0, le=51)
    maxrate_kbps: int = 12000
    gop_seconds: float = 2.0
    audio_kbps: int = 192


class Timeline(_Frozen):
    version: Literal[1] = TIMELINE_VERSION
    spec: FormatSpec
    fps: int = 30
    duration: float
    scenes: tuple[TimelineScene, ...]
    subtitles: Path | None = None  # an .ass file (captions and headlines)
    fonts_dir: Path | None = None
    audio: Path  # the finished, loudness-normalized soundtrack (AAC in .m4a)
    encode: Encode = Encode()

    @property
    def frames(self) -> int:
        return round(self.duration * self.fps)


class TimelineFile(_Frozen):
    """Timelines saved to a file (``reelforge render --export-timeline``): one per format, with
    paths relative to the file's folder, composed again by ``reelforge compose``."""

    version: Literal[1] = TIMELINE_VERSION
    timelines: tuple[Timeline, ...] = Field(min_length=1)
