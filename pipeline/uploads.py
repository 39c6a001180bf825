"""What an uploaded file really is, checked with the limits a brief's files get: images decoded
under the 40-megapixel rule, fonts loaded as caption fonts, audio accepted only as one
self-contained audio file. A file is judged by its bytes, never its name; a name whose suffix
says another format than the bytes hold is refused, so nothing is stored under a lie.

Every problem is a BadInput naming ``field`` and the file as the user named it (never a path
on the server)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final, Literal

from PIL import Image, UnidentifiedImageError

from pipeline.containers import CONTAINERS, Container, Role, sniff, sniff_reference_list
from pipeline.errors import BadInput
from pipeline.fonts import check_font
from pipeline.images import ALLOWED_FORMATS, load_rgb
from pipeline.media.audio import check_audio

__all__ = ["KINDS", "Checked", "UploadKind", "check_upload", "kind_family", "safe_name"]

UploadKind = Literal["photo", "logo", "font", "music", "voice_over"]
KINDS: Final[tuple[UploadKind, ...]] = ("photo", "logo", "font", "music", "voice_over")


@dataclass(frozen=True)
class Checked:
    """An accepted file: what it is, and the suffix and content type it is stored with."""

    label: str
    extension: str
    content_type: str


# Pillow's name for an image format → the container it is stored as.
_IMAGES: Final[dict[str, Container]] = {
    c.label.upper(): c for c in CONTAINERS if c.role is Role.IMAGE
}
_FONT_SUFFIXES: Final = frozenset({".ttf", ".otf"})
# Suffixes that name a media format: a name ending in one must match what the bytes are.
_KNOWN_SUFFIXES: Final = (
    frozenset(s for c in CONTAINERS for s in c.suffixes)
    | _FONT_SUFFIXES
    | {".m3u", ".m3u8", ".pls", ".sdp", ".ffconcat", ".concat", ".txt", ".mpd", ".xspf", ".asx",
       ".svg", ".heic", ".avif", ".woff", ".woff2", ".ttc", ".wma", ".aiff", ".aif", ".mov",
       ".webm", ".mkv", ".avi"}
)  # fmt: skip
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def kind_family(kind: str) -> Literal["image", "font", "audio"]:
    """What a kind of upload must hold."""
    if kind in ("photo", "logo"):
        return "image"
    return "font" if kind == "font" else "audio"


def safe_name(name: str | None) -> str | None:
    """The user's file name as it may be shown and stored: the last path segment, without
    control characters, at most 255 characters; None if nothing is left."""
    if not name:
        return None
    last = PurePosixPath(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("", last).strip()[:255]
    return cleaned or None


def check_upload(path: Path, kind: str, *, name: str | None, field: str = "file") -> Checked:
    """What the file at ``path`` is, if it is acceptable as ``kind``; BadInput naming ``field``
    otherwise. ``name`` is the user's name for it (its suffix must not contradict the bytes)."""
    shown = repr(name) if name else "the file"
    size = path.stat().st_size
    if size == 0:
        raise BadInput(field, f"{shown} is empty")
    with path.open("rb") as fh:
        head = fh.read(4096)
    if sniff(head, Role.AUDIO) is None and (listed := sniff_reference_list(head)) is not None:
        raise BadInput(
            field, f"{shown} is {listed}, which refers to other files: upload the file itself"
        )
    family = kind_family(kind)
    if family == "image":
        checked, suffixes = _check_image(path, field, shown)
    elif family == "font":
        checked, suffixes = _check_font(path, field, shown), _FONT_SUFFIXES
    else:
        fmt = check_audio(path, field=field, name=shown)
        checked, suffixes = (
            Checked(f"{fmt.label} audio", fmt.extension, fmt.content_type),
            fmt.suffixes,
        )
    suffix = PurePosixPath(name or "").suffix.lower()
    if suffix in _KNOWN_SUFFIXES and suffix not in suffixes:
        raise BadInput(field, f"{shown} is named {suffix} but holds {checked.label}")
    return checked


def _check_image(path: Path, field: str, shown: str) -> tuple[Checked, frozenset[str]]:
    """Decoded under the image rules (bombs refused before decoding, truncation caught)."""
    try:
        load_rgb(path, field=field)
    except BadInput as exc:
        raise BadInput(field, exc.problem.replace(str(path), shown)) from None
    try:
        with Image.open(path, formats=ALLOWED_FORMATS) as image:
            label = str(image.format)
    except (OSError, UnidentifiedImageError):  # decoded a moment ago: only if it changed since
        raise BadInput(field, f"{shown} could not be read again") from None
    stored = _IMAGES[label]
    return Checked(f"a {label} image", stored.extension, stored.content_type), stored.suffixes


def _check_font(path: Path, field: str, shown: str) -> Checked:
    """Loaded as a caption font: TrueType or OpenType outlines with basic Latin."""
    with path.open("rb") as fh:
        tag = fh.read(4)
    if tag not in (b"\x00\x01\x00\x00", b"true", b"OTTO"):
        raise BadInput(field, f"{shown} is not a TrueType or OpenType font (.ttf, .otf)")
    extension, content_type = (".otf", "font/otf") if tag == b"OTTO" else (".ttf", "font/ttf")
    # The font checks read the suffix: give the file the one its bytes call for, meanwhile.
    named = path.with_name(f"upload{extension}")
    path.rename(named)
    try:
        check_font(named, field)
    except BadInput as exc:
        raise BadInput(field, exc.problem.replace(named.name, shown)) from None
    finally:
        named.rename(path)
    return Checked(
        "an OpenType font" if tag == b"OTTO" else "a TrueType font", extension, content_type
    )
