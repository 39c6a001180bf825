"""The blob store the settings ask for (Supabase Storage when its URL and service key are set,
else the local media folder) and the key that signs its links and grants.

A link or grant signed by one process must verify in every other (another API container, a
worker, after a restart): the key comes from ``REELFORGE_SIGNING_SECRET``, or, on the embedded
default, from a secret file kept in REELFORGE_HOME. It is never made up per process.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from pipeline.errors import BadInput
from pipeline.settings import Settings
from pipeline.storage import BlobStore, make_store

__all__ = ["SIGNING_SECRET_FILE", "blob_store", "signing_key", "signing_secret"]

SIGNING_SECRET_FILE = "signing-secret"


def _local_secret(settings: Settings) -> str:
    """The embedded default's secret: created once, mode 0600, shared by every local process."""
    path = settings.home / SIGNING_SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def signing_secret(settings: Settings) -> str:
    """The one signing secret: REELFORGE_SIGNING_SECRET, else (embedded default) the one kept in
    REELFORGE_HOME; BadInput naming the variable when a hosted deployment has none."""
    configured = settings.service.signing_secret
    if configured is not None:
        return configured.get_secret_value().strip()
    if settings.store.embedded:
        return _local_secret(settings)
    raise BadInput(
        "REELFORGE_SIGNING_SECRET",
        "must be set with DATABASE_URL: links and storage grants made by one process must "
        "verify in every other (at least 32 characters, the same for every container)",
    )


def signing_key(settings: Settings, purpose: bytes = b"reelforge media urls") -> bytes:
    """The HMAC key for ``purpose`` (download links, storage grants), derived from the one
    signing secret."""
    return hmac.new(signing_secret(settings).encode(), purpose, hashlib.sha256).digest()


def blob_store(settings: Settings) -> BlobStore:
    """Where uploads and outputs live; local download links are
    ``{REELFORGE_PUBLIC_URL}/v1/files/<key>?expires=…&signature=…``."""
    storage = settings.storage
    settings.media_root.mkdir(parents=True, exist_ok=True)
    public = settings.service.public_url
    return make_store(
        local_root=settings.media_root,
        url_secret=signing_key(settings),
        base_url=f"{public}/v1" if public else None,
        supabase_url=storage.supabase_url,
        supabase_service_role_key=(
            storage.service_role_key.get_secret_value() if storage.service_role_key else None
        ),
        supabase_bucket=storage.bucket,
    )
