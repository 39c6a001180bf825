"""File helpers shared by the stores: hashing and atomic writes through a temp file."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

CHUNK_SIZE = 1 << 20
TEMP_PREFIX = ".tmp-"


def iter_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as src:
        while chunk := src.read(CHUNK_SIZE):
            yield chunk


def digest_file(path: Path) -> tuple[int, str]:
    """Size in bytes and hex sha256 of a file, read in chunks."""
    size = 0
    sha = hashlib.sha256()
    for chunk in iter_file(path):
        size += len(chunk)
        sha.update(chunk)
    return size, sha.hexdigest()


def write_atomically(dest: Path, chunks: Iterable[bytes]) -> tuple[int, str]:
    """Write `chunks` to `dest` so readers see the old file or the whole new one, never a part.

    Returns the size and sha256 of what was written; on any failure the temp file is removed.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Same folder as `dest`, so os.replace is a rename within one filesystem; "xb" (not mkstemp)
    # so the file gets the usual umask-derived mode rather than 0600.
    tmp = dest.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
    size = 0
    sha = hashlib.sha256()
    try:
        with tmp.open("xb") as out:
            for chunk in chunks:
                size += len(chunk)
                sha.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size, sha.hexdigest()
