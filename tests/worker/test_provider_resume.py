"""A render job with the real Kling adapter over httpx.MockTransport: the job that failed after
its provider tasks were submitted resumes them on its next attempt instead of paying again."""

from __future__ import annotations

import dataclasses
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
import pytest

from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.kling import KlingClips
from pipeline.providers.scenes import ProviderClips
from pipeline.render import Ports, RenderRequest
from pipeline.settings import ProviderSettings, Settings
from pipeline.store import JobState, Store
from pipeline.store.jobs import Jobs
from pipeline.visuals import ClipContext, ClipGenerator, offline_clips
from pipeline.voice import FakeVoice
from pipeline.wiring import Runtime
from pipeline.worker import run_job
from tests.worker.conftest import MakeContext
from tests.worker.helpers import Admin, balance, holds

pytestmark = pytest.mark.integration

PHOTO_SCENES = 4
SECRET = "kling-secret-key-of-thirty-two-bytes"


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("kling") / "clip.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
         "-i", "testsrc2=s=540x960:d=5:r=30", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", str(out)],
        check=True,
    )  # fmt: skip
    return out.read_bytes()


class Kling:
    """Kling's documented API as a MockTransport handler; ``cdn_up`` gates result downloads."""

    def __init__(self, clip: bytes) -> None:
        self.clip = clip
        self.submits: list[dict[str, Any]] = []
        self.polls = 0
        self.cdn_up = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.url.host == "cdn.klingai.test":
            return httpx.Response(200, content=self.clip) if self.cdn_up else httpx.Response(500)
        assert request.headers["authorization"].startswith("Bearer ")
        if request.method == "POST" and path == "/v1/videos/image2video":
            body = httpx.Request("POST", "/", content=request.content).read()
            import json

            self.submits.append(json.loads(body))
            task = f"kt-{len(self.submits)}"
            return httpx.Response(200, json={"code": 0, "message": "SUCCEED", "request_id": "r",
                                             "data": {"task_id": task, "task_status": "submitted"}})  # fmt: skip
        if request.method == "GET" and path.startswith("/v1/videos/image2video/"):
            self.polls += 1
            task = path.rsplit("/", 1)[1]
            return httpx.Response(200, json={"code": 0, "message": "SUCCEED", "request_id": "r", "data": {
                "task_id": task, "task_status": "succeed", "task_status_msg": "",
                "task_result": {"videos": [{"id": f"v-{task}", "url": f"https://cdn.klingai.test/{task}.mp4", "duration": "5.0"}]},
            }})  # fmt: skip
        return httpx.Response(404, json={"code": 1203, "message": "not found"})


def _kling(settings: Settings, tmp_path: Path) -> Settings:
    providers = ProviderSettings.from_env({
        "REELFORGE_CLIP_PROVIDER": "kling", "KLING_ACCESS_KEY": "ak", "KLING_SECRET_KEY": SECRET,
        "REELFORGE_PROVIDER_CACHE": str(tmp_path / "cache"),
    })  # fmt: skip
    return settings.model_copy(update={"providers": providers})


def test_a_job_resumes_its_submitted_kling_tasks_instead_of_paying_again(
    store: Store, admin: Admin, funded: uuid.UUID, media_root: Path, payload: dict[str, Any],
    clip_bytes: bytes, tmp_path: Path, context: MakeContext, settings: Settings,
) -> None:  # fmt: skip
    settings = _kling(settings, tmp_path)
    kling = Kling(clip_bytes)

    async def no_wait(seconds: float) -> None:
        return None

    def build(request: RenderRequest, job_runtime: Runtime) -> Ports:
        runtime = dataclasses.replace(job_runtime.provider, poll_interval=0.01)
        source = KlingClips(
            access_key="ak", secret_key=SECRET,
            client=httpx.AsyncClient(transport=httpx.MockTransport(kling)),
            breaker=CircuitBreaker("kling-test", failure_threshold=50), sleep=no_wait,
        )  # fmt: skip

        def factory(ctx: ClipContext) -> ClipGenerator:
            return ProviderClips(source=source, ctx=ctx, runtime=runtime,
                                 offline=offline_clips(ctx), fallback=False)  # fmt: skip

        return Ports(voice=FakeVoice(), meter=runtime.meter, clip_factory=factory)

    job = Jobs(store).enqueue(user_id=funded, kind="render", payload=payload)

    # Attempt 1: every task is submitted and finishes, but the results cannot be downloaded.
    claimed = Jobs(store).claim(worker="w1", lease_seconds=30)
    assert claimed is not None
    first = run_job(context("w1", lease_seconds=30, ports=build, settings=settings), claimed)
    assert first.state == JobState.QUEUED, first.error  # retried: attempts remain
    assert "kling: scene" in (first.error or "") and "HTTP 500" in (first.error or "")
    assert len(kling.submits) == PHOTO_SCENES
    assert "callback_url" not in kling.submits[0]  # no public URL configured: polling only
    journal = media_root / str(funded) / f".{job.id}.work" / "provider-tasks.json"
    assert journal.is_file()

    # Attempt 2: the same tasks are picked up from the job's journal; nothing is submitted again.
    kling.cdn_up = True
    claimed = Jobs(store).claim(worker="w2", lease_seconds=30)
    assert claimed is not None and claimed.id == job.id
    done = run_job(context("w2", lease_seconds=30, ports=build, settings=settings), claimed)
    assert done.state == JobState.DELIVERED, done.error
    assert len(kling.submits) == PHOTO_SCENES
    spent = PHOTO_SCENES * 5 * 7  # 5 s clips at 7 credits a second, paid once each
    assert done.checkpoints["qc"]["provider_credits"] == spent
    [(_, status, actual)] = holds(admin, job.id)
    assert status == "settled" and actual > spent
    assert balance(admin, funded) == 1000 - actual


def test_an_invalid_key_fails_the_job_with_klings_words_and_releases_the_hold(
    store: Store, admin: Admin, funded: uuid.UUID, media_root: Path, payload: dict[str, Any],
    tmp_path: Path, context: MakeContext, settings: Settings,
) -> None:  # fmt: skip
    settings = _kling(settings, tmp_path)
    requests: list[httpx.Request] = []

    def kling(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(
            401, json={"code": 1004, "message": "Authorization is invalid", "request_id": "r1"}
        )

    def build(request: RenderRequest, job_runtime: Runtime) -> Ports:
        runtime = job_runtime.provider
        source = KlingClips(
            access_key="ak", secret_key=SECRET,
            client=httpx.AsyncClient(transport=httpx.MockTransport(kling)),
            breaker=CircuitBreaker("kling-test-401"),
        )  # fmt: skip

        def factory(ctx: ClipContext) -> ClipGenerator:
            return ProviderClips(source=source, ctx=ctx, runtime=runtime,
                                 offline=offline_clips(ctx), fallback=True)  # fmt: skip

        return Ports(voice=FakeVoice(), meter=runtime.meter, clip_factory=factory)

    job = Jobs(store).enqueue(user_id=funded, kind="render", payload=payload)
    claimed = Jobs(store).claim(worker="w1", lease_seconds=30)
    assert claimed is not None
    done = run_job(context("w1", lease_seconds=30, ports=build, settings=settings), claimed)
    assert done.state == JobState.FAILED  # final: a retry cannot fix a key
    assert "kling" in (done.error or "") and "Authorization is invalid" in (done.error or "")
    assert len(requests) == PHOTO_SCENES  # one submit a scene, none retried, no fallback
    [(_, status, _)] = holds(admin, job.id)
    assert status == "released" and balance(admin, funded) == 1000
