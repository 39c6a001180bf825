"""How webhook deliveries reach tenants' endpoints: the URLs come from tenants, so only public
HTTPS addresses, except in local development, where a receiver on this machine is the point.
The same rule checks an endpoint's URL when it is added (:func:`check_receiver`)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from pipeline.egress import (
    Allow,
    IPAddress,
    PublicOnlyTransport,
    Resolver,
    check_public,
    resolve_host,
)

__all__ = ["check_receiver", "delivery_transport"]


def _loopback(address: IPAddress, port: int) -> bool:
    return address.is_loopback


def _rule(local_receivers: bool) -> tuple[Sequence[str], Allow | None]:
    """The schemes and the exception to "public addresses only" deliveries go by."""
    if local_receivers:
        return ("http", "https"), _loopback
    return ("https",), None


def delivery_transport(*, local_receivers: bool) -> httpx.BaseTransport:
    """Public HTTPS only; with ``local_receivers`` (REELFORGE_WEBHOOKS_ALLOW_HTTP_LOCALHOST),
    loopback addresses over http too, while every other private address stays refused."""
    schemes, allow = _rule(local_receivers)
    return PublicOnlyTransport(schemes=schemes, allow=allow)


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
