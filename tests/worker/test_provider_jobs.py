"""Jobs with a paid clip provider: spend charged through the hold, the cache across jobs, failures
that release what was not spent, a provider down failing fast with a clear error."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline.manifest import Manifest
from pipeline.providers.errors import ProviderRejected, ProviderUnavailable
from pipeline.providers.fake import FakeClipSource
from pipeline.providers.scenes import ProviderClips
from pipeline.render import Ports, RenderRequest
from pipeline.settings import ProviderSettings, Settings
from pipeline.store import JobState, Store
from pipeline.store.jobs import Jobs
from pipeline.visuals import ClipContext, ClipGenerator, ClipRequest, offline_clips
from pipeline.voice import FakeVoice
from pipeline.wiring import PortsFactory, Runtime
from pipeline.worker import run_job
from tests.worker.conftest import MakeContext, hold_of
from tests.worker.helpers import Admin, balance, holds, ledger

pytestmark = pytest.mark.integration

PHOTO_SCENES = 4  # product_showcase's photo slots
CLIP_CREDITS = 35  # 5 s at the bundled kling price of 7 credits a second


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Kling configured: the estimate (and so the hold) prices the clip stage at its rate."""
    providers = ProviderSettings.from_env({
        "REELFORGE_CLIP_PROVIDER": "kling", "KLING_ACCESS_KEY": "ak", "KLING_SECRET_KEY": "sk",
        "REELFORGE_PROVIDER_CACHE": str(tmp_path / "provider-cache"),
    })  # fmt: skip
    return settings.model_copy(update={"providers": providers})


def _use(source: FakeClipSource, *, fallback: bool = False) -> PortsFactory:
    """The job's ports with ``source`` for the clips, sharing the job's runtime."""

    def build(request: RenderRequest, runtime: Runtime) -> Ports:
        provider = runtime.provider

        def factory(ctx: ClipContext) -> ClipGenerator:
            return ProviderClips(source=source, ctx=ctx, runtime=provider,
                                 offline=offline_clips(ctx), fallback=fallback)  # fmt: skip

        return Ports(voice=FakeVoice(), meter=provider.meter, clip_factory=factory)

    return build


def _run(
    store: Store, context: MakeContext, ports: PortsFactory, user: uuid.UUID,
    payload: dict[str, Any],
) -> Any:  # fmt: skip
    job = Jobs(store).enqueue(user_id=user, kind="render", payload=payload)
    claimed = Jobs(store).claim(worker="w1", lease_seconds=30)
    assert claimed is not None and claimed.id == job.id
    return run_job(context("w1", lease_seconds=30, ports=ports), claimed)


def test_provider_spend_is_charged_and_a_second_job_reuses_every_clip(
    store: Store, admin: Admin, funded: uuid.UUID, media_root: Path, payload: dict[str, Any],
    context: MakeContext, settings: Settings,
) -> None:  # fmt: skip
    source = FakeClipSource()
    ports = _use(source)
    hold = hold_of(payload, funded, settings)
    assert hold >= PHOTO_SCENES * 70  # 10 s per photo scene held at 7 credits a second

    first = _run(store, context, ports, funded, payload)
    assert first.state == JobState.DELIVERED, first.error
    assert source.calls == PHOTO_SCENES
    spent = PHOTO_SCENES * CLIP_CREDITS
    [(held, status, actual)] = holds(admin, first.id)
    assert (held, status) == (hold, "settled")
    assert first.checkpoints["qc"]["provider_credits"] == spent
    assert actual == first.checkpoints["qc"]["actual"] > spent  # the render's own seconds on top
    manifest = Manifest.model_validate_json(
        (media_root / str(funded) / str(first.id) / "manifest.json").read_text()
    )
    assert manifest.provider_credits == spent
    assert sorted(u.what for u in manifest.provider_calls) == [
        f"scene {i} 9x16" for i in range(PHOTO_SCENES)
    ]
    # the job's spend log went with its work folder
    assert not (media_root / str(funded) / f".{first.id}.work").exists()
    # every clip was claimed in the database before it was paid for, so workers on any machine
    # pay once (tests/modal_app/test_one_payment.py: across containers)
    claims = admin.execute("select owner, state, attempts from public.generation_claims").fetchall()
    assert len(claims) == PHOTO_SCENES
    assert all(o.startswith(f"job:{first.id}:") and s == "done" and n == 1 for o, s, n in claims)

    second = _run(store, context, ports, funded, payload)
    assert second.state == JobState.DELIVERED, second.error
    assert source.calls == PHOTO_SCENES  # zero new provider calls
    assert second.checkpoints["qc"]["provider_credits"] == 0
    [(_, _, actual2)] = holds(admin, second.id)
    assert actual2 == actual - spent
    assert sum(int(d) for d, _, _ in ledger(admin, funded)) == balance(admin, funded)


def test_a_refusal_fails_the_job_with_the_reason_and_charges_only_what_was_spent(
    store: Store, admin: Admin, funded: uuid.UUID, media_root: Path, payload: dict[str, Any],
    context: MakeContext, settings: Settings,
) -> None:  # fmt: skip
    def refuse_one(request: ClipRequest, attempt: int) -> Exception | None:
        if request.prompt and request.scene_index == max(PHOTO_SCENES - 1, 1):
            return ProviderRejected(
                "kling",
                "task failed: Failure to pass the risk control system",
                status=400,
                provider_message="Failure to pass the risk control system",
            )
        return None

    source = FakeClipSource(fail=refuse_one)
    ports = _use(source, fallback=True)  # a refusal is never papered over by the fallback
    done = _run(store, context, ports, funded, payload)
    assert done.state == JobState.FAILED  # final: retrying cannot help
    assert "kling" in (done.error or "") and "risk control" in (done.error or "")
    spent = source.calls * CLIP_CREDITS
    assert 0 < spent < PHOTO_SCENES * CLIP_CREDITS
    [(_, status, actual)] = holds(admin, done.id)
    assert status == "settled" and actual == spent  # the rest of the hold is released
    assert balance(admin, funded) == 1000 - spent
    assert not (media_root / str(funded) / str(done.id)).exists()


def test_a_provider_that_is_down_fails_the_job_fast_naming_scene_and_provider(
    store: Store, admin: Admin, funded: uuid.UUID, media_root: Path, payload: dict[str, Any],
    context: MakeContext, settings: Settings,
) -> None:  # fmt: skip
    down = ProviderUnavailable(
        "kling",
        "POST https://api-singapore.klingai.com/v1/videos/image2video not sent: circuit open after repeated failures, next try in 30s",
        retry_after=30,
    )
    source = FakeClipSource(fail=lambda request, attempt: down)
    ports = _use(source, fallback=False)
    started = time.monotonic()
    done = _run(store, context, ports, funded, payload)
    assert time.monotonic() - started < 20
    assert done.state in (JobState.QUEUED, JobState.FAILED)  # retried later while attempts remain
    assert "scene" in (done.error or "") and "kling" in (done.error or "")
    assert "circuit open" in (done.error or "")
    assert source.calls == 0
    assert balance(admin, funded) <= 1000


def test_with_fallback_a_provider_down_still_delivers_offline_scenes(
    store: Store, admin: Admin, funded: uuid.UUID, media_root: Path, payload: dict[str, Any],
    context: MakeContext, settings: Settings,
) -> None:  # fmt: skip
    down = ProviderUnavailable("kling", "circuit open after repeated failures")
    source = FakeClipSource(fail=lambda request, attempt: down)
    ports = _use(source, fallback=True)
    done = _run(store, context, ports, funded, payload)
    assert done.state == JobState.DELIVERED, done.error
    manifest = Manifest.model_validate_json(
        (media_root / str(funded) / str(done.id) / "manifest.json").read_text()
    )
    assert len(manifest.fallbacks) == PHOTO_SCENES
    assert all("circuit open" in f.reason for f in manifest.fallbacks)
    assert manifest.provider_credits == 0
