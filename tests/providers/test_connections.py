"""Connections: one retrying client per event loop, with sane timeouts, closed at the loop's end."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.connections import Connections
from pipeline.providers.http import DEFAULT_TIMEOUT
from pipeline.providers.sync import run_sync


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client pools the connection

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def connections(client: httpx.AsyncClient | None = None) -> Connections:
    return Connections(
        "acme", client, policy=None, breaker=CircuitBreaker("acme"), sleep=asyncio.sleep
    )


def test_an_owned_client_waits_as_long_as_the_provider_clients_do_not_httpx_5_s() -> None:
    async def timeout() -> httpx.Timeout:
        return connections().get().client.timeout

    assert asyncio.run(timeout()) == DEFAULT_TIMEOUT


def test_each_loop_gets_its_own_client_closed_when_that_loop_ends(local_url: str) -> None:
    conns = connections()
    made: list[httpx.AsyncClient] = []

    async def batch() -> None:
        client = conns.get()
        assert conns.get() is client  # one per loop
        await client.json("GET", local_url)  # a pooled connection, a transport of this loop
        made.append(client.client)
        assert not client.client.is_closed

    for _ in range(3):
        run_sync(batch())  # as the synchronous ports run each batch

    assert len({id(c) for c in made}) == 3
    assert [c.is_closed for c in made] == [True, True, True]


def test_a_client_handed_in_is_used_in_every_loop_and_never_closed() -> None:
    given = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    conns = connections(given)

    async def client() -> httpx.AsyncClient:
        return conns.get().client

    assert asyncio.run(client()) is given
    assert asyncio.run(client()) is given
    assert not given.is_closed
    asyncio.run(given.aclose())


def test_a_loop_closed_without_shutting_down_leaves_its_client_quietly() -> None:
    conns = connections()
    loop = asyncio.new_event_loop()

    async def client() -> httpx.AsyncClient:
        return conns.get().client

    try:
        left = loop.run_until_complete(client())
    finally:
        loop.close()  # no shutdown_asyncgens: nothing can close the client cleanly now
    assert not left.is_closed
    fresh = asyncio.run(client())  # the closed loop's entry is dropped, no error or warning
    assert fresh is not left and fresh.is_closed
