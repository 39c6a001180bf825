"""Two jobs rendering the same scenes at once, in two threads with their own cache folders (as
two containers would: no common disk, one shared blob store and one set of claims), pay Kling
once per distinct clip; the job that pays is the only one charged, the other reads its clip."""

from __future__ import annotations

import contextlib
import itertools
import threading
from decimal import Decimal
from pathlib import Path

import httpx

from pipeline.formats import Format
from pipeline.providers.cache import ProviderCache
from pipeline.providers.claimant import ClaimPolicy
from pipeline.providers.http import RetryPolicy
from pipeline.providers.kling import KlingClips
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.scenes import ProviderClips
from pipeline.providers.tasks import TaskJournal
from pipeline.providers.usage import UsageMeter
from pipeline.storage import MemoryStore
from pipeline.store.memory import MemoryRepositories
from pipeline.timeline import VideoClip
from pipeline.visuals.port import ClipRequest
from tests.modal_harness.cloud import wait_for
from tests.providers.video_support import CLIP, context, scene

AK = "AK-test-0123456789"
SK = "SK-test-secret-0123456789abcdef0123456789"
CDN = "https://cdn.klingai.test"
# 9x16 and 4x5 share Kling's 9:16 clip; 16x9 is another: two distinct clips per job.
REQUESTS = [scene(Format.V9X16), scene(Format.V4X5), scene(Format.V16X9)]


class CountingClaims:
    """The shared claims, noting every key a claimant was refused (someone waited for it)."""

    def __init__(self) -> None:
        self.inner = MemoryRepositories().claims
        self.refused: set[str] = set()

    def acquire(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        held = self.inner.acquire(key, owner=owner, lease_seconds=lease_seconds)
        if not held:
            self.refused.add(key)
        return held

    def renew(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        return self.inner.renew(key, owner=owner, lease_seconds=lease_seconds)

    def finish(self, key: str, *, owner: str) -> bool:
        return self.inner.finish(key, owner=owner)

    def fail(self, key: str, *, owner: str, error: str) -> bool:
        return self.inner.fail(key, owner=owner, error=error)


class Kling:
    """Kling's image-to-video create and query endpoints and its CDN, in the documented shapes.

    Every task stays ``processing`` until ``ready()``: here, until a claimant has been refused
    every clip, so both jobs are in the race while no clip exists yet. Each task's video has
    its own bytes, so a clip tells which task made it."""

    def __init__(self, ready: threading.Event) -> None:
        self.ready = ready
        self.created: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.klingai.test":
            return httpx.Response(200, content=self.video(request.url.path.strip("/")))
        if request.method == "POST":
            with self._lock:
                task_id = f"T{next(self._ids)}"
                self.created.append(task_id)
            return _envelope({"task_id": task_id, "task_status": "submitted"})
        task_id = request.url.path.rsplit("/", 1)[-1]
        if not self.ready.is_set():
            return _envelope({"task_id": task_id, "task_status": "processing"})
        video = {"id": "v1", "url": f"{CDN}/{task_id}", "duration": "5.1"}
        data = {"task_id": task_id, "task_status": "succeed", "task_result": {"videos": [video]}}
        return _envelope(data)

    @staticmethod
    def video(task_id: str) -> bytes:
        return CLIP + f"made by task {task_id}".encode()


def _envelope(data: object) -> httpx.Response:
    return httpx.Response(
        200, json={"code": 0, "message": "SUCCEED", "request_id": "r", "data": data}
    )


def _job(
    name: str, tmp_path: Path, kling: Kling, shared: MemoryStore, claims: CountingClaims
) -> tuple[ProviderClips, UsageMeter]:
    (tmp_path / name).mkdir(parents=True)
    policy = ClaimPolicy(first_poll=0.01, max_poll=0.05, wait_seconds=30)
    cache = ProviderCache(
        tmp_path / name / "cache", shared=shared, claims=claims, owner=f"job:{name}",
        policy=policy,
    )  # fmt: skip
    meter = UsageMeter()
    runtime = ProviderRuntime(
        cache=cache, meter=meter, journal=TaskJournal(tmp_path / name / "tasks.json"),
        poll_interval=0.02, task_deadline=30,
    )  # fmt: skip
    adapter = KlingClips(
        access_key=AK, secret_key=SK, policy=RetryPolicy(max_attempts=1),
        client=httpx.AsyncClient(transport=httpx.MockTransport(kling)),
    )  # fmt: skip

    class NoOffline:
        def generate(self, request: ClipRequest, *, workdir: Path) -> VideoClip:
            raise AssertionError("every scene here is a photo scene")

    clips = ProviderClips(
        source=adapter, ctx=context(tmp_path / name), runtime=runtime, offline=NoOffline(),
        fallback=False, check=lambda clip, request: [],
    )  # fmt: skip
    return clips, meter


def test_two_jobs_rendering_the_same_scenes_at_once_pay_once_per_clip(tmp_path: Path) -> None:
    ready = threading.Event()
    kling, shared, claims = Kling(ready), MemoryStore(), CountingClaims()
    jobs = {name: _job(name, tmp_path, kling, shared, claims) for name in ("a", "b")}
    made: dict[str, list[bytes]] = {}

    def render(name: str) -> None:
        clips, _ = jobs[name]
        out = clips.generate_many(REQUESTS, workdir=tmp_path / name / "work")
        made[name] = [c.path.read_bytes() for c in out if isinstance(c, VideoClip)]

    threads = [threading.Thread(target=render, args=(n,)) for n in jobs]
    for thread in threads:
        thread.start()
    # Both jobs are in flight: the first asks for every clip, the second waits on its claim.
    with contextlib.suppress(AssertionError):  # counted below
        wait_for(lambda: len(claims.refused) == 2, timeout=10, what="both jobs in the race")
    ready.set()
    for thread in threads:
        thread.join(30)

    assert len(kling.created) == 2, f"Kling was asked {len(kling.created)} times for 2 clips"
    assert len(claims.refused) == 2, "every clip was waited for while it was being made"
    videos = {Kling.video(t) for t in kling.created}
    assert made["a"] == made["b"], "both jobs use the same clips"
    assert set(made["a"]) == videos and made["a"][0] == made["a"][1]  # 9x16 and 4x5 share one
    meters = [meter for _, meter in jobs.values()]
    paid = [u for m in meters for u in m.usages if not u.cached]
    assert sorted(u.task_id or "" for u in paid) == sorted(kling.created), "charged once each"
    assert sum(u.credits for u in paid) == 2 * Decimal("5.1") * 7  # 2 clips of 5.1 s at 7/s
    assert sum(1 for m in meters for u in m.usages if u.cached) == 4
