"""Untrusted audio files: accepted only as one self-contained audio file (WAV, MP3, M4A, AAC,
FLAC, Ogg), never as a playlist or any container that names other files.

FFmpeg guesses a demuxer from a file's content, and some demuxers (HLS, concat, SDP, image2)
open the files or URLs a file names: a ``.wav`` holding ``#EXTM3U`` and ``file:///etc/passwd``
reads the server's files into the render. So the file's first bytes must carry the signature
of an allowed container, that one demuxer is forced (FFmpeg probes nothing), nested opens are
limited to local files, and the demuxer FFmpeg reports is checked again before a packet is
read. Then every audio packet is decoded, and a file that decodes to less than it declares is
truncated.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import av

from pipeline.errors import BadInput

__all__ = ["AUDIO_FORMATS", "AudioFormat", "check_audio", "sniff_audio", "sniff_reference_list"]


@dataclass(frozen=True)
class AudioFormat:
    """An accepted container: FFmpeg's demuxer for it, the name it reports, how it is stored."""

    label: str
    demuxer: str
    reported: str
    extension: str
    content_type: str
    suffixes: frozenset[str]


AUDIO_FORMATS: Final = {
    f.label: f
    for f in (
        AudioFormat("WAV", "wav", "wav", ".wav", "audio/wav", frozenset({".wav", ".wave"})),
        AudioFormat("MP3", "mp3", "mp3", ".mp3", "audio/mpeg", frozenset({".mp3"})),
        AudioFormat("M4A", "mov", "mov", ".m4a", "audio/mp4", frozenset({".m4a", ".mp4", ".m4b"})),
        AudioFormat("AAC", "aac", "aac", ".aac", "audio/aac", frozenset({".aac", ".adts"})),
        AudioFormat("FLAC", "flac", "flac", ".flac", "audio/flac", frozenset({".flac"})),
        AudioFormat("Ogg", "ogg", "ogg", ".ogg", "audio/ogg", frozenset({".ogg", ".oga", ".opus"})),
    )
}
_ACCEPTED = "WAV, MP3, M4A, AAC, FLAC or Ogg"
# A decoded length this much shorter than the declared one (seconds, or a share) is truncation.
_SLACK_SECONDS = 0.5
_SLACK_SHARE = 0.02

_LISTS: Final = (
    (re.compile(rb"#EXTM3U|#EXT-X-", re.IGNORECASE), "an M3U/HLS playlist"),
    (re.compile(rb"ffconcat", re.IGNORECASE), "an FFmpeg concat list"),
    (re.compile(rb"(?:#[^\n]*\n|\s)*file\s", re.IGNORECASE), "an FFmpeg concat list"),
    (re.compile(rb"v=0\s", re.IGNORECASE), "an SDP session description"),
    (re.compile(rb"\[playlist\]", re.IGNORECASE), "a PLS playlist"),
    (
        re.compile(rb"<\?xml|<mpd|<asx|<smil|<playlist", re.IGNORECASE),
        "an XML playlist or manifest",
    ),
)


def sniff_reference_list(head: bytes) -> str | None:
    """What kind of list of other files ``head`` (a file's first bytes) starts, if any: the
    formats whose demuxers open what they name."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    for pattern, name in _LISTS:
        if pattern.match(text):
            return name
    if b"\x00" not in head[:512] and b"://" in head:
        return "a text file naming URLs"
    return None


def sniff_audio(head: bytes) -> AudioFormat | None:
    """The allowed container whose signature ``head`` starts with, if any."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return AUDIO_FORMATS["WAV"]
    if head[:4] == b"fLaC":
        return AUDIO_FORMATS["FLAC"]
    if head[:4] == b"OggS":
        return AUDIO_FORMATS["Ogg"]
    if head[4:8] == b"ftyp":
        return AUDIO_FORMATS["M4A"]
    if head[:3] == b"ID3":
        return AUDIO_FORMATS["MP3"]
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: 12 sync bits, layer 00
            return AUDIO_FORMATS["AAC"]
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # MPEG audio frame, layer I-III
            return AUDIO_FORMATS["MP3"]
    return None


def check_audio(path: Path, *, field: str, name: str) -> AudioFormat:
    """The container of an untrusted audio file, once its signature, demuxer, streams and every
    packet have been checked; BadInput naming ``field`` (and the file as ``name``) otherwise."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    fmt = sniff_audio(head)
    if fmt is None:
        listed = sniff_reference_list(head)
        if listed is not None:
            raise BadInput(
                field, f"{name} is {listed}, which refers to other files: upload the audio itself"
            )
        raise BadInput(field, f"{name} is not a single-file audio container ({_ACCEPTED})")
    try:
        container = av.open(
            str(path),
            format=fmt.demuxer,
            container_options={"protocol_whitelist": "file"},
            timeout=10.0,
        )
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise BadInput(
            field, f"{name} is not a readable {fmt.label} file ({_reason(exc)})"
        ) from None
    with container:
        if container.format.name != fmt.reported:
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
    return fmt


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
