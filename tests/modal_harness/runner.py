"""A container of the harness: runs one Modal function of modal_app.app on its inputs.

``python -m tests.modal_harness.runner <folder>`` reads ``inputs.pkl`` (the function's name and
its inputs), replaces every other function's ``spawn``/``map``/``remote`` with the harness's, calls
``function.local(*args)`` on each input and writes ``outputs.pkl``. ``serve`` instead serves the
``web`` function's ASGI app on a port until killed. A provider's host the test serves itself
(``Cloud.routes``) is reached there instead, over plain HTTP, by every httpx client.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from pathlib import Path
from typing import Any

from tests.modal_harness.cloud import CONFIG_ENV, Cloud


class _Remote:
    """A Modal Function as another container sees it: calls go to new harness containers."""

    def __init__(self, cloud: Cloud, name: str, function: Any) -> None:
        self._cloud, self._name, self._function = cloud, name, function

    def spawn(self, *args: Any) -> Any:
        return self._cloud.spawn(self._name, *args)

    def remote(self, *args: Any) -> Any:
        return self._cloud.call(self._name, *args)

    def map(self, inputs: Any) -> Any:
        return self._cloud.map(self._name, list(inputs))

    def local(self, *args: Any) -> Any:
        return self._function.local(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._function, name)


def route(routes: dict[str, str]) -> None:
    """Sends httpx's requests for each host in ``routes`` to the base URL it maps to."""
    import httpx

    targets = {host: httpx.URL(base) for host, base in routes.items()}

    def moved(request: httpx.Request) -> None:
        target = targets.get(request.url.host)
        if target is not None:
            request.url = request.url.copy_with(
                scheme=target.scheme, host=target.host, port=target.port
            )

    sync_send = httpx.HTTPTransport.handle_request
    async_send = httpx.AsyncHTTPTransport.handle_async_request

    def handle(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        moved(request)
        return sync_send(self, request)

    async def handle_async(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> Any:
        moved(request)
        return await async_send(self, request)

    httpx.HTTPTransport.handle_request = handle  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = handle_async  # type: ignore[method-assign]


def _patched() -> Any:
    import modal

    import modal_app.app as modal_app

    cloud = Cloud.load(Path(os.environ[CONFIG_ENV]))
    if cloud.routes:
        route(cloud.routes)
    for name, value in list(vars(modal_app).items()):
        if isinstance(value, modal.Function):
            setattr(modal_app, name, _Remote(cloud, name, value))
    return modal_app


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except BaseException as exc:
        traceback.print_exc()
        try:
            pickle.dumps(exc)
            return "error", exc
        except Exception:
            return "error", RuntimeError("".join(traceback.format_exception(exc)))


def main(folder: Path) -> None:
    modal_app = _patched()
    function_name, inputs = pickle.loads((folder / "inputs.pkl").read_bytes())
    function = getattr(modal_app, function_name)
    outputs = [_outcome(lambda args=args: function.local(*args)) for args in inputs]
    temporary = folder / "outputs.pkl.tmp"
    temporary.write_bytes(pickle.dumps(outputs))
    temporary.rename(folder / "outputs.pkl")


def serve(port: int) -> None:
    import uvicorn

    modal_app = _patched()
    uvicorn.run(modal_app.web.local(), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        main(Path(sys.argv[1]))
