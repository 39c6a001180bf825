"""The containers FFmpeg may open, by role, and the one way to open a file: its demuxer named.

FFmpeg guesses a demuxer from a file's name and content, and some demuxers open the files or
URLs a file names (HLS and concat playlists, SDP, image2 with a ``%d`` or glob pattern in its
name): a ``.wav`` holding ``ffconcat version 1.0`` reads whatever it lists. So every file
reelforge hands FFmpeg or PyAV is opened with the demuxer of the one container it is, that
demuxer alone on the format whitelist (FFmpeg copies the whitelist to any nested open) and
local files as the only protocol. Which container a file is comes from its first bytes
(:func:`sniff`) when it arrives from outside, and from the extension reelforge gave it
(:func:`container_for`) once it lies in a work folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import av.container

__all__ = [
    "CONTAINERS",
    "INPUT_PROTOCOLS",
    "Container",
    "Role",
    "accepted",
    "container_for",
    "input_args",
    "input_options",
    "not_found",
    "open_input",
    "sniff",
    "sniff_reference_list",
]

# Inputs are local files reelforge wrote or copied; nothing else may be reached from them.
INPUT_PROTOCOLS = "file"


class Role(StrEnum):
    """What a file is for: a picture, a sound, a provider's clip."""

    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"


@dataclass(frozen=True)
class Container:
    """An allowed container: FFmpeg's demuxer for it (PyAV reports the same name), the
    extension a copy of it gets, its content type, and the suffixes a user may name it by."""

    label: str
    role: Role
    demuxer: str
    extension: str
    content_type: str
    suffixes: frozenset[str]


def _c(label: str, role: Role, demuxer: str, content_type: str, *suffixes: str) -> Container:
    return Container(label, role, demuxer, suffixes[0], content_type, frozenset(suffixes))


CONTAINERS: Final[tuple[Container, ...]] = (
    _c("PNG", Role.IMAGE, "png_pipe", "image/png", ".png"),
    _c("JPEG", Role.IMAGE, "jpeg_pipe", "image/jpeg", ".jpg", ".jpeg", ".jpe", ".jfif"),
    _c("WebP", Role.IMAGE, "webp_pipe", "image/webp", ".webp"),
    _c("TIFF", Role.IMAGE, "tiff_pipe", "image/tiff", ".tif", ".tiff"),
    _c("BMP", Role.IMAGE, "bmp_pipe", "image/bmp", ".bmp", ".dib"),
    _c("GIF", Role.IMAGE, "gif_pipe", "image/gif", ".gif"),
    _c("WAV", Role.AUDIO, "wav", "audio/wav", ".wav", ".wave"),
    _c("MP3", Role.AUDIO, "mp3", "audio/mpeg", ".mp3"),
    _c("M4A", Role.AUDIO, "mov", "audio/mp4", ".m4a", ".mp4", ".m4b"),
    _c("AAC", Role.AUDIO, "aac", "audio/aac", ".aac", ".adts"),
    _c("FLAC", Role.AUDIO, "flac", "audio/flac", ".flac"),
    _c("Ogg", Role.AUDIO, "ogg", "audio/ogg", ".ogg", ".oga", ".opus"),
    _c("MP4", Role.VIDEO, "mov", "video/mp4", ".mp4", ".m4v"),
    _c("MOV", Role.VIDEO, "mov", "video/quicktime", ".mov", ".qt"),
    _c("WebM", Role.VIDEO, "matroska", "video/webm", ".webm"),
)
_BY_LABEL: Final = {(c.role, c.label): c for c in CONTAINERS}
_BY_EXTENSION: Final = {c.extension: c for c in CONTAINERS}
assert len(_BY_EXTENSION) == len(CONTAINERS), "an extension must name one container"

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
# A name FFmpeg's image2 demuxer would expand (%d, %03d, a glob) into other files' names.
_PATTERN: Final = re.compile(r"%0?\d*d|[*?\[]")
# QuickTime files written without an ftyp box start with one of these atoms.
_QUICKTIME_ATOMS: Final = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def accepted(role: Role) -> str:
    """The containers of ``role`` in words: ``MP4, MOV or WebM``."""
    labels = [c.label for c in CONTAINERS if c.role is role]
    return f"{', '.join(labels[:-1])} or {labels[-1]}"


def not_found(path: Path, shown: object) -> str:
    """Why ``path`` (shown as ``shown``) is not there, saying so when its name is a pattern."""
    if _PATTERN.search(path.name):
        return f"file not found: {shown} (patterns such as %d or * are not expanded)"
    return f"file not found: {shown}"


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


def sniff(head: bytes, role: Role) -> Container | None:
    """The allowed container of ``role`` whose signature ``head`` starts with, if any."""
    label = {Role.IMAGE: _image, Role.AUDIO: _audio, Role.VIDEO: _video}[role](head)
    return None if label is None else _BY_LABEL[role, label]


def _image(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:2] == b"BM" and len(head) >= 26:
        return "BMP"
    return "GIF" if head[:6] in (b"GIF87a", b"GIF89a") else None


def _audio(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "WAV"
    signatures = {b"fLaC": "FLAC", b"OggS": "Ogg"}
    if head[:4] in signatures:
        return signatures[head[:4]]
    if head[4:8] == b"ftyp":
        return "M4A"
    if head[:3] == b"ID3":
        return "MP3"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: 12 sync bits, layer 00
            return "AAC"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # MPEG audio frame, layer I-III
            return "MP3"
    return None


def _video(head: bytes) -> str | None:
    if head[4:8] == b"ftyp":
        return "MOV" if head[8:12] == b"qt  " else "MP4"
    if head[4:8] in _QUICKTIME_ATOMS:
        return "MOV"
    # Matroska's EBML header names its document type early; only WebM is a provider's format.
    if head[:4] == b"\x1a\x45\xdf\xa3" and b"\x42\x82\x84webm" in head[:64]:
        return "WebM"
    return None


def container_for(path: Path) -> Container:
    """The container of a file reelforge named (an admitted copy, or a file it wrote), by its
    extension; ValueError for any other name, which must never reach FFmpeg."""
    found = _BY_EXTENSION.get(path.suffix.lower())
    if found is None:
        raise ValueError(f"{path.name}: not a file reelforge named for FFmpeg")
    return found


def input_options(path: Path, container: Container | None = None) -> dict[str, str]:
    """FFmpeg's input options for ``path``: its demuxer named, alone on the format whitelist,
    local files only."""
    demuxer = (container or container_for(path)).demuxer
    return {"f": demuxer, "format_whitelist": demuxer, "protocol_whitelist": INPUT_PROTOCOLS}


def input_args(path: Path, container: Container | None = None) -> list[str]:
    """:func:`input_options` as command-line arguments, to go just before ``-i path``."""
    return [arg for k, v in input_options(path, container).items() for arg in (f"-{k}", v)]


def open_input(
    path: Path, container: Container | None = None, *, timeout: float = 10.0
) -> av.container.InputContainer:
    """``path`` opened with PyAV as FFmpeg opens it: the container's demuxer and nothing else."""
    import av  # PyAV loads FFmpeg's libraries: only when a file is opened

    options = input_options(path, container)
    demuxer = options.pop("f")
    return av.open(str(path), format=demuxer, container_options=options, timeout=timeout)
