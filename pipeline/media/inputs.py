"""Media from outside admitted before FFmpeg opens it: one regular file (never a symbolic link,
a FIFO or a device), copied into the render's private folder under the name of its content,
and accepted only as an allowed container of its role (``pipeline.containers``), read
with that container's demuxer alone.

The copy is what is checked and what FFmpeg opens, so nothing can change between the check and
the render, the name FFmpeg sees is ``<sha256>.<extension>`` (no ``%d``, no glob, no other
folder), and a file in another tenant's folder or the shared provider cache is never opened in
place. A refused file leaves nothing behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import av

from pipeline.containers import (
    Container,
    Role,
    accepted,
    not_found,
    open_input,
    sniff,
    sniff_reference_list,
)
from pipeline.errors import BadInput
from pipeline.images import MAX_PIXELS, check_header
from pipeline.media.audio import verify_audio
from pipeline.timeline import VideoClip

__all__ = [
    "INPUTS",
    "MediaInput",
    "Reader",
    "admit",
    "admit_clip",
    "copy_in",
    "inputs_dir",
    "is_admitted",
]

INPUTS = "inputs"  # the folder of admitted copies inside a work folder
# What decodes an admitted file: FFmpeg (through its demuxer), or Pillow (the brief's photos
# and logo, drawn by Pillow and never opened by FFmpeg).
Reader = Literal["ffmpeg", "pillow"]
_CHUNK = 1 << 20
_ADMITTED: Final = re.compile(r"[0-9a-f]{64}\.[a-z0-9]+")


@dataclass(frozen=True)
class MediaInput:
    """An admitted file: the private copy FFmpeg opens, what it is, the SHA-256 of its bytes."""

    path: Path
    container: Container
    sha256: str


def inputs_dir(work: Path) -> Path:
    """Where a work folder keeps its admitted copies."""
    return work / INPUTS


def is_admitted(path: Path, work: Path) -> bool:
    """Whether ``path`` is a copy :func:`admit` made for the work folder ``work``."""
    return path.parent == inputs_dir(work) and _ADMITTED.fullmatch(path.name) is not None


def admit(
    source: Path,
    role: Role,
    *,
    into: Path,
    field: str,
    name: str | None = None,
    reader: Reader = "ffmpeg",
) -> MediaInput:
    """``source`` copied into ``into`` as ``<sha256><extension>`` once it is one regular file of
    an allowed container for ``role``, read by that container's demuxer alone (or, for an image
    that ``reader`` says Pillow decodes, its header read by Pillow's decoder for that format
    alone); BadInput naming ``field`` and the file (as ``name``, else its own name, never its
    folder) otherwise."""
    shown = name or source.name
    copy, digest = copy_in(source, into, field=field, name=shown)
    try:
        with copy.open("rb") as fh:
            head = fh.read(4096)
        container = sniff(head, role)
        if container is None:
            raise BadInput(field, _not_of_role(head, role, shown))
        probe = _probe_still if reader == "pillow" and role is Role.IMAGE else _PROBES[role]
        probe(copy, container, field, shown)
        final = into / f"{digest}{container.extension}"
        os.replace(copy, final)
    finally:
        copy.unlink(missing_ok=True)
    return MediaInput(final, container, digest)


def admit_clip(clip: VideoClip, work: Path, *, field: str, name: str | None = None) -> VideoClip:
    """A provider's clip with its file admitted into ``work``'s inputs (kept if it already is)."""
    if is_admitted(clip.path, work):
        return clip
    admitted = admit(clip.path, Role.VIDEO, into=inputs_dir(work), field=field, name=name)
    return clip.model_copy(update={"path": admitted.path})


def copy_in(source: Path, into: Path, *, field: str, name: str) -> tuple[Path, str]:
    """``source`` copied to a private temporary file in ``into``, read through one descriptor
    that refuses a symbolic link and anything but a regular file; the copy and its SHA-256."""
    into.mkdir(parents=True, exist_ok=True)
    fd = _open_regular(source, field, name)
    out, tmp = tempfile.mkstemp(dir=into, prefix=".admit.", suffix=".part")
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "rb") as src, os.fdopen(out, "wb") as dst:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
        if size == 0:
            raise BadInput(field, f"{name} is empty")
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp), digest.hexdigest()


def _open_regular(source: Path, field: str, name: str) -> int:
    """A read descriptor on ``source`` itself: O_NOFOLLOW refuses a link at the last step, and
    fstat on the descriptor (not the name) refuses a FIFO, a device or a folder."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise BadInput(field, _unopenable(source, name, exc)) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadInput(field, f"{name} is not a regular file")
    return fd


def _unopenable(source: Path, name: str, exc: OSError) -> str:
    if exc.errno == errno.ELOOP or source.is_symlink():
        return f"{name} is a symbolic link: name the file itself"
    if exc.errno == errno.ENOENT:
        return not_found(source, name)
    return f"cannot read {name}: {exc.strerror}"


def _not_of_role(head: bytes, role: Role, name: str) -> str:
    listed = sniff_reference_list(head)
    only = f"only a single {role} file ({accepted(role)}) is accepted"
    if listed is not None:
        return f"{name} is {listed}, which refers to other files; {only}"
    return f"{name} is not {'a' if role is Role.VIDEO else 'an'} {role} file: {only}"


def _reason(exc: Exception) -> str:
    text = str(exc).split(":")[0] if isinstance(exc, av.FFmpegError) else type(exc).__name__
    return text.strip() or type(exc).__name__


def _probe_picture(path: Path, container: Container, field: str, name: str) -> None:
    """A picture (an image, or a clip's frames) that FFmpeg reads as ``container``: its demuxer
    reports itself, a video stream under the pixel limit, and its first frame decodes."""
    try:
        with open_input(path, container) as box:
            if box.format.name != container.demuxer:
                raise BadInput(
                    field, f"{name} was read as {box.format.name}, not {container.label}"
                )
            if not box.streams.video:
                raise BadInput(field, f"{name} holds no picture")
            ctx = box.streams.video[0].codec_context
            if ctx.width * ctx.height > MAX_PIXELS:
                raise BadInput(
                    field, f"{name} is {ctx.width}x{ctx.height}, over the "
                    f"{MAX_PIXELS // 1_000_000} megapixel limit",
                )  # fmt: skip
            next(box.decode(video=0))
    except StopIteration:
        raise BadInput(field, f"{name} holds no decodable picture") from None
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise BadInput(
            field, f"{name} is not a readable {container.label} file ({_reason(exc)})"
        ) from None


def _probe_still(path: Path, container: Container, field: str, name: str) -> None:
    """A picture Pillow decodes: its header read by the decoder of ``container`` alone, under
    the pixel limits (``pipeline.images`` decodes it once, later)."""
    check_header(path, field, shown=name, formats=(container.label.upper(),)).close()


def _probe_audio(path: Path, container: Container, field: str, name: str) -> None:
    verify_audio(path, container, field=field, name=name)


_PROBES: Final = {Role.IMAGE: _probe_picture, Role.AUDIO: _probe_audio, Role.VIDEO: _probe_picture}
