"""How webhook deliveries reach tenants' endpoints: the URLs come from tenants, so only public
HTTPS addresses, except in local development, where a receiver on this machine is the point."""

from __future__ import annotations

import time

import httpx

from pipeline.egress import IPAddress, PublicOnlyTransport, Resolver, resolve_host, resolve_within

__all__ = ["TIMEOUT_SECONDS", "delivery_transport"]

TIMEOUT_SECONDS = 15.0  # one attempt, from resolving the host to the response's status line


def _loopback(address: IPAddress, port: int) -> bool:
    return address.is_loopback


def _bounded(resolve: Resolver, seconds: float) -> Resolver:
    """``resolve`` giving up after ``seconds``: the system resolver has no timeout of its own,
    and a tenant's name server could otherwise hold an attempt past its lease."""

    def resolve_bounded(host: str) -> list[str]:
        return resolve_within(resolve, time.monotonic() + seconds)(host)

    return resolve_bounded


def delivery_transport(
    *, local_receivers: bool, resolve: Resolver = resolve_host
) -> httpx.BaseTransport:
    """Public HTTPS only; with ``local_receivers`` (REELFORGE_WEBHOOKS_ALLOW_HTTP_LOCALHOST),
    loopback addresses over http too, while every other private address stays refused. Names
    resolve within the attempt's timeout."""
    bounded = _bounded(resolve, TIMEOUT_SECONDS)
    if local_receivers:
        return PublicOnlyTransport(resolve=bounded, schemes=("http", "https"), allow=_loopback)
    return PublicOnlyTransport(resolve=bounded)
