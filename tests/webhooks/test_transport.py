"""Webhook deliveries reach public HTTPS endpoints only; a development setting lets receivers
on this machine in, and nothing else private."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from pipeline.egress import BlockedURL
from pipeline.webhooks.transport import delivery_transport
from tests.live import serving

receiver = FastAPI()


@receiver.post("/hook")
def hook() -> dict[str, bool]:
    return {"ok": True}


def test_local_receivers_reach_this_machine_only() -> None:
    with serving(receiver) as url, httpx.Client(transport=delivery_transport(local_receivers=True)) as c:
        assert c.post(f"{url}/hook").json() == {"ok": True}
        for private in ("http://10.0.0.7/hook", "http://169.254.169.254/latest", "http://[fc00::1]/"):
            with pytest.raises(BlockedURL):
                c.post(private)


def test_by_default_this_machine_is_refused_too() -> None:
    with serving(receiver) as url, httpx.Client(transport=delivery_transport(local_receivers=False)) as c:
        with pytest.raises(BlockedURL):
            c.post(f"{url}/hook")
        with pytest.raises(BlockedURL):
            c.post(url.replace("http://", "https://") + "/hook")
