"""Supabase Storage for the harness's containers: the storage API stand-in served over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

from tests.storage.storage_api import FakeStorageApi

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class StorageServer:
    """An ASGI app answering ``/storage/v1/object/...`` from one FakeStorageApi."""

    def __init__(self, api: FakeStorageApi | None = None) -> None:
        self.api = api or FakeStorageApi(buckets={"reelforge"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = scope["query_string"].decode()
        url = f"http://storage{scope['path']}" + (f"?{query}" if query else "")
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"]]
        response = self.api(httpx.Request(scope["method"], url, headers=headers, content=body))
        content = response.read()
        out = [(k.encode(), v.encode()) for k, v in response.headers.items()
               if k.lower() not in ("content-length", "transfer-encoding")]  # fmt: skip
        out.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": content})
