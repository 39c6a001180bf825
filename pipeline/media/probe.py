"""What a media file really is, read with PyAV (the wheel ships no ffprobe): frozen results."""

from __future__ import annotations

import itertools
import struct
from fractions import Fraction
from pathlib import Path

import av
from pydantic import BaseModel, ConfigDict

from pipeline.containers import open_input
from pipeline.errors import MediaError

__all__ = ["Probe", "probe", "top_level_boxes"]


class Probe(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: Path
    size_bytes: int
    duration: float  # container duration, seconds
    bit_rate: int
    width: int
    height: int
    fps: float
    video_codec: str
    profile: str | None
    pix_fmt: str | None
    video_duration: float
    constant_frame_rate: bool  # every frame lasts exactly 1/fps
    max_keyframe_interval: float  # seconds between consecutive keyframes, at most
    closed_gop: bool | None
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None
    audio_bit_rate: int | None
    faststart: bool  # the moov box precedes mdat
    edit_list: bool  # an elst box is present


def top_level_boxes(path: Path) -> list[str]:
    """The four-letter types of an MP4's top-level boxes, in file order."""
    boxes: list[str] = []
    with path.open("rb") as fh:
        while True:
            header = fh.read(8)
            if len(header) < 8:
                break
            size, kind = struct.unpack(">I4s", header)
            boxes.append(kind.decode("latin-1"))
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
                fh.seek(size - 16, 1)
            elif size == 0:
                break
            else:
                fh.seek(size - 8, 1)
    return boxes


def _has_edit_list(path: Path) -> bool:
    # Boxes are small at the front with faststart; scanning the moov bytes is enough.
    data = path.read_bytes()[: 8 * 1024 * 1024]
    return b"elst" in data


def probe(path: Path) -> Probe:
    try:
        container = open_input(path)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError("probe", f"cannot open {path}: {exc}") from exc
    with container:
        if not container.streams.video:
            raise MediaError("probe", f"{path} has no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        rate = video.guessed_rate or video.average_rate or Fraction(0)
        tb = video.time_base or Fraction(1, 1000)
        key_times: list[float] = []
        stamps: list[int] = []
        last_end = 0.0
        for packet in container.demux(video):
            if packet.pts is None:
                continue
            stamps.append(packet.pts)
            t = float(packet.pts * tb)
            if packet.is_keyframe:
                key_times.append(t)
            last_end = max(last_end, t + float((packet.duration or 0) * tb))
        gaps = [b - a for a, b in itertools.pairwise(key_times)]
        if key_times:
            gaps.append(last_end - key_times[-1])
        stamps.sort()
        steps = {b - a for a, b in itertools.pairwise(stamps)}
        ctx = video.codec_context
        result = Probe(
            path=path,
            size_bytes=path.stat().st_size,
            duration=float(container.duration or 0) / av.time_base,
            bit_rate=int(container.bit_rate or 0),
            width=ctx.width,
            height=ctx.height,
            fps=float(rate),
            video_codec=ctx.name,
            profile=ctx.profile,
            pix_fmt=ctx.pix_fmt,
            video_duration=last_end,
            constant_frame_rate=len(steps) <= 1,
            max_keyframe_interval=max(gaps) if gaps else 0.0,
            closed_gop=None,
            audio_codec=audio.codec_context.name if audio else None,
            sample_rate=audio.codec_context.sample_rate if audio else None,
            channels=audio.codec_context.channels if audio else None,
            audio_bit_rate=int(audio.bit_rate or 0) if audio else None,
            faststart=_moov_first(path),
            edit_list=_has_edit_list(path),
        )
    return result


def _moov_first(path: Path) -> bool:
    boxes = top_level_boxes(path)
    return "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")
