"""A job's render in a container without secrets: the brief's files come from the blob store
through a storage grant, scenes and formats fan out, the outputs go back through the grant.

The container holds no database password and no storage key, only the provider keys a render
pays with. What must survive it (the provider task journal and spend log, the progress) is
written to the job's prefix in the blob store as it changes, so the worker that holds the job's
lease can follow the render and a later attempt anywhere resumes the same provider tasks. Paid
generations are claimed through the API with the same grant before they are paid for, so two
jobs rendering the same asset in two containers pay for it once.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypedDict

from modal_app.compose import ComposeTask, ModalComposer
from modal_app.scenes import MapClips, SceneAsset, SceneTask
from pipeline.brief import file_refs
from pipeline.providers.cache import ProviderCache
from pipeline.providers.granted_claims import GrantedClaims
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.tasks import TaskJournal
from pipeline.providers.usage import UsageMeter
from pipeline.render import RenderRequest, render
from pipeline.settings import Settings
from pipeline.storage import BlobNotFound, BlobStore
from pipeline.visuals import ClipContext, ClipGenerator
from pipeline.wiring import Runtime, RuntimeKind, build_ports
from pipeline.wiring.runtime import TASK_JOURNAL, USAGE_LOG, prices

__all__ = ["PROGRESS", "RenderOutcome", "RenderTask", "render_media"]

PROGRESS = "progress.json"  # under the job's prefix: the stage events so far
_PROGRESS_EVERY = 0.5  # seconds between progress writes while a stage advances


class RenderTask(TypedDict):
    payload: dict[str, Any]  # the job's RenderRequest payload; its files are under ``user``/
    user: str
    job: str
    prefix: str  # the job's prefix in the blob store (the grant's writable prefix)
    grant: str
    api_url: str


class RenderOutcome(TypedDict):
    manifest: dict[str, Any]
    files: dict[str, str]  # output file name → blob key


class _Progress:
    """The render's stage events, written to ``<prefix>/progress.json`` for the worker."""

    def __init__(self, store: BlobStore, key: str, folder: Path) -> None:
        self._store, self._key, self._path = store, key, folder / PROGRESS
        self._events: list[list[Any]] = []
        self._lock = threading.Lock()
        self._written = 0.0

    def _write(self, force: bool) -> None:
        with self._lock:
            if not force and time.monotonic() - self._written < _PROGRESS_EVERY:
                return
            self._path.write_text(json.dumps(self._events), encoding="utf-8")
            self._store.put(self._key, self._path, content_type="application/json")
            self._written = time.monotonic()

    def started(self, stage: str) -> None:
        self._events.append(["started", stage])
        self._write(force=True)

    def advanced(self, stage: str, fraction: float) -> None:
        self._events.append(["advanced", stage, round(fraction, 3)])
        self._write(force=False)

    def finished(self, stage: str, seconds: float) -> None:
        self._events.append(["finished", stage, round(seconds, 4)])
        self._write(force=True)


def _inputs(task: RenderTask, store: BlobStore, user_dir: Path) -> RenderRequest:
    """The job's request with every file its brief names downloaded from the user's folder."""
    brief = task["payload"].get("brief")
    for _, box, key in file_refs(brief if isinstance(brief, dict) else {}):
        if box[key] is None:  # a field the brief leaves out
            continue
        relative = Path(str(box[key]))
        target = user_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        store.get(f"{task['user']}/{relative.as_posix()}", target)  # keys validate the path
    return RenderRequest.from_payload(task["payload"], base_dir=user_dir)


def _mirrored(store: BlobStore, prefix: str, folder: Path, name: str) -> Callable[[Path], None]:
    """Fetches ``name`` from the job's prefix (an earlier attempt's), and mirrors it back."""
    with contextlib.suppress(BlobNotFound):
        store.get(f"{prefix}/{name}", folder / name)

    def mirror(path: Path) -> None:
        store.put(f"{prefix}/{name}", path, content_type="application/json")

    return mirror


def _runtime(
    task: RenderTask, store: BlobStore, settings: Settings, work: Path, claims: GrantedClaims
) -> ProviderRuntime:
    prefix = task["prefix"]
    work.mkdir(parents=True, exist_ok=True)
    journal = _mirrored(store, prefix, work, TASK_JOURNAL)
    usage = _mirrored(store, prefix, work, USAGE_LOG)
    cache = ProviderCache(
        work.parent / "provider-cache", shared=store, owner=f"job:{task['job']}",
        claims=claims,
    )  # fmt: skip
    return ProviderRuntime(
        cache=cache,
        meter=UsageMeter(prices(settings), log=work / USAGE_LOG, on_write=usage),
        journal=TaskJournal(work / TASK_JOURNAL, on_write=journal),
        job_id=task["job"],
    )


def render_media(
    task: RenderTask,
    *,
    store: BlobStore,
    settings: Settings,
    map_scenes: Callable[[list[SceneTask]], Iterable[SceneAsset]],
    map_compose: Callable[[list[ComposeTask]], Iterable[str]],
) -> RenderOutcome:
    """Renders the job's request; the outputs and manifest go to ``<prefix>/out/``."""
    prefix, grant, api_url = task["prefix"], task["grant"], task["api_url"]
    claims = GrantedClaims(api_url, grant)
    with tempfile.TemporaryDirectory(prefix="reelforge-media-") as scratch, contextlib.closing(claims):
        root = Path(scratch)
        request = _inputs(task, store, root / "user")

        def scenes(ctx: ClipContext) -> ClipGenerator:
            return MapClips(
                map_scenes, ctx, store=store, grant=grant, api_url=api_url, prefix=prefix
            )

        composer = ModalComposer(map_compose, store=store, grant=grant, api_url=api_url, prefix=prefix)
        runtime = Runtime(
            RuntimeKind.MODAL, _runtime(task, store, settings, root / "work", claims), scenes,
            composer,
        )
        ports = build_ports(request.brief, settings, runtime)
        result = render(
            request.model_copy(update={"work_dir": root / "work"}), ports=ports,
            out_root=root / "out", reporter=_Progress(store, f"{prefix}/{PROGRESS}", root),
        )  # fmt: skip
        files = {}
        for path in sorted(result.out_dir.iterdir()):
            kind = {".mp4": "video/mp4", ".png": "image/png"}.get(path.suffix, "application/json")
            files[path.name] = f"{prefix}/out/{path.name}"
            store.put(files[path.name], path, content_type=kind)
        return RenderOutcome(manifest=result.manifest.model_dump(mode="json"), files=files)
