"""Test helper: a TCP proxy in front of PostgreSQL that behaves as Supavisor's transaction mode
does towards what reelforge must never send through it.

It reads the client's side of the PostgreSQL wire protocol (v3) and cuts the connection on
- a Parse message ('P') whose first field, the statement name, is not empty (a named prepared
  statement: the next transaction may run on another server connection, where it is unknown);
- a simple Query ('Q') that starts with PREPARE or LISTEN (the same, spelled in SQL; a LISTEN
  subscription is lost when the transaction ends).
Every refusal is recorded in ``violations``; ``parses`` counts the unnamed Parse messages seen,
so a test can show the proxy really read the traffic. The server's side is copied untouched.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

__all__ = ["POOLER_HOST", "PoolerProxy", "pooler_url", "running_proxy", "socket_dir"]

# A host name of Supabase's pooler: reelforge treats such a URL as the transaction pooler.
POOLER_HOST = "aws-0-eu-central-1.pooler.supabase.com"
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_SESSION_SQL = re.compile(rb"^\s*(prepare|listen)\b", re.IGNORECASE)


@dataclass
class PoolerProxy:
    """Listening on 127.0.0.1:``port``, forwarding to the unix socket ``upstream``."""

    upstream: Path
    port: int = 0
    violations: list[str] = field(default_factory=list)
    parses: int = 0
    queries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, problem: str) -> None:
        with self._lock:
            self.violations.append(problem)

    def count(self, kind: bytes) -> None:
        with self._lock:
            if kind == b"P":
                self.parses += 1
            else:
                self.queries += 1


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _check(proxy: PoolerProxy, kind: bytes, body: bytes) -> str | None:
    """Why this client message must not pass, or None."""
    if kind == b"P":
        name = body.split(b"\0", 1)[0]
        query = body[len(name) + 1 :].split(b"\0", 1)[0]
        if name:
            return f"named prepared statement {name!r}: {query[:80]!r}"
        proxy.count(kind)
    elif kind == b"Q":
        proxy.count(kind)
        if _SESSION_SQL.match(body):
            return f"session-level SQL: {body[:80]!r}"
    return None


def _startup(client: socket.socket, server: socket.socket) -> None:
    """Forwards the untyped startup messages (SSL/GSS requests, then the startup packet)."""
    while True:
        head = _read(client, 8)
        length, code = struct.unpack("!ii", head)
        server.sendall(head + _read(client, length - 8))
        if code not in (_SSL_REQUEST, _GSSENC_REQUEST):
            return


def _client_to_server(proxy: PoolerProxy, client: socket.socket, server: socket.socket) -> None:
    try:
        _startup(client, server)
        while True:
            kind = _read(client, 1)
            raw_length = _read(client, 4)
            body = _read(client, struct.unpack("!i", raw_length)[0] - 4)
            problem = _check(proxy, kind, body)
            if problem is not None:
                proxy.record(problem)
                return
            server.sendall(kind + raw_length + body)
    except (ConnectionError, OSError):
        return
    finally:
        for sock in (client, server):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _server_to_client(server: socket.socket, client: socket.socket) -> None:
    with suppress(OSError):
        while chunk := server.recv(65536):
            client.sendall(chunk)
    with suppress(OSError):
        client.shutdown(socket.SHUT_RDWR)


def _relay(proxy: PoolerProxy, client: socket.socket) -> None:
    """One client connection: its own server connection, both directions, then both closed."""
    with client, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.connect(str(proxy.upstream))
        back = threading.Thread(target=_server_to_client, args=(server, client), daemon=True)
        back.start()
        _client_to_server(proxy, client, server)
        back.join(timeout=10)


def _serve(proxy: PoolerProxy, listener: socket.socket) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_relay, args=(proxy, client), daemon=True).start()


def socket_dir(conninfo: str) -> Path:
    """The unix socket folder of a server's connection string (the embedded server's)."""
    return Path(str(conninfo_to_dict(conninfo)["host"]))


def pooler_url(proxy: PoolerProxy, database: str) -> str:
    """A connection string that names Supabase's pooler host, as production's DATABASE_URL
    does, while ``hostaddr`` makes libpq connect to the proxy without looking the name up."""
    return (
        f"host={POOLER_HOST} hostaddr=127.0.0.1 port={proxy.port} dbname={database}"
        " user=postgres sslmode=disable gssencmode=disable"
    )


@contextmanager
def running_proxy(socket_dir: Path, port: int = 5432) -> Iterator[PoolerProxy]:
    """A proxy to the server whose unix socket lives in ``socket_dir`` (``.s.PGSQL.<port>``)."""
    proxy = PoolerProxy(upstream=socket_dir / f".s.PGSQL.{port}")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    proxy.port = listener.getsockname()[1]
    thread = threading.Thread(target=_serve, args=(proxy, listener), daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
