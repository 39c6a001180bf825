"""Modal's fan-out, measured on the isolation harness (tests/modal_harness): every function call
in its own process with only its secrets, files through a Supabase-shaped Storage over HTTP.

1. Four formats vs one: ``render_media_call`` of the bundled 15 s espresso ad at full size, with
   the scene and compose fan-outs running in at most ``--containers`` processes at once. Prints
   the wall times, their ratio, and each compose_format container's own time (on Modal each of
   them has its own 2 CPUs, so the fan-out's wall time there is the longest of them plus the
   render's own stages; on this machine they share its cores).
2. From job creation to the first byte of the delivered ad, through the API: POST the job, one
   sweeper tick (on Modal the schedule adds up to a minute before it), render_job →
   render_media_call, publish, then the signed link's first byte.

    python bench/modal_fanout.py [--containers 2] [--runs 1]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modal_app.media import RenderTask  # noqa: E402
from pipeline.providers.cache import SHARED_PREFIX  # noqa: E402
from pipeline.storage.grant import Grant  # noqa: E402
from pipeline.store.embedded import start_embedded  # noqa: E402
from pipeline.store.migrations import migrate  # noqa: E402
from tests.modal_harness.deployment import JWT_ISSUER, Deployment, deployed  # noqa: E402

FORMATS = ["9x16", "4x5", "1x1", "16x9"]
PHOTOS = ROOT / "examples" / "photos"


def _brief(photos: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "examples/espresso/brief.yaml").read_text())
    data["product"]["photos"] = photos
    return data


def _task(d: Deployment, formats: list[str]) -> RenderTask:
    user, job = str(uuid.uuid4()), str(uuid.uuid4())
    d.blobs.put(f"{user}/uploads/coffee.png", PHOTOS / "coffee.png", content_type="image/png")
    prefix = f"work/{job}"
    grant = Grant(
        read=(f"{user}/uploads/", f"{prefix}/", SHARED_PREFIX), write=(f"{prefix}/", SHARED_PREFIX),
        expires=int(time.time()) + 3600,
    )  # fmt: skip
    payload = {"brief": _brief(["uploads/coffee.png"]), "formats": formats}
    return RenderTask(
        payload=payload, user=user, job=job, prefix=prefix, grant=d.grant(grant),
        api_url=d.api_url,
    )  # fmt: skip


def _container_seconds(root: Path, function: str, since: float) -> list[float]:
    """Each container of ``function`` started after ``since``: start to result, in seconds."""
    times = []
    for folder in (root / "containers").glob(f"{function}-*"):
        start, done = (folder / "inputs.pkl").stat().st_mtime, folder / "outputs.pkl"
        if start >= since and done.is_file():
            times.append(done.stat().st_mtime - start)
    return sorted(times)


def fan_out(d: Deployment, runs: int) -> None:
    walls: dict[int, list[float]] = {1: [], 4: []}
    for _ in range(runs):
        for formats in (FORMATS[:1], FORMATS):
            started = time.time()
            t0 = time.perf_counter()
            d.cloud.call("render_media_call", _task(d, formats))
            walls[len(formats)].append(time.perf_counter() - t0)
            composes = _container_seconds(d.cloud.root, "compose_format", started)
            print(f"  {len(formats)} format(s): {walls[len(formats)][-1]:6.1f} s wall; "
                  f"compose_format containers {', '.join(f'{s:.1f}' for s in composes)} s")  # fmt: skip
    one, four = statistics.median(walls[1]), statistics.median(walls[4])
    print(f"four formats / one format, wall: {four / one:.2f} ({four:.1f} s / {one:.1f} s)")


def _user(d: Deployment, db_uri: str) -> dict[str, str]:
    user = uuid.uuid4()
    with psycopg.connect(db_uri, autocommit=True) as conn:
        conn.execute("insert into auth.users (id, email) values (%s, %s)", (user, f"{user}@x.io"))
    grant = httpx.post(
        f"{d.api_url}/v1/admin/credits/grants", json={"user_id": str(user), "amount": 5000},
        headers={"Authorization": f"Bearer {d.admin_token}", "Idempotency-Key": str(user)},
    )  # fmt: skip
    grant.raise_for_status()
    now = int(time.time())
    claims = {"sub": str(user), "aud": "authenticated", "iss": JWT_ISSUER, "iat": now,
              "exp": now + 3600, "role": "authenticated"}  # fmt: skip
    return {"Authorization": f"Bearer {jwt.encode(claims, d.jwt_secret, 'HS256')}"}


def _project(client: httpx.Client) -> str:
    with (PHOTOS / "coffee.png").open("rb") as photo:
        upload = client.post("/v1/uploads", data={"kind": "photo"}, files={"file": photo})
    upload.raise_for_status()
    project = client.post("/v1/projects", json=_brief([upload.json()["ref"]]))
    project.raise_for_status()
    return str(project.json()["id"])


def first_byte(d: Deployment, db_uri: str) -> None:
    with httpx.Client(base_url=d.api_url, headers=_user(d, db_uri), timeout=60) as client:
        project = _project(client)
        t0 = time.perf_counter()
        job = client.post(
            f"/v1/projects/{project}/jobs", json={"formats": ["9x16"]},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        ).json()["id"]  # fmt: skip
        created = time.perf_counter()
        d.cloud.call("sweeper")
        ticked = time.perf_counter()
        while (state := client.get(f"/v1/jobs/{job}").json())["state"] not in (
            "delivered", "failed", "canceled"
        ):  # fmt: skip
            time.sleep(0.25)
        delivered = time.perf_counter()
        assert state["state"] == "delivered", state
        with httpx.stream("GET", state["outputs"][0]["url"], follow_redirects=True) as r:
            next(r.iter_raw())
        done = time.perf_counter()
    print(f"job creation to first byte of the delivered 15 s 9x16 ad: {done - t0:.1f} s "
          f"(create {created - t0:.2f} s, sweeper tick {ticked - created:.1f} s, render and "
          f"publish {delivered - ticked:.1f} s, first byte {done - delivered:.2f} s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=2, help="processes per map at once")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reelforge-bench-modal-"))
    server = start_embedded(root / "pg")
    try:
        db_uri = server.ensure_database("bench")
        migrate(conninfo=db_uri)
        with deployed(root / "deployment", db_uri, max_containers=args.containers) as d:
            print(f"harness: at most {args.containers} containers per map")
            fan_out(d, args.runs)
            first_byte(d, db_uri)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
