"""How webhook deliveries reach tenants' endpoints: the URLs come from tenants, so only public
HTTPS addresses, except in local development, where a receiver on this machine is the point."""

from __future__ import annotations

import httpx

from pipeline.egress import IPAddress, PublicOnlyTransport

__all__ = ["delivery_transport"]


def _loopback(address: IPAddress, port: int) -> bool:
    return address.is_loopback


def delivery_transport(*, local_receivers: bool) -> httpx.BaseTransport:
    """Public HTTPS only; with ``local_receivers`` (REELFORGE_WEBHOOKS_ALLOW_HTTP_LOCALHOST),
    loopback addresses over http too, while every other private address stays refused."""
    if local_receivers:
        return PublicOnlyTransport(schemes=("http", "https"), allow=_loopback)
    return PublicOnlyTransport()
