"""Claiming a paid generation before paying for it: hold the claim and pay, or wait for the
holder's asset.

:func:`claimed` looks in the cache, then tries to take the key's claim
(:class:`pipeline.claims.GenerationClaims`); while another claimant holds it, it polls both with
backoff until the asset appears (then the caller reads it from the cache and pays nothing), the
claim comes free (the holder failed, or died and its lease ran out: then this caller takes it
over) or ``wait_seconds`` pass (:class:`ClaimTimeout`). The holder's lease is renewed in the
background while it generates; the claim is marked done when the caller's block ends normally
(the asset is in the shared cache by then) and failed when it raises, so another may try.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from pipeline.claims import ClaimsUnavailable, GenerationClaims
from pipeline.providers.errors import ProviderUnavailable
from pipeline.store.errors import StoreUnavailable

__all__ = ["ClaimPolicy", "ClaimTimeout", "claimed"]

_log = logging.getLogger(__name__)
# Failures of the claims themselves that pass: polled again until the wait runs out.
_TRANSIENT = (ClaimsUnavailable, StoreUnavailable)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ClaimPolicy:
    """How a claim is held and waited for.

    ``lease_seconds``: how long a claim outlives its holder's last renewal (renewed every third
    of it), so a dead holder's claim is taken over within it. ``wait_seconds``: the longest a
    claimant waits for another's generation, longer than any provider's own deadline (HeyGen's
    40-minute render is the longest). Polls start at ``first_poll`` and back off to ``max_poll``.
    """

    lease_seconds: int = 60
    wait_seconds: float = 50 * 60.0
    first_poll: float = 0.25
    max_poll: float = 5.0


class ClaimTimeout(ProviderUnavailable):
    """Another job's generation of the same asset did not finish in time."""


async def _take(
    claims: GenerationClaims,
    key: str,
    *,
    owner: str,
    provider: str,
    found: Callable[[], bool],
    policy: ClaimPolicy,
    sleep: Sleep,
    clock: Callable[[], float],
) -> bool:
    """True once ``owner`` holds the claim, False once the asset is ``found``."""
    deadline = clock() + policy.wait_seconds
    delay, problem = policy.first_poll, None
    while True:
        if await asyncio.to_thread(found):
            return False
        try:
            if await asyncio.to_thread(
                claims.acquire, key, owner=owner, lease_seconds=policy.lease_seconds
            ):
                return True
            problem = None
        except _TRANSIENT as exc:
            problem = exc
            _log.warning("claim %s…: %s; trying again", key[:12], exc)
        if clock() >= deadline:
            why = f"the generation claims could not be reached ({problem})" if problem else (
                "another job was still generating it"
            )  # fmt: skip
            raise ClaimTimeout(
                provider, f"waited {policy.wait_seconds:.0f}s for asset {key[:12]}…: {why}"
            )
        await sleep(delay)
        delay = min(delay * 1.5, policy.max_poll)


async def _renew(claims: GenerationClaims, key: str, owner: str, policy: ClaimPolicy) -> None:
    """Keeps the lease while the holder generates; a lapse of the claims is tried again."""
    while True:
        await asyncio.sleep(policy.lease_seconds / 3)
        try:
            held = await asyncio.to_thread(
                claims.renew, key, owner=owner, lease_seconds=policy.lease_seconds
            )
        except Exception as exc:  # the lease may still be saved by the next renewal
            _log.warning("claim %s…: renewing failed: %s", key[:12], exc)
            continue
        if not held:
            _log.warning("claim %s…: lost to another claimant after the lease ran out", key[:12])
            return


async def _settle(call: Callable[[], bool], key: str) -> None:
    """Finishes or fails the claim; if that cannot be done, its lease runs out instead."""
    try:
        await asyncio.to_thread(call)
    except Exception as exc:
        _log.warning("claim %s…: could not be settled (%s); its lease will run out", key[:12], exc)


@contextlib.asynccontextmanager
async def claimed(
    claims: GenerationClaims,
    key: str,
    *,
    owner: str,
    provider: str,
    found: Callable[[], bool],
    policy: ClaimPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[bool]:
    """Yields True when ``owner`` holds ``key``'s claim (generate, and put the asset in the
    cache before the block ends), False when ``found()`` says the asset is in the cache.

    ``found`` runs in a thread (it may read a shared store); ``provider`` names the provider in
    a :class:`ClaimTimeout`.
    """
    policy = policy or ClaimPolicy()
    taken = await _take(
        claims, key, owner=owner, provider=provider, found=found, policy=policy, sleep=sleep,
        clock=clock,
    )  # fmt: skip
    if not taken:
        yield False
        return
    renewing = asyncio.create_task(_renew(claims, key, owner, policy))
    try:
        yield True
    except BaseException as exc:
        renewing.cancel()
        error = f"{type(exc).__name__}: {exc}"
        await _settle(lambda: claims.fail(key, owner=owner, error=error), key)
        raise
    renewing.cancel()
    await _settle(lambda: claims.finish(key, owner=owner), key)
