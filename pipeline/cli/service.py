"""``reelforge serve`` and ``reelforge token``: the local service and its development tokens."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from pipeline.cli.common import fail, load_settings
from pipeline.errors import ReelforgeError

__all__ = ["serve_command", "token_command"]


def token_command(
    user: Annotated[str, typer.Option("--user", help="The developer's email.")],
) -> None:
    """Mint a development API token; on the embedded database the user is created with credits."""
    from pipeline.api.auth import mint_dev_token

    settings = load_settings()
    if settings.store.embedded:
        from pipeline.serve import ensure_dev_user
        from pipeline.store.database import open_store

        try:
            with open_store(settings.store) as store:
                ensure_dev_user(store, user)
        except ReelforgeError as exc:
            raise fail(exc) from None
    print(mint_dev_token(user, home=settings.home))


def _log_to_stderr() -> None:
    """Warnings from anywhere, and the render workers' starts, deaths and restarts, on stderr
    with a time (uvicorn logs through its own handlers)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger("pipeline.worker.supervisor").setLevel(logging.INFO)


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Local render workers (0: API only).", min=0, max=32)
    ] = 2,
) -> None:
    """Run the API, the render workers and the database together (Ctrl-C stops them all)."""
    from pipeline.serve import serve

    settings = load_settings()
    _log_to_stderr()
    try:
        serve(settings, host=host, port=port, workers=workers)
    except ReelforgeError as exc:
        raise fail(exc) from None
