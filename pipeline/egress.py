"""Outbound HTTP to tenant-supplied URLs: public addresses only, pinned to the address checked.

:class:`PublicOnlyTransport` resolves the host once, refuses the request unless every address is
public, then connects to the checked address itself (the URL's host becomes that address; the Host
header and the TLS server name keep the original name), so a DNS answer that changes between the
check and the connection (rebinding) cannot reach an internal address. Redirects are the caller's
to follow: each hop is a new request through the transport, so each is checked again.
:class:`Watchdog` and :func:`resolve_within` hold a request to one deadline, DNS included.

    BlockedURL (an httpx.RequestError)   refused: scheme, internal address, redirects, size, time
     ├── TooLarge                        the body is over the cap
     └── DeadlineExceeded                the whole fetch took longer than its deadline
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import httpx

__all__ = [
    "MAX_ASSET_BYTES",
    "Allow",
    "BlockedURL",
    "DeadlineExceeded",
    "IPAddress",
    "PublicOnlyTransport",
    "Resolver",
    "TooLarge",
    "Watchdog",
    "check_public",
    "checked_address",
    "is_public_address",
    "literal_address",
    "resolve_host",
    "resolve_within",
]

MAX_ASSET_BYTES = 25 * 1024 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]
"""A host name to its addresses, as text (``socket.getaddrinfo`` in production)."""
Allow = Callable[[IPAddress, int], bool]
"""An (address, port) to treat as public although it is not: tests' stand-in for a public host."""


class BlockedURL(httpx.RequestError):
    """The URL was refused: a scheme not allowed, a host that is or resolves to a non-public
    address, too many redirects, a body over the cap, or a fetch past its deadline.

    An ``httpx.RequestError``, so callers that treat network errors as a failed attempt (the
    webhook dispatcher) treat a blocked URL the same way. Messages name the host, never the full
    URL, whose query may hold a token.
    """


class TooLarge(BlockedURL):
    """The body is larger than the cap."""


class DeadlineExceeded(BlockedURL):
    """The fetch, every redirect and byte included, took longer than its deadline."""


# Besides ``is_global``: ranges it misses (multicast and IPv4-compatible IPv6 count as global) or
# that newer Pythons classify differently; any address in one of these is refused.
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/96",  # unspecified, loopback, IPv4-compatible (deprecated)
        "::ffff:0:0/96",  # IPv4-mapped (checked through the embedded address first)
        "::ffff:0:0:0/96",  # IPv4-translated
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, Teredo among them
        "2001:db8::/32",
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), which is where it leads."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """True when ``address``, and any IPv4 address embedded in it, is globally reachable."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = _embedded_v4(address)
        if embedded is not None and not is_public_address(embedded):
            return False
    if any(address in net for net in _BLOCKED_NETWORKS if net.version == address.version):
        return False
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def _ipv4_part(part: str) -> int | None:
    """One part of an inet_aton-style IPv4 host (``0x7f``, ``0177``, ``127``), or None."""
    try:
        if part[:2].lower() == "0x":
            return int(part[2:], 16) if part[2:] else 0
        if len(part) > 1 and part.startswith("0"):
            return int(part, 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, read the way browsers and libc's inet_aton read it
    (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``, ``[::1]``), or None for a name.

    Raises BlockedURL for a host that looks numeric but is no valid address: resolvers disagree
    about such hosts, so none of them is trusted with it.
    """
    host = unquote(host).strip("[]").lower()
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if ":" in host:  # not a name, and not an address ipaddress accepts
        raise BlockedURL(f"{host!r} is not a valid address")
    parts = host.removesuffix(".").split(".")
    last = parts[-1]
    # As the URL standard decides: a host whose last label is a number is an IPv4 address.
    if not (
        last.isdigit() or (last[:2] == "0x" and all(c in "0123456789abcdef" for c in last[2:]))
    ):
        return None
    numbers = [_ipv4_part(p) for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise BlockedURL(f"{host!r} is a numeric host but not a valid IPv4 address")
    values = [n for n in numbers if n is not None]
    *head, tail = values
    if any(n > 255 for n in head) or tail >= 256 ** (5 - len(values)):
        raise BlockedURL(f"{host!r} is a numeric host but not a valid IPv4 address")
    number = tail
    for i, n in enumerate(head):
        number += n << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (the system resolver)."""
    infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _default_port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def checked_address(
    url: httpx.URL | str,
    resolve: Resolver = resolve_host,
    *,
    schemes: Sequence[str] = ("https",),
    allow: Allow | None = None,
) -> IPAddress:
    """The address to connect to for ``url``, once the scheme is allowed and every address of the
    host is public (or ``allow``-ed); raises BlockedURL otherwise."""
    url = httpx.URL(url)
    if url.scheme not in schemes:
        allowed = " and ".join(schemes)
        raise BlockedURL(f"only {allowed} URLs are fetched, not {url.scheme or 'no scheme'}")
    host = url.raw_host.decode("ascii")  # IDNA-encoded, as it will be connected to
    if not host:
        raise BlockedURL("the URL has no host")
    port = _default_port(url)
    literal = literal_address(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            answers = resolve(host)
        except (OSError, UnicodeError) as exc:
            raise BlockedURL(f"cannot resolve {host}: {exc}") from exc
        try:
            addresses = [ipaddress.ip_address(a) for a in answers]
        except ValueError as exc:
            raise BlockedURL(f"{host} resolves to something that is not an address") from exc
    if not addresses:
        raise BlockedURL(f"{host} has no address")
    for address in addresses:  # one internal answer refuses the host: a pick could rotate to it
        if not (allow is not None and allow(address, port)) and not is_public_address(address):
            raise BlockedURL(f"{host} is or resolves to a non-public address ({address})")
    return addresses[0]


def check_public(
    url: httpx.URL | str,
    resolve: Resolver = resolve_host,
    *,
    schemes: Sequence[str] = ("https",),
    allow: Allow | None = None,
) -> None:
    """Raises BlockedURL unless ``url``'s scheme is allowed and every address of its host is
    public; see :func:`checked_address`."""
    checked_address(url, resolve, schemes=schemes, allow=allow)


class PublicOnlyTransport(httpx.BaseTransport):
    """Checks every request with :func:`checked_address` and sends it to the checked address.

    ``schemes`` defaults to https only (webhooks); downloads pass ``("http", "https")``.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        resolve: Resolver = resolve_host,
        schemes: Sequence[str] = ("https",),
        allow: Allow | None = None,
    ) -> None:
        # No keep-alive: the pool keys connections by address, so a kept TLS connection, verified
        # for one name, could otherwise carry a request for another name on the same address.
        self._inner = inner or httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
        self._resolve = resolve
        self._schemes = tuple(schemes)
        self._allow = allow

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        address = checked_address(url, self._resolve, schemes=self._schemes, allow=self._allow)
        extensions = dict(request.extensions)
        name = url.raw_host.decode("ascii")
        if url.scheme == "https" and literal_address(name) is None:
            extensions["sni_hostname"] = name  # the certificate is checked for the name
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=str(address)),
            headers=request.headers,  # Host still names the original host
            stream=request.stream,
            extensions=extensions,
        )
        return self._inner.handle_request(pinned)

    def close(self) -> None:
        self._inner.close()


class Watchdog:
    """Shuts a request's sockets down at its deadline (``ends``, on ``time.monotonic``): pass
    ``trace`` as the request's ``trace`` extension inside ``with``. Read timeouts bound each
    read, not the total, so a server that drips its headers a byte per read would otherwise
    outlive any timeout."""

    def __init__(self, ends: float) -> None:
        self._ends = ends
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._fired = False
        self._timer = threading.Timer(max(0.0, ends - time.monotonic()), self._fire)
        self._timer.daemon = True

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx's ``trace`` extension: keeps a duplicate of each new connection's socket (taken
        before TLS wraps it, and shut down through the duplicate: same socket, same effect)."""
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        sock = None if stream is None else stream.get_extra_info("socket")
        if not isinstance(sock, socket.socket):
            return
        dup = sock.dup()
        with self._lock:
            self._sockets.append(dup)
            if self._fired:
                _shutdown(dup)

    @property
    def expired(self) -> bool:
        return self._fired or time.monotonic() >= self._ends

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            for sock in self._sockets:
                _shutdown(sock)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def resolve_within(resolve: Resolver, ends: float) -> Resolver:
    """``resolve`` bounded by the deadline: the system resolver has no timeout of its own, so it
    runs in a daemon thread that is left to finish alone when the deadline passes first."""

    def bounded(host: str) -> list[str]:
        answers: list[list[str]] = []
        errors: list[Exception] = []

        def run() -> None:
            try:
                answers.append(resolve(host))
            except Exception as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, name=f"resolve {host}", daemon=True)
        thread.start()
        thread.join(max(0.0, ends - time.monotonic()))
        if thread.is_alive():
            raise DeadlineExceeded(f"resolving {host} ran past the deadline")
        if errors:
            raise errors[0]
        return answers[0]

    return bounded


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by its connection
        sock.shutdown(socket.SHUT_RDWR)
