"""Generation claims on one machine without a database (the command line, the API's script
writing in ``reelforge serve``): an exclusive file lock per key in a folder.

``fcntl.flock`` excludes other open files of the same lock file, in this process and in any
other on the machine sharing the folder; the kernel drops the lock of a process that dies, so
no lease is needed (``lease_seconds`` is accepted and ignored). It is no lock across machines
or containers: those need the database's claims (``pipeline.store.claims``).
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from pathlib import Path
from typing import IO

from pipeline.claims import is_claim_key

__all__ = ["LocalClaims"]


class LocalClaims:
    """A GenerationClaims over lock files ``<root>/<k[:2]>/.<k>.lock``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._held: dict[tuple[str, str], IO[str]] = {}
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        if not is_claim_key(key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / key[:2] / f".{key}.lock"

    def acquire(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        with self._lock:
            if (key, owner) in self._held:
                return True
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        except BaseException:
            handle.close()
            raise
        with self._lock:
            self._held[(key, owner)] = handle
        return True

    def renew(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        with self._lock:
            return (key, owner) in self._held

    def _release(self, key: str, owner: str) -> bool:
        with self._lock:
            handle = self._held.pop((key, owner), None)
        if handle is None:
            return False
        with contextlib.closing(handle):
            fcntl.flock(handle, fcntl.LOCK_UN)
        return True

    def finish(self, key: str, *, owner: str) -> bool:
        return self._release(key, owner)

    def fail(self, key: str, *, owner: str, error: str) -> bool:
        return self._release(key, owner)
