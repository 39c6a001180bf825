"""Never pay twice, across containers: two jobs for the same SKU, each rendered by its own
``render_media_call`` container (no database, no common disk), ask OpenRouter for the same
scripts at once; the first claims the generation through the API with its storage grant and
pays, the other waits for its asset in the shared cache. OpenRouter is a real HTTP server on this
machine that counts its calls, reached by the containers in place of openrouter.ai."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.responses import Response

from modal_app.media import PROGRESS
from pipeline.brief import parse_brief
from pipeline.render import Ports, write_scripts
from pipeline.usage import Usage
from pipeline.wiring.runtime import USAGE_LOG
from tests.live import serving
from tests.modal_app.test_isolation import PHOTOS, _brief, _task
from tests.modal_harness.cloud import wait_for
from tests.modal_harness.deployment import Deployment, deployed
from tests.providers.test_chat import completion

pytestmark = pytest.mark.integration


class OpenRouter:
    """OpenRouter's chat completions endpoint, counting its calls; every answer waits for
    ``release`` (so that both jobs are in the race before any asset exists)."""

    def __init__(self, scripts: list[dict[str, Any]]) -> None:
        self.calls = 0
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.app = FastAPI()
        reply = completion(json.dumps({"scripts": scripts}))

        @self.app.post("/api/v1/chat/completions")
        async def create() -> Response:
            with self._lock:
                self.calls += 1
            for _ in range(1200):  # at most 2 minutes
                if self.release.is_set():
                    break
                await asyncio.sleep(0.1)
            return Response(reply.content, media_type="application/json")


@pytest.fixture
def scripts(tmp_path: Path) -> list[dict[str, Any]]:
    """The scripts a writer gives the brief (the offline writer's pass every check)."""
    (tmp_path / "local").mkdir()
    for name in ("coffee.png", "chelsea.png"):
        (tmp_path / "local" / name).write_bytes((PHOTOS / name).read_bytes())
    brief = parse_brief(_brief("local", logo=False), base_dir=tmp_path)
    return [s.model_dump(mode="json") for s in write_scripts(brief, ports=Ports()).scripts]


@pytest.fixture
def openrouter(scripts: list[dict[str, Any]]) -> Iterator[tuple[OpenRouter, str]]:
    server = OpenRouter(scripts)
    with serving(server.app) as url:  # type: ignore[arg-type]
        yield server, url


def _stage_started(deployment: Deployment, prefix: str, stage: str, tmp: Path) -> bool:
    target = tmp / f"{uuid.uuid4().hex}.json"
    try:
        deployment.blobs.get(f"{prefix}/{PROGRESS}", target)
    except Exception:
        return False
    return ["started", stage] in json.loads(target.read_text(encoding="utf-8"))


def _usages(deployment: Deployment, prefix: str, tmp: Path) -> list[Usage]:
    path = deployment.blobs.get(f"{prefix}/{USAGE_LOG}", tmp / f"{uuid.uuid4().hex}.jsonl")
    return [Usage.model_validate_json(line) for line in path.read_text().splitlines() if line]


def test_two_jobs_for_one_sku_in_two_containers_make_one_provider_call(
    tmp_path: Path, db_uri: str, openrouter: tuple[OpenRouter, str]
) -> None:
    server, url = openrouter
    keys = {"OPENROUTER_API_KEY": "sk-or-test-key"}
    with deployed(
        tmp_path / "deployment", db_uri, providers=keys, routes={"openrouter.ai": url}
    ) as deployment:
        user = str(uuid.uuid4())
        payload = {"brief": _brief("uploads", logo=False), "preview": True, "formats": ["9x16"]}
        tasks = [_task(deployment, user, payload) for _ in range(2)]
        running = [deployment.cloud.spawn("render_media_call", task) for task in tasks]
        # Both jobs are writing their scripts: one holds the claim and waits for OpenRouter,
        # the other waits on the claim (or, at worst, finds the asset afterwards).
        wait_for(
            lambda: all(_stage_started(deployment, t["prefix"], "script", tmp_path) for t in tasks),
            timeout=180, what="both jobs at their scripts",
        )  # fmt: skip
        time.sleep(2.0)  # a broken claim would have let the second call OpenRouter by now
        server.release.set()
        outcomes = [call.get(timeout=300) for call in running]
        usages = [_usages(deployment, t["prefix"], tmp_path) for t in tasks]

    assert server.calls == 1, f"OpenRouter was paid {server.calls} times for one SKU's scripts"
    chats = [[u for u in job if u.provider == "openrouter"] for job in usages]
    assert sorted(len([u for u in job if not u.cached]) for job in chats) == [0, 1]
    assert all(len(job) == 1 for job in chats), "each job used the scripts once"
    assert outcomes[0]["manifest"]["script"] == outcomes[1]["manifest"]["script"]
    with psycopg.connect(db_uri) as db:
        rows = db.execute("select state, attempts from generation_claims").fetchall()
    assert rows == [("done", 1)], "one claim, taken once, settled done"
