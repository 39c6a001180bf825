"""How webhook deliveries reach tenants' endpoints: the URLs come from tenants, so only public
HTTPS addresses, except in local development, where a receiver on this machine is the point.
The same rule checks an endpoint's URL when it is added (:func:`check_receiver`)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from pipeline.egress import (
    Allow,
    IPAddress,
    PublicOnlyTransport,
    Resolver,
    check_public,
    resolve_host,
    resolve_within,
)

__all__ = ["TIMEOUT_SECONDS", "check_receiver", "delivery_transport"]

TIMEOUT_SECONDS = 15.0  # one attempt, from resolving the host to the response's status line


def _loopback(address: IPAddress, port: int) -> bool:
    return address.is_loopback


def _bounded(resolve: Resolver, seconds: float) -> Resolver:
    """``resolve`` giving up after ``seconds``: the system resolver has no timeout of its own,
    and a tenant's name server could otherwise hold an attempt past its lease."""

    def resolve_bounded(host: str) -> list[str]:
        return resolve_within(resolve, time.monotonic() + seconds)(host)

    return resolve_bounded


def _rule(local_receivers: bool) -> tuple[Sequence[str], Allow | None]:
    """The schemes and the exception to "public addresses only" deliveries go by."""
    if local_receivers:
        return ("http", "https"), _loopback
    return ("https",), None


def delivery_transport(
    *, local_receivers: bool, resolve: Resolver = resolve_host
) -> httpx.BaseTransport:
    """Public HTTPS only; with ``local_receivers`` (REELFORGE_WEBHOOKS_ALLOW_HTTP_LOCALHOST),
    loopback addresses over http too, while every other private address stays refused. Names
    resolve within the attempt's timeout."""
    schemes, allow = _rule(local_receivers)
    bounded = _bounded(resolve, TIMEOUT_SECONDS)
    return PublicOnlyTransport(resolve=bounded, schemes=schemes, allow=allow)


class _Unresolved(Exception):
    """The host has no DNS answer now (not one of the errors ``check_public`` turns into a
    refusal)."""


def check_receiver(url: str, *, local_receivers: bool, resolve: Resolver = resolve_host) -> None:
    """Raises BlockedURL when a delivery to ``url`` would be refused: a scheme deliveries do not
    use, or a host that is or resolves to a non-public address. A name that does not resolve
    yet passes (a receiver set up before its DNS record); every delivery checks again."""

    def answers(host: str) -> list[str]:
        try:
            return resolve(host)
        except (OSError, UnicodeError) as exc:
            raise _Unresolved(host) from exc

    schemes, allow = _rule(local_receivers)
    try:
        check_public(url, answers, schemes=schemes, allow=allow)
    except _Unresolved:
        return
