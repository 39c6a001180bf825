"""The whole flow through HTTP against `reelforge serve`: token, project, job, events, outputs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
import yaml
from standardwebhooks import Webhook

from pipeline.media.probe import probe
from pipeline.store.users import local_user_id

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(predicate, deadline: float, what: str):  # type: ignore[no-untyped-def]
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_serve_runs_a_render_job_end_to_end(tmp_path: Path, isolated_home: Path) -> None:
    env = {**os.environ}  # REELFORGE_HOME: the isolated home, outside pytest's root
    env.pop("DATABASE_URL", None)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as http:

            def healthy() -> bool:
                try:
                    return http.get("/health").status_code == 200
                except httpx.TransportError:
                    return False

            _wait(healthy, time.monotonic() + 60, "the API")
            token = subprocess.run(
                [sys.executable, "-m", "pipeline", "token", "--user", "e2e@example.com"],
                env=env, capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
            auth = {"Authorization": f"Bearer {token}"}
            assert http.get("/v1/credits", headers=auth).json()["credits"] == 1000
            receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
            threading.Thread(target=receiver.serve_forever, daemon=True).start()
            hook = http.post(
                "/v1/webhooks/endpoints",
                json={
                    "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                    "events": ["job.delivered"],
                },
                headers=auth,
            )
            assert hook.status_code == 201, hook.text
            secret = hook.json()["secret"]
            uploads = (
                isolated_home / "media" / str(local_user_id("e2e@example.com")) / "uploads"
            )
            uploads.mkdir(parents=True)
            (uploads / "coffee.png").write_bytes(
                (ROOT / "examples" / "photos" / "coffee.png").read_bytes()
            )
            brief = yaml.safe_load((ROOT / "examples" / "espresso" / "brief.yaml").read_text())
            brief["product"]["photos"] = ["coffee.png"]
            brief["formats"], brief["duration"] = ["9x16", "1x1"], 8
            project = http.post("/v1/projects", json=brief, headers=auth)
            assert project.status_code == 201, project.text
            assert len(project.json()["script_options"]) == 3
            job_url = f"/v1/projects/{project.json()['id']}/jobs"
            created = http.post(
                job_url, json={"preview": True}, headers={**auth, "Idempotency-Key": "e2e-1"}
            )
            assert created.status_code == 201, created.text
            replay = http.post(
                job_url, json={"preview": True}, headers={**auth, "Idempotency-Key": "e2e-1"}
            )
            assert replay.json()["id"] == created.json()["id"]
            job_id = created.json()["id"]

            def finished() -> dict[str, object] | None:
                job: dict[str, object] = http.get(f"/v1/jobs/{job_id}", headers=auth).json()
                return job if job["state"] in ("delivered", "failed", "canceled") else None

            job = _wait(finished, time.monotonic() + 120, "the job")
            assert job["state"] == "delivered", job
            outputs = job["outputs"]
            assert isinstance(outputs, list) and {o["format"] for o in outputs} == {"9x16", "1x1"}
            cost = job["cost"]
            assert isinstance(cost, dict) and cost["status"] == "settled"
            assert http.get("/v1/credits", headers=auth).json()["credits"] == 1000 - cost["charged"]
            for output in outputs:
                video = tmp_path / f"{output['format']}.mp4"
                video.write_bytes(httpx.get(output["url"], timeout=60).content)
                p = probe(video)
                assert (p.width, p.height) == (output["width"], output["height"])
                assert abs(p.duration - 8.0) <= 0.1 and p.audio_codec == "aac"
            _wait(lambda: _Receiver.received, time.monotonic() + 30, "the job.delivered webhook")
            headers, body = _Receiver.received[0]
            event = Webhook(secret).verify(body, headers)  # raises unless the signature is ours
            assert event["type"] == "job.delivered" and event["data"]["job_id"] == job_id
            receiver.shutdown()
            receiver.server_close()
            events = http.get(f"/v1/jobs/{job_id}/events", headers=auth).text
            states = [
                json.loads(line[6:])["state"]
                for line in events.splitlines()
                if line.startswith("data: ")
            ]
            assert states[0] == "queued" and states[-1] == "delivered"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            code = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
        log = server.stdout.read() if server.stdout else ""
        server.stdout and server.stdout.close()
    assert code == 0, log
