"""The media desk on Modal: the API's uploads checked, its briefs' URLs fetched and their script
options written in containers that hold neither the database password nor the storage key.

:class:`ModalMediaDesk` is the API's side (in ``web``): an upload's bytes go to
``inspect_upload``, a URL to ``fetch_assets``, a brief to ``write_scripts_call`` with a storage
grant that reads the user's uploads for a few minutes. What comes back is what the local desk
returns, or the same BadInput (errors pickle whole). The functions below it are the
containers' side: the same code the local desk runs, in a private temporary folder.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any, TypedDict

from pipeline.api.brief_files import BriefFiles
from pipeline.brief import Brief
from pipeline.download import DEFAULT_POLICY, DownloadPolicy, fetch_https
from pipeline.errors import BriefError
from pipeline.render import write_scripts
from pipeline.script import Script
from pipeline.settings import Settings
from pipeline.storage import BlobStore, local_copy
from pipeline.storage.grant import GRANT_PURPOSE, Grant, sign_grant
from pipeline.uploads import Checked, check_upload
from pipeline.wiring import build_ports, local_runtime, signing_key

__all__ = [
    "GRANT_SECONDS",
    "ModalMediaDesk",
    "ScriptTask",
    "StoredPhoto",
    "fetch_bytes",
    "inspect_bytes",
    "write_script_options",
]

GRANT_SECONDS = 10 * 60  # longer than write_scripts_call may run
_UPLOADS_ONLY = (
    "must be upload:<id> here: files in an uploads folder work only where the API and the "
    "workers share that folder"
)


class StoredPhoto(TypedDict):
    key: str  # the upload's blob key, under the user's uploads/
    sha256: str


class ScriptTask(TypedDict):
    brief: dict[str, Any]  # the brief as its user wrote it (JSON): its files as upload:<id>
    photos: dict[str, StoredPhoto]  # "product.photos[i]" → its upload; nothing else is read
    grant: str  # reads the user's uploads/, nothing else
    api_url: str


Inspect = Callable[[bytes, str, str | None, str], Checked]  # data, kind, name, field
Fetch = Callable[[str, str, int], bytes]  # url, field, max_bytes
Write = Callable[[ScriptTask], list[dict[str, Any]]]


class ModalMediaDesk:
    """The API's media desk on Modal: ``inspect``, ``fetch`` and ``write`` are
    ``inspect_upload.remote``, ``fetch_assets.remote`` and ``write_scripts_call.remote``."""

    def __init__(self, *, inspect: Inspect, fetch: Fetch, write: Write, settings: Settings) -> None:
        self._inspect, self._fetch, self._write = inspect, fetch, write
        self._settings = settings

    def check(self, path: Path, kind: str, *, name: str | None, field: str) -> Checked:
        return self._inspect(path.read_bytes(), kind, name, field)

    def fetch(self, url: str, dest_dir: Path, *, field: str, max_bytes: int) -> Path:
        data = self._fetch(url, field, max_bytes)
        if len(data) > max_bytes:  # the container enforces the cap; this only double-checks
            raise BriefError(field, f"the download is larger than {max_bytes} bytes")
        dest_dir.mkdir(parents=True, exist_ok=True)
        path = dest_dir / hashlib.sha256(data).hexdigest()
        path.write_bytes(data)
        return path

    def write_scripts(self, brief: Brief, files: BriefFiles) -> tuple[Script, ...]:
        photos: dict[str, StoredPhoto] = {}
        for where, name in brief.files():  # every file checked as the user's, none fetched here
            stored = files.stored(where, name)
            if stored is None:
                raise BriefError(where, _UPLOADS_ONLY)
            if where.startswith("product.photos"):
                photos[where] = StoredPhoto(key=stored.key, sha256=stored.sha256)
        task = ScriptTask(
            brief=brief.model_dump(mode="json"), photos=photos, grant=self._grant(files),
            api_url=self._settings.require_public_url(),
        )  # fmt: skip
        return tuple(Script.model_validate(s) for s in self._write(task))

    def _grant(self, files: BriefFiles) -> str:
        grant = Grant(read=(f"{files.user_id}/uploads/",), expires=int(time.time()) + GRANT_SECONDS)
        return sign_grant(grant, signing_key(self._settings, GRANT_PURPOSE))


def inspect_bytes(data: bytes, kind: str, name: str | None, field: str) -> Checked:
    """``inspect_upload``: :func:`pipeline.uploads.check_upload` of ``data``, in a private
    temporary folder."""
    with tempfile.TemporaryDirectory(prefix="reelforge-inspect-") as scratch:
        path = Path(scratch) / "received"
        path.write_bytes(data)
        return check_upload(path, kind, name=name, field=field)


def fetch_bytes(
    url: str, field: str, max_bytes: int, *, policy: DownloadPolicy = DEFAULT_POLICY
) -> bytes:
    """``fetch_assets``: the https ``url`` a brief's ``field`` names, downloaded SSRF-safe
    under ``max_bytes`` (:func:`pipeline.download.fetch_https`); BriefError naming ``field``
    if it cannot be."""
    with tempfile.TemporaryDirectory(prefix="reelforge-fetch-") as scratch:
        capped = replace(policy, max_bytes=max_bytes)
        return fetch_https(url, Path(scratch), field=field, policy=capped).read_bytes()


def write_script_options(
    task: ScriptTask, *, store: BlobStore, settings: Settings
) -> list[dict[str, Any]]:
    """``write_scripts_call``: the brief's script options (as JSON), written as the local desk
    writes them, from its photos fetched through ``store`` (the task's grant) and checked
    against their SHA-256; the providers are those the brief and this container's keys choose."""
    brief = Brief.model_validate(task["brief"])
    with tempfile.TemporaryDirectory(prefix="reelforge-scripts-") as scratch:

        def fetched(where: str, name: Path) -> Path:
            photo = task["photos"].get(where)
            if photo is None:  # a logo, font or audio: script writing never reads them
                return name
            dest = Path(scratch) / PurePosixPath(photo["key"]).name
            return local_copy(store, photo["key"], dest, sha256=photo["sha256"])

        local = brief.map_files(fetched)
        ports = build_ports(local, settings, local_runtime(settings))
        options = write_scripts(local, ports=ports, shown=brief)
    return [s.model_dump(mode="json") for s in options.scripts]
