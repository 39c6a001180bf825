"""The request body limit: Content-Length checked up front, streamed bodies counted as they arrive."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.api.errors import BodyTooLarge, problem_response

__all__ = ["BodySizeLimit"]


class BodySizeLimit:
    """Pure ASGI middleware: 413 problem+json when a body is, or becomes, larger than ``limit``."""

    def __init__(self, app: ASGIApp, *, limit: int, paths: Mapping[str, int] | None = None) -> None:
        """``paths``: a larger (or smaller) limit for the paths that start with a prefix, such as
        performance report uploads."""
        self.app = app
        self.default = limit
        self.paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = next((n for p, n in self.paths.items() if path.startswith(p)), self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            # Refused before reading a byte of the body.
            await problem_response(413, f"the request body is larger than {limit} bytes")(
                scope, receive, send
            )
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException: FastAPI passes it through its body parsing unchanged.
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await problem_response(413, str(exc.detail))(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
