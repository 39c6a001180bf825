"""A front end's whole journey over HTTPS against the deployment as Modal runs it: every
function in its own process with only its secrets, the state in the Supabase-shaped database,
the files in a Supabase-shaped Storage.

upload a photo → create a project → choose option 2 → start a job → follow it by SSE →
``job.delivered`` verified with standardwebhooks → its signed link downloaded by another
process → credits settled once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml

from pipeline.media.probe import probe
from tests.modal_app.conftest import JWT_ISSUER, Deployment
from tests.modal_harness.cloud import wait_for
from tests.webhooks.receiver import Receiver, running_receiver

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
GRANT = 2000

DOWNLOAD = """
import sys, httpx
with httpx.Client(follow_redirects=True, timeout=60) as client:
    response = client.get(sys.argv[1])
response.raise_for_status()
open(sys.argv[2], "wb").write(response.content)
print(response.headers.get("content-type"))
"""


def _token(deployment: Deployment, user: uuid.UUID) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "sub": str(user), "aud": "authenticated", "iss": JWT_ISSUER, "role": "authenticated",
        "iat": now, "exp": now + 3600,
    }  # fmt: skip
    return {"Authorization": f"Bearer {jwt.encode(claims, deployment.jwt_secret, 'HS256')}"}


def _events(client: httpx.Client, job: str, into: list[dict[str, Any]]) -> None:
    """The job's SSE stream, read to its end (the job's terminal state)."""
    with client.stream("GET", f"/v1/jobs/{job}/events", timeout=300) as response:
        assert response.status_code == 200, response.read()
        block: dict[str, str] = {}
        for line in response.iter_lines():
            if not line:
                if "data" in block:
                    into.append({"event": block.get("event"), "data": json.loads(block["data"])})
                block = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                block[name] = value


def _brief(photo_ref: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (ROOT / "examples" / "espresso" / "brief.yaml").read_text(encoding="utf-8")
    )
    data["product"]["photos"] = [photo_ref]
    return data


def _start(client: httpx.Client, receiver: Receiver) -> str:
    """Webhook endpoint, upload, project, choice of option 2, job; returns the job id."""
    hook = client.post("/v1/webhooks/endpoints", json={"url": receiver.url, "events": ["job.delivered"]})
    assert hook.status_code == 201, hook.text
    receiver.secrets.append(hook.json()["secret"])
    with (ROOT / "examples" / "photos" / "coffee.png").open("rb") as photo:
        upload = client.post(
            "/v1/uploads", data={"kind": "photo"}, files={"file": ("coffee.png", photo, "image/png")}
        )
    assert upload.status_code == 201, upload.text
    project = client.post("/v1/projects", json=_brief(upload.json()["ref"]))
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    assert len(project.json()["script_options"]) == 3
    chosen = client.patch(f"/v1/projects/{project_id}", json={"chosen_script": 2})
    assert chosen.status_code == 200, chosen.text
    job = client.post(
        f"/v1/projects/{project_id}/jobs", json={"formats": ["9x16"], "preview": True},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert job.status_code == 201, job.text
    return str(job.json()["id"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


def test_front_end_journey_through_the_deployment(
    deployment: Deployment,
    make_user: Callable[[], uuid.UUID],
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    user, cloud = make_user(), deployment.cloud
    admin = httpx.post(  # timeouts: generous, CI machines are slow and shared
        f"{deployment.api_url}/v1/admin/credits/grants",
        json={"user_id": str(user), "amount": GRANT, "reason": "journey test"},
        headers={"Authorization": f"Bearer {deployment.admin_token}", "Idempotency-Key": "j1"},
        timeout=120,
    )  # fmt: skip
    assert admin.status_code == 201, admin.text
    with httpx.Client(
        base_url=deployment.api_url, headers=_token(deployment, user), timeout=120
    ) as client:
        job = _start(client, receiver)
        events: list[dict[str, Any]] = []
        follower = threading.Thread(target=_events, args=(client, job, events), daemon=True)
        follower.start()
        cloud.call("sweeper")  # the schedule's tick: spawns render_job for the queued job
        follower.join(timeout=300)
        assert not follower.is_alive(), "the event stream did not end"
        final = client.get(f"/v1/jobs/{job}").json()
        assert final["state"] == "delivered", cloud.logs("render_job")
        states = [e["data"]["state"] for e in events if e["data"]["kind"] == "state"]
        seen = [s for s in ("generating", "composing", "qc", "delivered") if s in states]
        assert seen == ["generating", "composing", "qc", "delivered"], states
        progress = [e["data"]["progress"] for e in events if e["data"]["progress"] is not None]
        assert progress == sorted(progress), "the render's progress, replayed as it ran"

        def delivered() -> bool:
            cloud.call("sweeper")  # the next tick delivers the webhook
            return bool(receiver.received)

        wait_for(delivered, timeout=120, what="the job.delivered webhook", every=0.5)
        [hook] = receiver.received
        assert hook.verified, "standardwebhooks verifies the signature"
        payload = json.loads(hook.body)
        assert payload["type"] == "job.delivered" and payload["data"]["job_id"] == job
        [output] = payload["data"]["outputs"]
        downloaded = tmp_path / "from-another-process.mp4"
        fetched = subprocess.run(
            [sys.executable, "-c", DOWNLOAD, output["url"], str(downloaded)],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        assert fetched.stdout.strip() == "video/mp4"
        assert probe(downloaded).duration == pytest.approx(15.0, abs=0.5)
        assert (probe(downloaded).width, probe(downloaded).height) == (360, 640)

        cost = final["cost"]
        assert cost["status"] == "settled" and 0 < cost["charged"] <= cost["held"]
        assert client.get("/v1/credits").json()["credits"] == GRANT - cost["charged"]
        ledger = client.get("/v1/credits/ledger").json()["items"]
        charges = [e for e in ledger if e["delta"] < 0]
        assert sum(e["delta"] for e in ledger) == GRANT - cost["charged"]
        assert len({e["hold_id"] for e in charges}) == 1, "one hold, settled once"
    _containers_ran(cloud.root)


def _containers_ran(root: Path) -> None:
    """The render ran where Modal would run it: its own containers, fanned out."""
    ran = [p.name.rsplit("-", 1)[0] for p in (root / "containers").iterdir()]
    for function in ("render_job", "render_media_call", "generate_scene", "compose_format"):
        assert function in ran, f"{function} never ran: {sorted(set(ran))}"
