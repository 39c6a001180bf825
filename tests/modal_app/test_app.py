"""The Modal app: imports offline, registers each function as configured, and runs locally."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import httpx
import pytest
import yaml

import modal_app.app as modal_app
from modal_app.bundle import pack_request, write_outputs
from pipeline.brief import load_brief
from pipeline.render import RenderRequest
from pipeline.store import Repositories
from pipeline.store.jobs import Jobs
from pipeline.store.memory import ManualClock, MemoryRepositories

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "examples" / "photos"
JWT_SECRET = "modal-tests-" + "k" * 40

NO_NETWORK = """
import socket, sys, warnings
warnings.simplefilter("error")
def refuse(*args, **kwargs):
    raise OSError("network used during import")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import modal_app.app as m
print(m.web.info().web_info is not None)
"""


def test_module_imports_without_network_or_warnings() -> None:
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


SERVICE = ["modal.Secret.from_name('reelforge')"]
PROVIDERS = ["modal.Secret.from_name('reelforge-providers')"]


@pytest.mark.parametrize(
    ("function", "cpu", "memory", "timeout", "retries", "schedule", "secrets"),
    [
        ("web", None, None, 300, None, None, SERVICE),
        ("render_job", 0.5, 1024, 3600, 2, None, SERVICE),
        ("render_media_call", 2.0, 4096, 3600, None, None, PROVIDERS),
        ("generate_scene", 1.0, 2048, 600, 2, None, []),
        ("compose_format", 2.0, 4096, 1800, 1, None, []),
        ("inspect_upload", 1.0, 2048, 180, None, None, []),
        ("fetch_assets", 0.5, 1024, 120, None, None, []),
        ("write_scripts_call", 1.0, 2048, 300, None, None, PROVIDERS),
        ("sweeper", None, None, 300, None, "Period(minutes=1)", SERVICE),
        ("render_brief_remote", 2.0, 4096, 1800, None, None, PROVIDERS),
    ],
)
def test_function_is_registered_with_its_configuration(
    function: str,
    cpu: float | None,
    memory: int | None,
    timeout: int,
    retries: int | None,
    schedule: str | None,
    secrets: list[str],
) -> None:
    info = getattr(modal_app, function).info()  # offline: a locally defined function's own spec
    assert (info.cpu, info.memory_mib, info.timeout) == (cpu, memory, timeout)
    assert info.max_retries == retries
    assert info.schedule == schedule
    assert info.volumes == {}, "files cross containers through the blob store only"
    assert info.secrets == secrets, "least privilege: only the secrets the function uses"


def test_web_is_a_concurrent_asgi_endpoint() -> None:
    info = modal_app.web.info()
    assert info.web_info is not None
    assert info.concurrency_info is not None
    assert info.concurrency_info.max_inputs == 32
    assert modal_app.render_job.info().web_info is None


@pytest.fixture
def deployed_env(db_uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The environment the 'reelforge' secret and the image give a container."""
    monkeypatch.setenv("DATABASE_URL", db_uri)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("SUPABASE_JWT_ISSUER", "https://example.supabase.co/auth/v1")
    monkeypatch.setenv("REELFORGE_MEDIA_ROOT", str(tmp_path / "media"))
    monkeypatch.setenv("REELFORGE_SIGNING_SECRET", "s" * 40)
    monkeypatch.setenv("REELFORGE_PUBLIC_URL", "https://team--reelforge-api.modal.run")
    modal_app._settings.cache_clear()
    modal_app._store.cache_clear()
    yield
    if modal_app._store.cache_info().currsize:
        modal_app._store().close()
    modal_app._store.cache_clear()
    modal_app._settings.cache_clear()


@pytest.mark.usefixtures("deployed_env")
def test_web_serves_the_api_health_and_readiness() -> None:
    api = modal_app.web.local()  # the FastAPI instance Modal would serve

    async def get(path: str) -> int:
        # httpx's ASGITransport: Starlette's TestClient warns when used with httpx.
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return (await client.get(path)).status_code

    assert anyio.run(get, "/health") == 200
    assert anyio.run(get, "/ready") == 200


def test_store_refuses_to_start_an_embedded_database_in_a_container() -> None:
    modal_app._settings.cache_clear()
    modal_app._store.cache_clear()
    with pytest.raises(Exception, match="DATABASE_URL is not set"):
        modal_app._store()


@pytest.mark.usefixtures("deployed_env")
def test_render_job_returns_none_when_nothing_is_runnable() -> None:
    assert modal_app.render_job.local(str(uuid.uuid4())) is None


@pytest.mark.usefixtures("deployed_env")
def test_sweep_spawns_one_render_per_runnable_job(
    make_user: Callable[[], uuid.UUID],
) -> None:
    from modal_app.sweep import sweep

    store = modal_app._store()
    job = Jobs(store).enqueue(user_id=make_user(), kind="render", payload={})
    spawned: list[str] = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
    with client:
        report = sweep(
            repos=Repositories.postgres(store), spawn=spawned.append, client=client,
            worker="test-sweeper", webhook_seconds=0,
        )
    assert spawned == [str(job.id)]
    assert (report.dispatched_jobs, report.webhook_attempts) == (1, 0)


def test_pack_request_carries_every_named_file_and_parses_back(
    tmp_path: Path,
    write_brief: Callable[[dict[str, Any]], Path],
    brief_data: dict[str, Any],
    photo_dir: Path,
) -> None:
    (photo_dir / "vo.wav").write_bytes(b"RIFF-not-really")  # every kind of file goes up
    brief_data["voice"] = {"enabled": True, "file": "photos/vo.wav"}
    brief_data["brand"]["logo"] = "photos/chelsea.png"
    request = RenderRequest(brief=load_brief(write_brief(brief_data)), option=2, preview=True)
    bundle = pack_request(request)
    payload = bundle["payload"]
    assert payload["brief"]["product"]["photos"] == ["files/00-coffee.png"]
    assert payload["brief"]["brand"]["logo"] == "files/01-chelsea.png"
    assert payload["brief"]["voice"]["file"] == "files/02-vo.wav"
    assert bundle["files"]["files/02-vo.wav"] == b"RIFF-not-really"
    assert (payload["option"], payload["preview"]) == (2, True)
    for name, content in bundle["files"].items():
        (tmp_path / "up" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "up" / name).write_bytes(content)
    back = RenderRequest.from_payload(
        yaml.safe_load(yaml.safe_dump(payload)), base_dir=tmp_path / "up"
    )
    assert back.brief.product.photos == ((tmp_path / "up" / "files" / "00-coffee.png").resolve(),)
    assert back.brief.voice.file == (tmp_path / "up" / "files" / "02-vo.wav").resolve()
    assert (back.option, back.preview) == (2, True)


def test_write_outputs_refuses_names_that_escape_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="escapes"):
        write_outputs({"../evil.mp4": b"x"}, tmp_path / "out")
    assert not (tmp_path / "evil.mp4").exists()


def test_main_sends_the_request_and_writes_the_outputs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[Any, ...]] = []

    def remote(bundle: Any) -> dict[str, bytes]:
        payload = bundle["payload"]
        calls.append((sorted(bundle["files"]), payload.get("formats"), payload["preview"]))
        return {"9x16/ad.mp4": b"mp4", "manifest.json": b"{}"}

    monkeypatch.setattr(modal_app, "render_brief_remote", SimpleNamespace(remote=remote))
    brief = ROOT / "examples" / "espresso" / "brief.yaml"
    modal_app.main(str(brief), formats="9x16", preview=True, out=str(tmp_path / "out"))
    assert calls == [(["files/00-coffee.png"], ["9x16"], True)]
    assert (tmp_path / "out" / "9x16" / "ad.mp4").read_bytes() == b"mp4"


def test_sweep_purges_idempotency_keys_past_their_retention() -> None:
    from modal_app.sweep import sweep

    clock = ManualClock(step=timedelta(0))
    repos = MemoryRepositories(clock=clock)
    user = repos.add_user()
    keep = {"lock_seconds": 60, "retention_seconds": 24 * 3600}
    assert repos.idempotency.claim(user_id=user, key="old", request_hash="h", **keep).claimed
    clock.advance(47 * 3600)
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204))) as client:
        kept = sweep(
            repos=repos, spawn=print, client=client, worker="w", key_retention_seconds=48 * 3600,
            webhook_seconds=0,
        )
        clock.advance(2 * 3600)
        purged = sweep(
            repos=repos, spawn=print, client=client, worker="w", key_retention_seconds=48 * 3600,
            webhook_seconds=0,
        )
    assert (kept.purged_keys, purged.purged_keys) == (0, 1)
