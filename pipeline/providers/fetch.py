"""Downloading a provider's result (a clip, an image, audio) into a file, capped and atomic."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import httpx

from pipeline.providers.errors import ProviderError
from pipeline.providers.http import AsyncProviderClient

__all__ = ["MAX_RESULT_BYTES", "fetch_result"]

MAX_RESULT_BYTES = 512 * 1024 * 1024


async def fetch_result(
    provider: AsyncProviderClient,
    url: str,
    dest: Path,
    *,
    max_bytes: int = MAX_RESULT_BYTES,
    headers: dict[str, str] | None = None,
) -> Path:
    """Streams ``url`` into ``dest`` (temp file, then rename); ProviderError naming the provider if
    the answer is not 2xx, not https or http, or larger than ``max_bytes``."""
    scheme = httpx.URL(url).scheme
    if scheme not in ("https", "http"):
        raise ProviderError(provider.name, f"result URL is not http(s): {scheme or 'no scheme'}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            # the retrying client fetches the headers; the body streams once
            request = provider.client.build_request("GET", url, headers=headers)
            response = await provider.client.send(request, stream=True, follow_redirects=True)
            try:
                if response.status_code >= 400:
                    raise ProviderError(
                        provider.name,
                        f"downloading the result failed with HTTP {response.status_code}",
                        status=response.status_code,
                    )
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise ProviderError(
                        provider.name, f"result is {declared} bytes, over the {max_bytes} cap"
                    )
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise ProviderError(
                            provider.name, f"result is over the {max_bytes} byte cap"
                        )
                    f.write(chunk)
            finally:
                await response.aclose()
        os.replace(tmp, dest)
    except httpx.HTTPError as exc:
        raise ProviderError(provider.name, f"downloading the result failed: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return dest
