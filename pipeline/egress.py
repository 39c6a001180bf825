"""Outbound HTTP to tenant-supplied URLs: HTTPS to public addresses only, no redirects, size-capped.

The check resolves the host before the request, so a DNS answer that changes between the check and
the connection (rebinding) is not caught; an egress proxy that pins the address closes that gap.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence

import httpx

__all__ = ["MAX_ASSET_BYTES", "BlockedURL", "PublicOnlyTransport", "check_public", "fetch_urls"]

MAX_ASSET_BYTES = 25 * 1024 * 1024
Resolver = Callable[[str], list[str]]


class BlockedURL(httpx.RequestError):
    """The URL is not HTTPS, its host resolves to a non-public address, or the body is too large.

    An ``httpx.RequestError``, so callers that treat network errors as a failed attempt (the
    webhook dispatcher) treat a blocked URL the same way.
    """


def _resolve(host: str) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)]


def check_public(url: httpx.URL | str, resolve: Resolver = _resolve) -> None:
    """Raises BlockedURL unless ``url`` is https and every address of its host is global."""
    url = httpx.URL(url)
    if url.scheme != "https":
        raise BlockedURL(f"only https URLs are fetched, not {url.scheme or 'no scheme'}: {url}")
    host = url.host
    if not host:
        raise BlockedURL(f"URL has no host: {url}")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host)]
        except OSError as exc:
            raise BlockedURL(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise BlockedURL(f"{host} has no address")
    for address in addresses:
        if not address.is_global:
            raise BlockedURL(f"{host} resolves to a non-public address ({address})")


class PublicOnlyTransport(httpx.BaseTransport):
    """Checks every request with :func:`check_public` before handing it to ``inner``."""

    def __init__(
        self, inner: httpx.BaseTransport | None = None, *, resolve: Resolver = _resolve
    ) -> None:
        self._inner = inner or httpx.HTTPTransport()
        self._resolve = resolve

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_public(request.url, self._resolve)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def fetch_urls(
    urls: Sequence[str], client: httpx.Client, *, max_bytes: int = MAX_ASSET_BYTES
) -> list[bytes]:
    """Downloads each URL in full; a non-2xx answer (redirects included) raises HTTPStatusError,
    a body over ``max_bytes`` raises BlockedURL."""
    out: list[bytes] = []
    for url in urls:
        with client.stream("GET", url, follow_redirects=False) as response:
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise BlockedURL(f"{url} is larger than {max_bytes} bytes")
        out.append(bytes(body))
    return out
