"""What the user chose is what renders: a project's script options come from an LLM-shaped writer
that answers differently every time it is asked, the user chooses option 2, and the worker
renders exactly option 2's lines (the writer is never asked again)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.api.app import create_app
from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.manifest import Manifest
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.chat import ChatScriptWriter
from pipeline.render import Ports, RenderRequest
from pipeline.script import Script
from pipeline.settings import Settings
from pipeline.store import Repositories, Store
from pipeline.store.credits import Credits
from pipeline.voice import FakeVoice
from pipeline.wiring import Runtime, blob_store
from pipeline.worker import JobContext, run_job
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.integration

Auth = Callable[[uuid.UUID], dict[str, str]]


# Spelled out: the writer counts "take1" as two spoken words.
_WORD = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


class ChangingModel:
    """An OpenAI-compatible chat endpoint (the shape OpenRouter documents) that fills the scene
    plan it is sent with new words on every request: asked twice, option 2 differs."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        messages = json.loads(request.content)["messages"]
        prompt = next(m["content"] for m in messages if "Scene plan" in m["content"])
        plan = json.loads(prompt.rsplit("Scene plan, one entry per option:\n", 1)[1])
        content = json.dumps({"scripts": [self.fill(o, self.requests) for o in plan]})
        return httpx.Response(200, json={
            "id": f"gen-{self.requests}", "object": "chat.completion", "created": 1764000000,
            "model": "google/gemini-2.5-flash",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1200, "completion_tokens": 800, "total_tokens": 2000},
        })  # fmt: skip

    @staticmethod
    def fill(option: dict[str, Any], take: int) -> dict[str, Any]:
        n = option["option"]
        scenes = [
            {
                "index": s["index"], "slot": s["slot"], "kind": s["kind"], "photo": s["photo"],
                "duration": s["duration"], "visual": "The cup on a wooden table.",
                "on_screen_text": f"Take {take} cut {n}.{s['index']}"[: s["max_chars"]],
                "voiceover": " ".join(f"take {_WORD[take]} option {_WORD[n]} scene {_WORD[s['index']]}".split()[: s["max_words"]]),
            }
            for s in option["scenes"]
        ]  # fmt: skip
        return {
            "option": n, "template": option["template"], "locale": option["locale"],
            "angle": option["angle"], "hook": scenes[0]["on_screen_text"],
            "cta": scenes[-1]["on_screen_text"], "scenes": scenes,
        }  # fmt: skip


def test_the_rendered_script_is_the_option_the_user_chose(
    store: Store, settings: Settings, user_a: uuid.UUID, auth: Auth,
    upload_photo: Callable[[uuid.UUID], str], tmp_path: Path,
) -> None:  # fmt: skip
    model = ChangingModel()

    def ports(request: RenderRequest, runtime: Runtime) -> Ports:
        """The composition root's shape: an LLM writer over the network (here, a mock)."""
        client = httpx.AsyncClient(transport=httpx.MockTransport(model))
        writer = ChatScriptWriter(
            "openrouter", "sk-test", "google/gemini-2.5-flash", runtime.provider, client,
            breaker=CircuitBreaker("openrouter-test"),
        )  # fmt: skip
        return Ports(writer=writer, voice=FakeVoice(), meter=runtime.provider.meter)

    api = ApiClient(create_app(settings=settings, store=store, ports=ports))
    Credits(store).adjust(user_id=user_a, amount=10_000, reason="grant", idempotency_key="g")
    brief: dict[str, Any] = json.loads(json.dumps(BRIEF_EXAMPLE)) | {"formats": ["9x16"]}
    brief["product"]["photos"] = [upload_photo(user_a)]
    project = api.post("/v1/projects", json=brief, headers=auth(user_a)).json()
    assert model.requests == 1
    shown = [Script.model_validate(s) for s in project["script_options"]]
    chosen = shown[1]
    assert chosen != shown[0]
    api.patch(f"/v1/projects/{project['id']}", json={"chosen_script": 2}, headers=auth(user_a))
    job = api.post(
        f"/v1/projects/{project['id']}/jobs", json={"preview": True},
        headers=auth(user_a) | {"Idempotency-Key": str(uuid.uuid4())},
    ).json()  # fmt: skip

    repos = Repositories.postgres(store)
    claimed = repos.jobs.claim(worker="w1")
    assert claimed is not None and str(claimed.id) == job["id"]
    context = JobContext(
        repos=repos, settings=settings, blobs=blob_store(settings), worker="w1", ports=ports
    )
    assert run_job(context, claimed).state == "delivered"

    manifest = Manifest.model_validate_json(
        (settings.media_root / str(user_a) / job["id"] / "manifest.json").read_text()
    )
    assert model.requests == 1, "the worker asked the writer again"
    assert manifest.script == chosen and manifest.chosen_option == 2
    spoken = [line.text for line in manifest.voice]
    assert spoken == [s.voiceover for s in chosen.scenes if s.voiceover.strip()]
    assert [s.on_screen_text for s in manifest.script.scenes] == [
        s.on_screen_text for s in chosen.scenes
    ]
    # Asked again, the model gives another option 2: two separate paths would differ.
    assert "take one" in chosen.scenes[0].voiceover
