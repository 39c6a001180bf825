"""API benchmark on the embedded default, through real HTTP against `reelforge serve`.

1. Job creation: 32 concurrent clients POST render jobs (each with its own Idempotency-Key) to a
   server with no workers; prints throughput and p50/p95 latency.
2. Throughput of rendering: 2 local workers render queued 15 s single-format (9x16) ads;
   prints jobs completed per minute.

    python bench/api_bench.py [--requests 640] [--jobs 6]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(home: Path, workers: int) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "REELFORGE_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    try:
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)


def _setup(base: str, home: Path, email: str, duration: float) -> tuple[dict[str, str], str]:
    env = {**os.environ, "REELFORGE_HOME": str(home)}
    token = subprocess.run(
        [sys.executable, "-m", "pipeline", "token", "--user", email],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    from pipeline.store.users import local_user_id

    uploads = home / "media" / str(local_user_id(email)) / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "coffee.png").write_bytes((ROOT / "examples" / "photos" / "coffee.png").read_bytes())
    brief = yaml.safe_load((ROOT / "examples" / "espresso" / "brief.yaml").read_text())
    brief["product"]["photos"] = ["coffee.png"]
    brief["formats"], brief["duration"] = ["9x16"], duration
    auth = {"Authorization": f"Bearer {token}"}
    project = httpx.post(f"{base}/v1/projects", json=brief, headers=auth, timeout=30)
    project.raise_for_status()
    return auth, project.json()["id"]


def bench_creation(home: Path, requests: int, clients: int = 32) -> None:
    with serving(home, workers=0) as base:
        auth, project = _setup(base, home, "bench@example.com", 15)
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        per_client = requests // clients

        def client() -> None:
            nonlocal errors
            with httpx.Client(base_url=base, headers=auth, timeout=30) as http:
                for _ in range(per_client):
                    start = time.perf_counter()
                    r = http.post(
                        f"/v1/projects/{project}/jobs",
                        json={},
                        headers={"Idempotency-Key": str(uuid.uuid4())},
                    )
                    elapsed = time.perf_counter() - start
                    with lock:
                        latencies.append(elapsed)
                        errors += r.status_code != 201

        threads = [threading.Thread(target=client) for _ in range(clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    print(f"job creation, {clients} clients, {len(latencies)} requests ({errors} errors):")
    print(
        f"  {len(latencies) / wall:7.1f} jobs/s   p50 {q[49] * 1000:6.1f} ms   p95 {q[94] * 1000:6.1f} ms"
    )


def bench_rendering(home: Path, jobs: int) -> None:
    with serving(home, workers=2) as base:
        auth, project = _setup(base, home, "render@example.com", 15)
        with httpx.Client(base_url=base, headers=auth, timeout=30) as http:
            start = time.perf_counter()
            ids = [
                http.post(
                    f"/v1/projects/{project}/jobs",
                    json={},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                ).json()["id"]
                for _ in range(jobs)
            ]
            pending = set(ids)
            while pending:
                for job in list(pending):
                    state = http.get(f"/v1/jobs/{job}").json()["state"]
                    if state in ("delivered", "failed", "canceled"):
                        if state != "delivered":
                            raise SystemExit(f"job {job} ended {state}")
                        pending.discard(job)
                time.sleep(0.5)
            wall = time.perf_counter() - start
    print(f"rendering, 2 workers, {jobs} jobs of a 15 s 9x16 ad (final quality):")
    print(f"  {jobs / wall * 60:7.1f} jobs/min   ({wall:.1f} s for {jobs})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=640)
    parser.add_argument("--jobs", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelforge-apibench-") as tmp:
        bench_creation(Path(tmp) / "a", args.requests)
    with tempfile.TemporaryDirectory(prefix="reelforge-apibench-") as tmp:
        bench_rendering(Path(tmp) / "b", args.jobs)


if __name__ == "__main__":
    main()
