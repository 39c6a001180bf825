"""Untrusted audio files: accepted only as one self-contained audio file (WAV, MP3, M4A, AAC,
FLAC, Ogg), never as a playlist or any container that names other files.

FFmpeg guesses a demuxer from a file's content, and some demuxers (HLS, concat, SDP, image2)
open the files or URLs a file names: a ``.wav`` holding ``#EXTM3U`` and ``file:///etc/passwd``
reads the server's files into the render. So the file's first bytes must carry the signature
of an allowed container, that one demuxer is forced (FFmpeg probes nothing), nested opens are
limited to local files and that demuxer (``pipeline.containers``), and the demuxer FFmpeg
reports is checked again before a packet is read. Then every audio packet is decoded, and a
file that decodes to less than it declares is truncated.
"""

from __future__ import annotations

import struct
from pathlib import Path

import av

from pipeline.containers import (
    Container,
    Role,
    accepted,
    open_input,
    sniff,
    sniff_reference_list,
)
from pipeline.errors import BadInput

__all__ = ["check_audio", "verify_audio"]

# A decoded length this much shorter than the declared one (seconds, or a share) is truncation.
_SLACK_SECONDS = 0.5
_SLACK_SHARE = 0.02


def check_audio(path: Path, *, field: str, name: str) -> Container:
    """The container of an untrusted audio file, once its signature, demuxer, streams and every
    packet have been checked; BadInput naming ``field`` (and the file as ``name``) otherwise."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    fmt = sniff(head, Role.AUDIO)
    if fmt is None:
        listed = sniff_reference_list(head)
        if listed is not None:
            raise BadInput(
                field, f"{name} is {listed}, which refers to other files: upload the audio itself"
            )
        raise BadInput(
            field, f"{name} is not a single-file audio container ({accepted(Role.AUDIO)})"
        )
    verify_audio(path, fmt, field=field, name=name)
    return fmt


def verify_audio(path: Path, fmt: Container, *, field: str, name: str) -> None:
    """``path`` read as ``fmt`` (its demuxer forced): audio streams only (cover art aside), every
    packet decoded, nothing missing; BadInput naming ``field`` and ``name`` otherwise."""
    try:
        container = open_input(path, fmt)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise BadInput(
            field, f"{name} is not a readable {fmt.label} file ({_reason(exc)})"
        ) from None
    with container:
        if container.format.name != fmt.demuxer:
            raise BadInput(field, f"{name} was read as {container.format.name}, not {fmt.label}")
        _check_streams(container, field, name)
        decoded, declared = _decode(container, field, name)
    if fmt.label == "WAV":
        _check_wav_length(path, field, name)
    if decoded <= 0:
        raise BadInput(field, f"{name} has no audio in it")
    if declared > decoded + max(_SLACK_SECONDS, declared * _SLACK_SHARE):
        raise BadInput(
            field,
            f"{name} is truncated: it declares {declared:.1f} s of audio, holds {decoded:.1f} s",
        )


def _check_wav_length(path: Path, field: str, name: str) -> None:
    """A WAV whose data chunk declares more bytes than the file holds was cut short (FFmpeg
    quietly shortens its duration to what is there, so decoding alone cannot tell)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(12)
        while (header := fh.read(8)) and len(header) == 8:
            chunk, length = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk == b"data":
                available = size - fh.tell()
                # 0 and 0xFFFFFFFF: a stream written without knowing its length.
                if length not in (0, 0xFFFFFFFF) and length > available:
                    raise BadInput(
                        field, f"{name} is truncated: it declares {length} bytes of audio, "
                        f"holds {available}",
                    )  # fmt: skip
                return
            fh.seek(length + (length & 1), 1)


def _reason(exc: Exception) -> str:
    text = str(exc).split(":")[0] if isinstance(exc, av.FFmpegError) else type(exc).__name__
    return text.strip() or type(exc).__name__


def _check_streams(container: av.container.InputContainer, field: str, name: str) -> None:
    """At least one audio stream; any video stream must be cover art (an attached picture)."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            raise BadInput(field, f"{name} holds video: upload audio only")
    if not container.streams.audio:
        raise BadInput(field, f"{name} has no audio stream")


def _decode(container: av.container.InputContainer, field: str, name: str) -> tuple[float, float]:
    """Seconds decoded from the first audio stream, and the seconds it declares (0 if none)."""
    stream = container.streams.audio[0]
    declared = 0.0
    if stream.duration is not None and stream.time_base is not None:
        declared = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        declared = container.duration / av.time_base
    samples = 0
    rate = stream.codec_context.sample_rate or 0
    try:
        for frame in container.decode(stream):
            samples += frame.samples
            rate = frame.sample_rate or rate
    except (av.FFmpegError, ValueError) as exc:
        raise BadInput(field, f"{name} is corrupt or truncated ({_reason(exc)})") from None
    return (samples / rate if rate else 0.0), declared
