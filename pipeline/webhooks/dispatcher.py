"""The dispatcher: claims due deliveries within fair caps, POSTs them signed, many at once, and
records each attempt's result."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from pipeline.egress import Watchdog
from pipeline.errors import BadInput
from pipeline.settings import WebhookSettings
from pipeline.storage import BlobStore, StorageError
from pipeline.store import LeaseLost
from pipeline.store.models import ClaimedDelivery, DeliveryStatus
from pipeline.store.webhooks import WebhookRepository
from pipeline.webhooks.clock import Clock, SystemClock
from pipeline.webhooks.pool import AttemptPool
from pipeline.webhooks.retry import RetryPolicy
from pipeline.webhooks.signing import InvalidSecret, webhook_headers
from pipeline.webhooks.transport import TIMEOUT_SECONDS

__all__ = [
    "BAD_SECRET", "DRAIN_MARGIN_SECONDS", "POLL_SECONDS", "TIMEOUT_SECONDS", "URL_SECONDS", "Attempt",
    "Dispatcher", "Undeliverable", "payload_body", "with_links",
]  # fmt: skip

POLL_SECONDS = 0.5  # how often an idle dispatcher looks for due deliveries
DRAIN_MARGIN_SECONDS = 3.0  # a stopping dispatcher waits the timeout and this for its attempts
CLAIM_RETRY_SECONDS = 5.0  # after the database failed a claim
URL_SECONDS = 24 * 3600  # a receiver that queues its work still finds the links alive
BAD_SECRET = (
    "the endpoint's signing secret is not a whsec_ secret (stored before reelforge checked "
    "secrets): rotate it, then re-enable the endpoint"
)
_log = logging.getLogger(__name__)


class Undeliverable(Exception):
    """A delivery that cannot be attempted at all: its endpoint's secret or URL is unusable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attempt:
    """One attempt's outcome: the delivery's status after it, and what the endpoint answered."""

    delivery_id: str
    webhook_id: str
    status: DeliveryStatus | None  # None: the lease was lost and nothing was recorded
    status_code: int | None
    error: str | None


def with_links(
    payload: dict[str, Any], blobs: BlobStore | None, now: datetime, *, seconds: int = URL_SECONDS
) -> dict[str, Any]:
    """The payload as sent: each output's blob ``key`` (recorded by the job-state trigger)
    replaced by a signed ``url`` fresh at send time and its ``url_expires_at`` (null without a
    blob store, or once the file is gone). The keys stay internal; ``job_url`` gives fresh
    links any time (GET, with an API key)."""
    outputs = payload.get("outputs")
    if not isinstance(outputs, list):
        return payload
    sent = []
    for output in outputs:
        if not isinstance(output, dict):
            continue
        item = {k: v for k, v in output.items() if k != "key"}
        url: str | None = None
        key = output.get("key")
        if blobs is not None and isinstance(key, str):
            with contextlib.suppress(StorageError, BadInput):
                url = blobs.signed_url(key, expires_in=seconds)
        expires = (now + timedelta(seconds=seconds)).replace(microsecond=0) if url else None
        sent.append(item | {"url": url, "url_expires_at": expires.isoformat() if expires else None})
    return payload | {"outputs": sent}


def payload_body(
    delivery: ClaimedDelivery, blobs: BlobStore | None = None, now: datetime | None = None
) -> bytes:
    """The JSON body: ``{"type", "timestamp", "data"}`` as Standard Webhooks suggests, its
    outputs with links signed now (:func:`with_links`)."""
    data = with_links(delivery.payload, blobs, now or datetime.now(UTC))
    envelope = {
        "type": delivery.event_type,
        "timestamp": delivery.created_at.isoformat(),
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Dispatcher:
    """Delivers due webhooks through ``client``, many at once: :meth:`run` as a service
    (``reelforge serve``), :meth:`run_once` for what is due now (tests, scripts).

    Attempts run in a pool of ``limits.concurrency`` threads while the loop keeps claiming, so
    a slow endpoint holds only the threads of its own attempts. The claim hands out at most
    ``limits.per_endpoint`` attempts in flight for one endpoint and ``limits.per_tenant`` for
    one tenant, counted in the database over every dispatcher: an endpoint that hangs for the
    whole timeout delays no other endpoint's deliveries, and a tenant whose endpoints all hang
    none of another tenant's. Order: with ``per_endpoint`` 1 (the default) one endpoint's
    attempts go one at a time, each started in the order the deliveries fell due; a failed
    delivery waits for its retry while later ones go, so receivers must not rely on order.

    ``client`` is the one seam to the network. Endpoint URLs are tenant-supplied, so in
    production it must refuse internal addresses (an SSRF-guarding transport); redirects are
    never followed whatever the client's own setting. ``blobs``: the store whose signed links
    a delivered job's outputs carry, made fresh for each attempt. ``lease_seconds`` must
    outlast an attempt (its timeout twice at least): until it ends nobody else attempts the
    delivery, and when a dispatcher stops or dies mid-attempt, the delivery is due again then.
    ``timeout`` bounds one attempt, from connecting to the status line (15 s).
    """

    def __init__(
        self,
        webhooks: WebhookRepository,
        client: httpx.Client,
        clock: Clock | None = None,
        *,
        policy: RetryPolicy | None = None,
        worker: str | None = None,
        lease_seconds: int = 60,
        rng: random.Random | None = None,
        blobs: BlobStore | None = None,
        limits: WebhookSettings | None = None,
        poll_seconds: float = POLL_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        if lease_seconds < 2 * timeout:
            raise ValueError(f"the lease must last twice the {timeout:g} s timeout at least")
        self.webhooks = webhooks
        self.client = client
        self.clock = clock or SystemClock()
        self.policy = policy or RetryPolicy()
        self.worker = worker or f"webhooks@{socket.gethostname()}:{os.getpid()}"
        self.lease_seconds = lease_seconds
        self._rng = rng or random.Random()
        self.blobs = blobs
        self.limits = limits or WebhookSettings()
        self.poll_seconds = poll_seconds
        self.timeout = timeout

    def run_once(self, *, limit: int = 100, seconds: float | None = None) -> list[Attempt]:
        """Attempts what is due now: claims while attempts run, and again as they end, until
        nothing more is due, ``limit`` attempts have started or ``seconds`` have passed; then
        waits for the attempts in flight. Returns each attempt's outcome, in claim order.

        One tenant's delivery never stops the others': an endpoint that cannot be sent to is
        disabled with the reason, and any other failure of one attempt is logged and the
        delivery left to its lease, after which it is due again.
        """
        started: list[Future[Attempt]] = []
        self._deliver(threading.Event(), seconds, limit, linger=False, started=started.append)
        return [future.result() for future in started]

    def run(self, stop: threading.Event, *, seconds: float | None = None) -> int:
        """Delivers until ``stop`` is set or ``seconds`` have passed (one claim at least),
        claiming new due deliveries while slow ones are in flight and polling every
        ``poll_seconds`` when idle. Then waits for the attempts in flight, the attempt timeout
        and a little more at most: one still running is due again when its lease ends.
        Returns how many attempts it started."""
        count = 0

        def counted(_: Future[Attempt]) -> None:
            nonlocal count
            count += 1

        self._deliver(stop, seconds, None, linger=True, started=counted)
        return count

    def _deliver(
        self,
        stop: threading.Event,
        seconds: float | None,
        limit: int | None,
        *,
        linger: bool,
        started: Callable[[Future[Attempt]], None],
    ) -> None:
        """The claim loop: fills free threads with due deliveries; without ``linger`` it ends
        once nothing is due and nothing runs."""
        ends = None if seconds is None else time.monotonic() + seconds
        pool = AttemptPool(self.limits.concurrency)
        count = 0
        try:
            while True:
                room = pool.free if limit is None else min(pool.free, limit - count)
                mark = pool.finished
                claimed = self._claim(room, None if not linger else stop) if room > 0 else []
                for delivery in claimed:
                    started(pool.submit(self._attempt_guarded, delivery))
                count += len(claimed)
                over = ends is not None and time.monotonic() >= ends
                if stop.is_set() or over or (limit is not None and count >= limit):
                    break
                if not (claimed or linger or pool.running) and pool.finished == mark:
                    break  # nothing was due, and nothing ran or ended since: done
                if not claimed or len(claimed) < room:  # nothing more due until one ends
                    pool.wait(since=mark, timeout=self.poll_seconds)
        finally:
            if not pool.drain(self.timeout + DRAIN_MARGIN_SECONDS if linger else None):
                _log.warning(
                    "%d webhook attempts still running as the dispatcher stops; each delivery is "
                    "due again when its lease ends", pool.running,
                )  # fmt: skip
            pool.close()

    def _claim(self, room: int, pause: threading.Event | None) -> list[ClaimedDelivery]:
        """Up to ``room`` due deliveries within the limits. A failing database stops
        :meth:`run_once`; a running service logs it and, unless ``pause`` is set meanwhile,
        tries again a few seconds later."""
        try:
            return self.webhooks.claim(
                worker=self.worker,
                now=self.clock.now(),
                lease_seconds=self.lease_seconds,
                limit=room,
                per_endpoint=self.limits.per_endpoint,
                per_tenant=self.limits.per_tenant,
            )
        except Exception:
            if pause is None:
                raise
            _log.exception("claiming webhook deliveries failed; trying again shortly")
            pause.wait(CLAIM_RETRY_SECONDS)
            return []

    def _attempt_guarded(self, delivery: ClaimedDelivery) -> Attempt:
        try:
            return self._attempt(delivery)
        except Exception as exc:  # the dispatcher is shared: one bad row must not stop it
            _log.exception(
                "webhook delivery %s (endpoint %s): attempt failed unexpectedly; due again when "
                "its lease ends",
                delivery.id,
                delivery.endpoint_id,
            )
            return Attempt(str(delivery.id), delivery.webhook_id, None, None, repr(exc)[:500])

    def _attempt(self, delivery: ClaimedDelivery) -> Attempt:
        try:
            status_code, error = self._post(delivery)
        except Undeliverable as exc:
            return self._quarantine(delivery, exc.reason)
        now = self.clock.now()
        next_attempt_at: datetime | None = None
        if error is not None:
            delay = self.policy.delay_after(delivery.attempts, self._rng)
            next_attempt_at = None if delay is None else now + delay
        try:
            settled = self.webhooks.record_attempt(
                delivery_id=delivery.id,
                worker=self.worker,
                now=now,
                status_code=status_code,
                error=error,
                next_attempt_at=next_attempt_at,
                disable_after=self.policy.disable_after,
            )
        except LeaseLost as exc:
            # Another dispatcher took it over after our lease ran out, or the endpoint was
            # disabled meanwhile; its record wins.
            _log.warning("webhook delivery %s: %s", delivery.id, exc)
            return Attempt(str(delivery.id), delivery.webhook_id, None, status_code, error)
        return Attempt(str(delivery.id), delivery.webhook_id, settled.status, status_code, error)

    def _quarantine(self, delivery: ClaimedDelivery, reason: str) -> Attempt:
        """Fails the delivery and disables its endpoint, both with ``reason``, and logs it."""
        _log.warning(
            "webhook endpoint %s of user %s disabled: %s", delivery.endpoint_id, delivery.user_id,
            reason,
        )  # fmt: skip
        try:
            settled = self.webhooks.quarantine(
                delivery_id=delivery.id, worker=self.worker, now=self.clock.now(), reason=reason
            )
        except LeaseLost as exc:
            _log.warning("webhook delivery %s: %s", delivery.id, exc)
            return Attempt(str(delivery.id), delivery.webhook_id, None, None, reason)
        return Attempt(str(delivery.id), delivery.webhook_id, settled.status, None, reason)

    def _post(self, delivery: ClaimedDelivery) -> tuple[int | None, str | None]:
        """POSTs one attempt; returns the status code and, unless it was a 2xx, an error.
        Undeliverable when the endpoint's secret or URL cannot be used at all."""
        body = payload_body(delivery, self.blobs, self.clock.now())
        timestamp = int(self.clock.now().timestamp())
        try:
            headers = webhook_headers(
                secrets=delivery.signing_secrets,
                msg_id=delivery.webhook_id,
                timestamp=timestamp,
                body=body,
            )
        except InvalidSecret:
            raise Undeliverable(BAD_SECRET) from None
        # The timeout bounds each read; the watchdog the whole attempt, so an endpoint that
        # drips its answer a byte at a time still ends within the timeout and the lease.
        with Watchdog(time.monotonic() + self.timeout) as watchdog:
            try:
                # Streamed and never read: only the status matters, and the body may be huge.
                with self.client.stream(
                    "POST",
                    delivery.url,
                    content=body,
                    headers=headers,
                    timeout=self.timeout,
                    follow_redirects=False,
                    extensions={"trace": watchdog.trace},
                ) as response:
                    code = response.status_code
            except httpx.TimeoutException:
                return None, f"timed out after {self.timeout:g} s"
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise Undeliverable(f"the endpoint's URL cannot be used: {exc}"[:500]) from None
            except httpx.HTTPError as exc:
                if watchdog.expired:
                    return None, f"timed out after {self.timeout:g} s"
                return None, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= code < 300:
            return code, None
        if 300 <= code < 400:
            return code, f"HTTP {code}: redirects are not followed"
        return code, f"HTTP {code}"
