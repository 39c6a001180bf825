"""A job.delivered webhook carries its outputs with links signed when it is sent (a retry gets
fresh ones), never the blob keys, and the body verifies with the official standardwebhooks
library."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from pipeline.storage import MemoryStore
from pipeline.store import Repositories, Store
from pipeline.webhooks import Dispatcher, FakeClock, RetryPolicy, generate_secret
from tests.store.test_repository_contract import _output

pytestmark = pytest.mark.integration


def test_delivered_outputs_carry_fresh_signed_links_and_verify(
    store: Store, user_a: uuid.UUID
) -> None:
    repos = Repositories.postgres(store)
    secret = generate_secret()
    repos.webhooks.create_endpoint(
        user_id=user_a, url="https://hooks.example.com/rf", secret=secret
    )
    job = repos.jobs.enqueue(user_id=user_a, kind="render")
    assert repos.jobs.claim(worker="w1") is not None
    prefix = f"{user_a}/{job.id}"
    repos.jobs.record_outputs(
        user_id=user_a, job_id=job.id, project_id=None, outputs=[_output("9x16", "rf-abab916")],
        out_dir=Path(prefix), preview=False,
    )  # fmt: skip
    repos.jobs.complete(job_id=job.id, worker="w1")
    blobs = MemoryStore()
    blobs.put_bytes(f"{prefix}/ad_9x16.mp4", b"mp4", content_type="video/mp4")
    sent: list[httpx.Request] = []
    answers = iter([503, 204])

    def endpoint(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(next(answers))

    clock = FakeClock()
    with httpx.Client(transport=httpx.MockTransport(endpoint)) as client:
        dispatcher = Dispatcher(
            repos.webhooks, client, clock, blobs=blobs,
            policy=RetryPolicy(schedule=(0, 60), min_jitter=0.0, max_jitter=0.0),
        )  # fmt: skip
        dispatcher.run_once()
        # The retry, two minutes later (inside the library's 5-minute timestamp window).
        clock.advance(timedelta(minutes=2))
        dispatcher.run_once()

    bodies: list[dict[str, Any]] = []
    for request in sent:
        verified = Webhook(secret).verify(request.content, dict(request.headers))
        assert verified == json.loads(request.content)
        bodies.append(verified)
    first, retry = (b["data"] for b in bodies)
    assert first["job_url"] == f"/v1/jobs/{job.id}"
    [output] = first["outputs"]
    assert "key" not in output
    assert output["url"] == f"memory://{prefix}/ad_9x16.mp4?expires_in={24 * 3600}"
    assert (output["format"], output["width"], output["height"]) == ("9x16", 1080, 1920)
    # A retry two minutes later: links that expire two minutes later.
    delay = (
        _time(retry["outputs"][0]["url_expires_at"]) - _time(output["url_expires_at"])
    ).total_seconds()
    assert delay >= 120
    assert len({r.headers["webhook-id"] for r in sent}) == 1


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)
