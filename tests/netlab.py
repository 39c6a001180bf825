"""A small network for SSRF tests, all on loopback: an "internal" server that counts connections,
a "public" stand-in on 127.0.0.2 with the same port, a fake DNS, and a jail transport.

The internal server listens on 127.0.0.1:P and the public one on 127.0.0.2:P, so any form of a
loopback address that slips past the guard lands on the counting server. Tests treat 127.0.0.2:P
as public through the downloader's ``allow`` hook; nothing else is.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

PUBLIC_IP = "127.0.0.2"
INTERNAL_IP = "127.0.0.1"
PNG = (Path(__file__).resolve().parent.parent / "examples" / "photos" / "coffee.png").read_bytes()


class CountingServer:
    """Accepts TCP connections on 127.0.0.1, counts them, answers a canned HTTP secret."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((INTERNAL_IP, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nsecret")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@dataclass
class PublicState:
    stop: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    streamed: int = 0  # bytes /big-stream managed to send
    stream_done: threading.Event = field(default_factory=threading.Event)


def _handler(state: PublicState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection; bodies may end at close

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def _redirect(self, to: str) -> None:
            self.send_response(302)
            self.send_header("Location", to)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _drip(self, data: Iterator[bytes]) -> None:
            for piece in data:
                if state.stop.wait(0.05):
                    return
                try:
                    self.wfile.write(piece)
                except OSError:
                    return

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            state.requests.append((url.path, self.headers.get("Host", "")))
            path = url.path
            if path in ("/photo.png", "/logo"):
                self._send(200, PNG, "image/png")
            elif path == "/typed" or path.startswith("/typed/"):
                self._send(200, query.get("body", "x").encode(), query["type"])
            elif path == "/redirect":
                self._redirect(query["to"])
            elif path.startswith("/chain/"):
                left = int(path.removeprefix("/chain/"))
                self._redirect(f"/chain/{left - 1}" if left else "/photo.png")
            elif path == "/loop":
                self._redirect("/loop")
            elif path.startswith("/status/"):
                self._send(int(path.removeprefix("/status/")), b"no", "text/plain")
            elif path == "/gzip":
                self._send(200, b"\x1f\x8b", "image/png", Content_Encoding="gzip")
            elif path == "/big-declared":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(10**9))
                self.end_headers()
                self._stream(total=4 * 1024 * 1024)
            elif path == "/big-stream":  # no length: the body ends when the connection does
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self._stream(total=int(query.get("total", 32 * 1024 * 1024)))
            elif path == "/drip":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self._drip(b"x" for _ in range(400))
            elif path == "/drip-headers":
                self.wfile.write(b"HTTP/1.0 200 OK\r\n")
                self._drip(b"X" if i % 2 else b"-" for i in range(400))
            else:
                self._send(404, b"not found", "text/plain")

        def _stream(self, total: int) -> None:
            chunk = b"\0" * 65536
            sent = 0
            try:
                while sent < total and not state.stop.is_set():
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            finally:
                state.streamed = sent
                state.stream_done.set()

    return Handler


class PublicServer:
    """The public stand-in: an HTTP(S) server on 127.0.0.2:``port``."""

    def __init__(self, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.state = PublicState()
        self.httpd = ThreadingHTTPServer((PUBLIC_IP, port), _handler(self.state))
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = port
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.state.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=2)


class FakeDNS:
    """Answers from a table; a list of answers per name is served in turn (the last one repeats),
    which is how a rebinding DNS server behaves. Unknown names do not resolve."""

    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.calls.append(host)
        answers = self.table.get(host)
        if answers is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        seen = self.calls.count(host)
        return answers[min(seen, len(answers)) - 1]


def standard_dns() -> FakeDNS:
    return FakeDNS(
        {
            "cdn.test": [[PUBLIC_IP]],
            "localhost": [[INTERNAL_IP, "::1"]],
            "internal.test": [[INTERNAL_IP]],
            "metadata.test": [["169.254.169.254"]],
            "mixed.test": [[PUBLIC_IP, INTERNAL_IP]],
            "private.test": [["10.0.0.5"]],
            "cgnat.test": [["100.64.0.1"]],
            "mapped.test": [["::ffff:127.0.0.1"]],
            "nat64.test": [["64:ff9b::a9fe:a9fe"]],
            "rebind.test": [[PUBLIC_IP], [INTERNAL_IP]],
        }
    )


def allow_public(port: int) -> Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address, int], bool]:
    """The downloader's ``allow`` hook: exactly the public stand-in counts as public."""
    public = ipaddress.ip_address(PUBLIC_IP)
    return lambda address, p: address == public and p == port


class JailTransport(httpx.BaseTransport):
    """The transport under the guard: forwards only to the public stand-in; anything else it
    records as a violation and refuses, so no test can reach a real internal address."""

    def __init__(self, port: int, inner: httpx.BaseTransport | None = None) -> None:
        self.port = port
        self.inner = inner or httpx.HTTPTransport()
        self.forwarded: list[str] = []
        self.violations: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.host != PUBLIC_IP or url.port != self.port:
            self.violations.append(str(url))
            raise httpx.ConnectError("jail: not the public stand-in", request=request)
        self.forwarded.append(str(url))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@dataclass
class Lab:
    internal: CountingServer
    public: PublicServer
    dns: FakeDNS
    jail: JailTransport

    @property
    def port(self) -> int:
        return self.internal.port

    def reset(self) -> None:
        """Fresh counters and DNS between tests that share the servers."""
        self.internal.connections = 0
        self.public.state.requests.clear()
        self.public.state.streamed = 0
        self.public.state.stream_done.clear()
        self.jail.forwarded.clear()
        self.jail.violations.clear()
        self.dns = standard_dns()

    @property
    def allow(self) -> Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address, int], bool]:
        return allow_public(self.port)


def open_lab(tls: ssl.SSLContext | None = None) -> Lab:
    """The internal server on 127.0.0.1:P and the public stand-in on 127.0.0.2:P (P shared)."""
    for _ in range(20):  # the port is free on 127.0.0.2 nearly always; retry when it is not
        internal = CountingServer()
        try:
            public = PublicServer(internal.port, tls)
        except OSError:
            internal.close()
            continue
        return Lab(internal, public, standard_dns(), JailTransport(internal.port))
    raise RuntimeError("no port free on both loopback addresses")


def close_lab(lab: Lab) -> None:
    lab.public.close()
    lab.internal.close()
    lab.jail.close()


def wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Polls ``predicate`` until it holds or ``timeout`` seconds pass."""
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def self_signed(name: str, directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a certificate valid for ``name`` only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / f"{name}.pem"
    key_path = directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client
