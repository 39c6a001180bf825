"""Outbound fetches of tenant-supplied URLs: public addresses only, pinned, checked on every hop.

The corpus runs against a real loopback network (tests/netlab.py): an internal server that counts
connections on 127.0.0.1:P and a public stand-in on 127.0.0.2:P; none may reach the internal one.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from pipeline.download import download
from pipeline.egress import (
    BlockedURL,
    PublicOnlyTransport,
    check_public,
    is_public_address,
    literal_address,
)
from pipeline.errors import BriefError
from tests.netlab import INTERNAL_IP, PUBLIC_IP, Lab, close_lab, open_lab, self_signed

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


def test_check_public_refuses_a_name_with_one_internal_answer_among_public_ones() -> None:
    with pytest.raises(BlockedURL, match="non-public"):
        check_public("https://assets.example.com/", lambda host: [PUBLIC, "127.0.0.1"])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "0.0.0.0",
        "10.1.2.3",
        "172.31.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",  # CGNAT
        "100.127.255.254",
        "192.0.0.8",
        "198.18.0.1",
        "224.0.0.1",  # multicast, which is_global calls global
        "239.255.255.250",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",  # IPv4-compatible, which is_global calls global
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:0:7f00:1",  # IPv4-translated
        "64:ff9b::7f00:1",  # NAT64 of loopback
        "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
        "64:ff9b::808:808",  # NAT64 is refused whatever it embeds (::/8 is reserved)
        "64:ff9b:1::1",  # local-use NAT64
        "2002:7f00:1::",  # 6to4 of loopback
        "2002:a9fe:a9fe::1",  # 6to4 of the metadata address
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",  # site-local
        "ff02::1",
        "ff0e::1",  # global-scope multicast
        "2001:db8::1",
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0177.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.0x0.0x0.0x1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("127%2e0%2e0%2e1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("169.254.43518", "169.254.169.254"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("0x1g.example", None),
        ("cdn.example.com", None),
        ("1x.example", None),
    ],
)
def test_literal_address_reads_every_inet_aton_form(host: str, expected: str | None) -> None:
    expected_address = None if expected is None else ipaddress.ip_address(expected)
    assert literal_address(host) == expected_address


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.1", "0x100.1.1.1", "09.1", "1.256.0.0", "::zz"])
def test_literal_address_refuses_numeric_hosts_that_are_no_address(host: str) -> None:
    with pytest.raises(BlockedURL):
        literal_address(host)


def test_transport_connects_to_the_checked_address_and_keeps_the_name() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    transport = PublicOnlyTransport(httpx.MockTransport(handler), resolve=_resolve_to(PUBLIC))
    with httpx.Client(transport=transport) as client:
        client.get("https://cdn.example.com:8443/a.png?x=1")
    (request,) = seen
    assert str(request.url) == f"https://{PUBLIC}:8443/a.png?x=1"
    assert request.headers["host"] == "cdn.example.com:8443"
    assert request.extensions["sni_hostname"] == "cdn.example.com"


def test_transport_is_https_only_by_default_for_webhooks() -> None:
    transport = PublicOnlyTransport(
        httpx.MockTransport(lambda r: httpx.Response(200)), resolve=_resolve_to(PUBLIC)
    )
    with httpx.Client(transport=transport) as client, pytest.raises(BlockedURL, match="only https"):
        client.get("http://hooks.example.com/")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://127.0.0.1:70/_x", "http://cdn.example.com/cup.png"]
)
def test_fetch_assets_refuses_other_schemes_before_any_request(url: str) -> None:
    import modal_app.app as modal_app

    with pytest.raises(BriefError, match="only https URLs are fetched") as refused:
        modal_app.fetch_assets.local(url, "product.photos[0]", 10**6)
    assert refused.value.where == "product.photos[0]"


# --- the corpus, against a real loopback network ---------------------------------------------


@pytest.fixture(scope="module")
def shared_lab() -> Iterator[Lab]:
    lab = open_lab()
    yield lab
    close_lab(lab)


@pytest.fixture
def lab(shared_lab: Lab) -> Lab:
    shared_lab.reset()
    return shared_lab


def _via(lab: Lab, target: str) -> str:
    """A URL on the public stand-in that redirects to ``target``."""
    return f"http://cdn.test:{lab.port}/redirect?to={quote(target, safe='')}"


# {p} is the shared port: a loopback form that got through would reach the counting server.
CORPUS = [
    "http://127.0.0.1:{p}/",
    "http://localhost:{p}/",
    "HTTP://LOCALHOST:{p}/",
    "http://2130706433:{p}/",  # decimal
    "http://017700000001:{p}/",  # octal, one number
    "http://0177.0.0.1:{p}/",  # octal, dotted
    "http://0177.1:{p}/",  # octal, short
    "http://0x7f000001:{p}/",  # hex
    "http://0x7f.0x0.0x0.0x1:{p}/",
    "http://0x7f.1:{p}/",
    "http://127.1:{p}/",  # short form
    "http://127.0.0.1.:{p}/",  # trailing dot
    "http://127%2E0%2E0%2E1:{p}/",  # percent-encoded dots
    "http://0.0.0.0:{p}/",  # unspecified, which Linux routes to this host
    "http://0:{p}/",
    "http://1.2.3.4.5:{p}/",  # numeric but no address
    "http://[::1]:{p}/",
    "http://[::]:{p}/",
    "http://[::ffff:127.0.0.1]:{p}/",  # IPv4-mapped
    "http://[::ffff:7f00:1]:{p}/",
    "http://[::127.0.0.1]:{p}/",  # IPv4-compatible
    "http://[64:ff9b::7f00:1]:{p}/",  # NAT64
    "http://[2002:7f00:1::]:{p}/",  # 6to4
    "http://[2002:a9fe:a9fe::]/latest/meta-data/",
    "http://[fe80::1]:{p}/",
    "http://[fd00::1]:{p}/",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://169.254.43518/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # CGNAT
    "http://224.0.0.1/",  # multicast
    "http://255.255.255.255/",
    "https://cdn.test@127.0.0.1:{p}/",  # userinfo: the host is 127.0.0.1
    "http://cdn.test:{p}@127.0.0.1:{p}/",
    "http://127.0.0.1:{p}#@cdn.test:{p}/",
    "http://127.0.0.1:{p}?@cdn.test:{p}/",
    "http://cdn.test\\@127.0.0.1:{p}/",
    "http://internal.test:{p}/",  # DNS answers loopback
    "http://metadata.test/latest/meta-data/",  # DNS answers the metadata address
    "http://mixed.test:{p}/photo.png",  # DNS answers public and loopback
    "http://private.test/",
    "http://cgnat.test/",
    "http://mapped.test:{p}/",  # DNS answers ::ffff:127.0.0.1
    "http://nat64.test/",  # DNS answers NAT64 of the metadata address
    "http://unknown.test:{p}/",  # does not resolve
    "file:///etc/passwd",
    "file://127.0.0.1/etc/passwd",
    "gopher://127.0.0.1:{p}/_GET%20/%20HTTP/1.0%0d%0a%0d%0a",
    "ftp://127.0.0.1:{p}/",
    "dict://127.0.0.1:{p}/info",
]
REDIRECT_CORPUS = [
    "http://127.0.0.1:{p}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.test/latest/meta-data/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{p}/_x",
    "http://2130706433:{p}/",
    "http://[::ffff:127.0.0.1]:{p}/",
    "http://internal.test:{p}/",
    "https://cdn.test@127.0.0.1:{p}/",
    "//127.0.0.1:{p}/",  # scheme-relative
]


def _assert_refused_without_connecting(lab: Lab, url: str, dest: Path) -> None:
    with pytest.raises((BlockedURL, httpx.InvalidURL)):
        download(url, dest, resolve=lab.dns, allow=lab.allow, transport=lab.jail, deadline=2.0)
    assert lab.jail.violations == []
    assert lab.internal.connections == 0
    assert not dest.exists() or list(dest.iterdir()) == []


@pytest.mark.parametrize("url", CORPUS)
def test_internal_forms_make_no_connection(lab: Lab, url: str, tmp_path: Path) -> None:
    _assert_refused_without_connecting(lab, url.format(p=lab.port), tmp_path / "dest")
    assert lab.jail.forwarded == []  # not even the public stand-in was asked


@pytest.mark.parametrize("target", REDIRECT_CORPUS)
def test_redirects_to_internal_targets_are_checked_again(
    lab: Lab, target: str, tmp_path: Path
) -> None:
    _assert_refused_without_connecting(lab, _via(lab, target.format(p=lab.port)), tmp_path)
    assert len(lab.jail.forwarded) == 1  # the public hop, then nothing


def test_a_redirect_chain_ending_inside_is_refused_at_its_last_hop(
    lab: Lab, tmp_path: Path
) -> None:
    inner = _via(lab, f"http://127.0.0.1:{lab.port}/")
    _assert_refused_without_connecting(lab, _via(lab, inner), tmp_path)
    assert len(lab.jail.forwarded) == 2


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) + len(REDIRECT_CORPUS) >= 25


def test_dns_rebinding_connects_to_the_address_that_was_checked(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake DNS answers public, then loopback; and the system resolver answers loopback for
    the name all along, so a connection made by name would reach the internal server."""
    real = socket.getaddrinfo

    def system_resolver(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        return real(INTERNAL_IP if host == "rebind.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", system_resolver)
    url = f"http://rebind.test:{lab.port}/photo.png"
    path = download(url, tmp_path, resolve=lab.dns, allow=lab.allow)  # the real transport
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert lab.dns.calls == ["rebind.test"]
    assert lab.public.state.requests == [("/photo.png", f"rebind.test:{lab.port}")]
    assert lab.internal.connections == 0
    # Asked again, the DNS now answers loopback, and the download is refused.
    with pytest.raises(BlockedURL, match="non-public"):
        download(url, tmp_path, resolve=lab.dns, allow=lab.allow)
    assert lab.internal.connections == 0


def test_https_verifies_the_certificate_for_the_name_while_connecting_to_the_address(
    tmp_path: Path,
) -> None:
    server_tls, client_tls = self_signed("cdn.test", tmp_path)
    lab = open_lab(tls=server_tls)
    try:
        inner = httpx.HTTPTransport(verify=client_tls)
        url = f"https://cdn.test:{lab.port}/photo.png"
        path = download(url, tmp_path / "dest", resolve=lab.dns, allow=lab.allow, transport=inner)
        assert path.suffix == ".png"
        # The same address under a name the certificate does not cover fails verification.
        lab.dns.table["other.test"] = [[PUBLIC_IP]]
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            download(
                f"https://other.test:{lab.port}/photo.png",
                tmp_path / "dest",
                resolve=lab.dns,
                allow=lab.allow,
                transport=inner,
            )
        assert lab.internal.connections == 0
    finally:
        close_lab(lab)


def test_an_international_name_is_resolved_and_sent_as_httpx_encodes_it() -> None:
    asked: list[str] = []
    seen: list[httpx.Request] = []

    def resolve(host: str) -> list[str]:
        asked.append(host)
        return [PUBLIC]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    transport = PublicOnlyTransport(httpx.MockTransport(handler), resolve=resolve)
    with httpx.Client(transport=transport) as client:
        client.get("https://straße.test/")
    assert asked == ["xn--strae-oqa.test"]  # IDNA 2008, not the resolver's own IDNA 2003
    assert seen[0].extensions["sni_hostname"] == "xn--strae-oqa.test"
