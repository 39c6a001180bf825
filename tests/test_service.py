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
from tests.processes import children, command, running

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


def _start(workers: int) -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    """``reelforge serve`` on a free port, its home the test's isolated home (outside pytest's
    root): the process, its base URL and its environment."""
    env = {**os.environ}
    env.pop("DATABASE_URL", None)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return server, f"http://127.0.0.1:{port}", env


def _stop(server: subprocess.Popen[str]) -> tuple[int, str]:
    """Ctrl-C, then its exit code and everything it printed."""
    server.send_signal(signal.SIGINT)
    try:
        code = server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        raise
    log = server.stdout.read() if server.stdout else ""
    server.stdout and server.stdout.close()
    return code, log


def test_serve_runs_a_render_job_end_to_end(tmp_path: Path, isolated_home: Path) -> None:
    server, base, env = _start(1)
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
        code, log = _stop(server)
    assert code == 0, log


def _workers(serve_pid: int) -> list[int]:
    return [p for p in children(serve_pid) if "pipeline.worker" in command(p)]


def test_serve_replaces_a_killed_worker_and_is_unready_until_it_is_back(
    isolated_home: Path,
) -> None:
    server, base, _ = _start(2)
    try:
        with httpx.Client(base_url=base, timeout=10) as http:

            def ready() -> int:
                try:
                    return http.get("/ready").status_code
                except httpx.TransportError:
                    return 0

            _wait(lambda: ready() == 200, time.monotonic() + 90, "both workers")
            first = _workers(server.pid)
            assert len(first) == 2
            os.kill(first[0], signal.SIGKILL)
            unready = _wait(
                lambda: (r := http.get("/ready")).status_code == 503 and r,
                time.monotonic() + 10, "/ready to answer 503",
            )  # fmt: skip
            assert unready.headers["content-type"] == "application/problem+json"
            assert unready.json()["detail"] == "1 of 2 render workers are running"
            assert http.get("/health").status_code == 200
            _wait(lambda: ready() == 200, time.monotonic() + 60, "the replacement")
            second = _workers(server.pid)
            assert len(second) == 2 and first[1] in second and first[0] not in second
            [new] = set(second) - set(first)
    finally:
        code, log = _stop(server)
    assert code == 0, log
    assert f"(pid {first[0]}) was killed by SIGKILL after" in log, log
    assert "a new one starts in 1 s (1 in a row)" in log, log
    assert f"started (pid {new})" in log, log
    assert not any(running(p) for p in second)  # stopped with serve
