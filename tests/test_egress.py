"""Outbound fetches of tenant-supplied URLs: HTTPS to public addresses only, capped, no redirects."""

from __future__ import annotations

import httpx
import pytest

from pipeline.egress import BlockedURL, PublicOnlyTransport, check_public, fetch_urls

PUBLIC = "93.184.216.34"


def _resolve_to(address: str):  # type: ignore[no-untyped-def]
    return lambda host: [address]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/a.png",
        "https://127.0.0.1/a.png",
        "https://10.0.0.8/a.png",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/a.png",
    ],
)
def test_check_public_refuses_plain_http_and_internal_addresses(url: str) -> None:
    with pytest.raises(BlockedURL):
        check_public(url, _resolve_to(PUBLIC))


def test_check_public_refuses_a_name_that_resolves_inside() -> None:
    with pytest.raises(BlockedURL, match="non-public"):
        check_public("https://assets.example.com/a.png", _resolve_to("192.168.1.4"))


def _client(handler) -> httpx.Client:  # type: ignore[no-untyped-def]
    transport = PublicOnlyTransport(httpx.MockTransport(handler), resolve=_resolve_to(PUBLIC))
    return httpx.Client(transport=transport)


def test_fetch_urls_downloads_public_https_assets() -> None:
    with _client(lambda r: httpx.Response(200, content=r.url.path.encode())) as client:
        assert fetch_urls(["https://cdn.example.com/a.png"], client) == [b"/a.png"]


def test_fetch_urls_refuses_redirects_and_oversized_bodies() -> None:
    redirect = lambda r: httpx.Response(302, headers={"location": "https://10.0.0.1/"})  # noqa: E731
    with _client(redirect) as client, pytest.raises(httpx.HTTPStatusError):
        fetch_urls(["https://cdn.example.com/a.png"], client)
    big = lambda r: httpx.Response(200, content=b"x" * 100)  # noqa: E731
    with _client(big) as client, pytest.raises(BlockedURL, match="larger"):
        fetch_urls(["https://cdn.example.com/a.png"], client, max_bytes=10)


def test_fetch_assets_refuses_http_before_any_request() -> None:
    import modal_app.app as modal_app

    with pytest.raises(BlockedURL, match="only https"):
        modal_app.fetch_assets.local(["http://example.com/a.png"])
