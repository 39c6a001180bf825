"""The blob store the settings ask for: Supabase Storage when its URL and service key are set,
else the local media folder with HMAC-signed download links."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pipeline.settings import Settings
from pipeline.storage import BlobStore, make_store

__all__ = ["blob_store"]

# Without a shared secret, local download links are signed with a key of this process only.
_PROCESS_SECRET = secrets.token_bytes(32)


def _url_secret(settings: Settings) -> bytes:
    api = settings.api
    if api is None or api.jwt_secret is None:
        return _PROCESS_SECRET
    material = api.jwt_secret.get_secret_value().encode()
    return hmac.new(material, b"reelforge media urls", hashlib.sha256).digest()


def blob_store(settings: Settings, *, base_url: str | None = None) -> BlobStore:
    """Where outputs are published and downloaded from; local links are
    ``{base_url}/files/<key>?expires=…&signature=…``."""
    storage = settings.storage
    settings.media_root.mkdir(parents=True, exist_ok=True)
    return make_store(
        local_root=settings.media_root,
        url_secret=_url_secret(settings),
        base_url=base_url,
        supabase_url=storage.supabase_url,
        supabase_service_role_key=(
            storage.service_role_key.get_secret_value() if storage.service_role_key else None
        ),
        supabase_bucket=storage.bucket,
    )
