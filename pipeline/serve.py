"""`reelforge serve`: the embedded database, the HTTPS API, local workers and the background
loop (webhook deliveries, Idempotency-Key purges), started together and stopped together."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import httpx

from pipeline.settings import Settings, WebhookSettings
from pipeline.storage import BlobStore
from pipeline.store import Repositories, Store, open_store
from pipeline.store.users import local_user_id

if TYPE_CHECKING:
    from pipeline.worker import LocalExecutor

__all__ = ["DEV_GRANT", "KeyPurge", "ensure_dev_user", "serve"]

DEV_GRANT = 1000  # credits a new local developer starts with
PURGE_SECONDS = 600.0  # how often the background loop purges Idempotency-Keys past retention


def ensure_dev_user(store: Store, email: str) -> UUID:
    """The embedded database's user for ``email``, created once with a starting grant."""
    user_id = local_user_id(email)
    repos = Repositories.postgres(store)
    repos.users.ensure_local(user_id=user_id, email=email.strip().lower())
    repos.credits.adjust(
        user_id=user_id,
        amount=DEV_GRANT,
        reason="grant",
        idempotency_key=f"dev-grant:{user_id}",
    )
    return user_id


class KeyPurge:
    """Deletes Idempotency-Keys past ``retention_seconds`` when called, at most once every
    ``every`` seconds (the first call purges at once)."""

    def __init__(
        self,
        repos: Repositories,
        *,
        retention_seconds: int,
        every: float = PURGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repos, self._retention, self._every, self._clock = (
            repos,
            retention_seconds,
            every,
            clock,
        )
        self._due = clock()

    def __call__(self) -> int:
        """How many keys were deleted (0 when not due yet)."""
        now = self._clock()
        if now < self._due:
            return 0
        self._due = now + self._every
        return self._repos.idempotency.cleanup(retention_seconds=self._retention)


def _purge_keys(store: Store, stop: threading.Event, *, retention_seconds: int) -> None:
    """Until ``stop``: Idempotency-Keys past their retention deleted every PURGE_SECONDS."""
    purge = KeyPurge(Repositories.postgres(store), retention_seconds=retention_seconds)
    while not stop.is_set():
        purge()
        stop.wait(PURGE_SECONDS)


def _dispatch_webhooks(
    store: Store,
    stop: threading.Event,
    *,
    local_receivers: bool,
    blobs: BlobStore,
    limits: WebhookSettings,
) -> None:
    from pipeline.store.webhooks import Webhooks
    from pipeline.webhooks import Dispatcher
    from pipeline.webhooks.transport import TIMEOUT_SECONDS, delivery_transport

    # Endpoint URLs come from tenants: only public HTTPS addresses are reached, except in local
    # development, where a receiver on this machine is the point. No redirects, a 15 s timeout.
    transport = delivery_transport(local_receivers=local_receivers)
    with httpx.Client(
        transport=transport, timeout=TIMEOUT_SECONDS, follow_redirects=False
    ) as client:
        dispatcher = Dispatcher(
            Webhooks(store), client, worker=f"serve-{os.getpid()}", blobs=blobs, limits=limits
        )
        dispatcher.run(stop)


def dev_ready(settings: Settings, *, host: str, port: int) -> Settings:
    """The settings ``serve`` runs with: Supabase token verification when configured, else the
    development tokens of ``reelforge token`` (and webhook receivers on this machine); links
    start with REELFORGE_PUBLIC_URL, else with the address it listens on."""
    if settings.service.public_url is None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        service = settings.service.model_copy(update={"public_url": f"http://{shown}:{port}"})
        settings = settings.model_copy(update={"service": service})
    if settings.api is not None:
        return settings
    from pipeline.api.auth import dev_settings

    return settings.model_copy(update={"api": dev_settings(settings.home)})


def _workers(settings: Settings, store: Store, n: int) -> LocalExecutor:
    """``n`` supervised render workers on ``store``'s database (started by the caller)."""
    from pipeline.wiring import signing_secret
    from pipeline.worker import LocalExecutor

    return LocalExecutor(
        n,
        media_root=settings.media_root,
        conninfo=store.conninfo,
        cwd=Path.cwd(),
        # The workers reach the database by URL: they get the secret the same way.
        env={"REELFORGE_SIGNING_SECRET": signing_secret(settings)},
    )


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Run until interrupted; workers get SIGTERM (finish or release their job) on the way out.
    A worker that dies is replaced (pipeline.worker.supervisor); meanwhile /ready answers 503."""
    import uvicorn

    from pipeline.api.app import create_app

    settings = dev_ready(settings, host=host, port=port)
    settings.media_root.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.store)
    executor = _workers(settings, store, workers) if workers else None
    readiness = executor.readiness if executor is not None else None
    app = create_app(settings=settings, store=store, readiness=readiness)
    local = settings.require_api().webhook_allow_http_localhost
    stop = threading.Event()
    blobs = app.state.blobs  # links in webhooks point at this API's downloads
    dispatcher = threading.Thread(
        target=_dispatch_webhooks, args=(store, stop),
        kwargs={"local_receivers": local, "blobs": blobs, "limits": settings.webhooks},
        daemon=True,
    )  # fmt: skip
    purger = threading.Thread(
        target=_purge_keys, args=(store, stop),
        kwargs={"retention_seconds": settings.service.idempotency_retention_seconds}, daemon=True,
    )  # fmt: skip
    try:
        with contextlib.ExitStack() as stack:
            if executor is not None:
                stack.enter_context(executor)
            dispatcher.start()
            purger.start()
            uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        stop.set()
        if dispatcher.is_alive():  # it waits for its attempts in flight, 18 s at most
            dispatcher.join(timeout=25)
        if purger.is_alive():
            purger.join(timeout=5)
        store.close()
