"""One render path: the command line, a worker on the embedded database, ``modal run`` (through
``.local()``) and a job created over the API after the user chose an option all render the same
ad from one brief and option: the same script, prompts, palette and timeline hash."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

import modal_app.app as modal_app
from modal_app.bundle import pack_request
from pipeline.api.app import create_app
from pipeline.brief import load_brief
from pipeline.formats import Format
from pipeline.manifest import Manifest
from pipeline.render import RenderRequest
from pipeline.settings import ApiSettings, ServiceSettings, Settings, StoreSettings
from pipeline.store import Repositories, Store
from pipeline.store.credits import Credits
from pipeline.wiring import blob_store
from pipeline.worker import JobContext, run_job
from tests.api.conftest import ApiClient
from tests.conftest import BASE_BRIEF, PHOTOS
from tests.store.conftest import *  # noqa: F403
from tests.test_cli import reelforge

pytestmark = pytest.mark.integration

OPTION = 2
SECRET = "s" * 48
ISSUER = "https://test.supabase.co/auth/v1"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Offline settings, the embedded database's media folder, Supabase-style tokens."""
    return Settings(
        store=StoreSettings(home=tmp_path / "home"), media_root=tmp_path / "media",
        api=ApiSettings(jwt_secret=SECRET, issuer=ISSUER),
        service=ServiceSettings(public_url="http://api.test"),
    )  # fmt: skip


@pytest.fixture
def brief_file(tmp_path: Path) -> Path:
    data = json.loads(json.dumps(BASE_BRIEF)) | {"options": 3}
    data["product"]["photos"] = [str(PHOTOS / "coffee.png")]
    path = tmp_path / "brief.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _worker(store: Store, settings: Settings, user: uuid.UUID) -> Manifest:
    """Runs the one queued job as a worker does; its manifest, from the blob store."""
    repos = Repositories.postgres(store)
    claimed = repos.jobs.claim(worker="w1")
    assert claimed is not None
    context = JobContext(repos=repos, settings=settings, blobs=blob_store(settings), worker="w1")
    done = run_job(context, claimed)
    assert done.state == "delivered", done.error
    key = settings.media_root / str(user) / str(done.id) / "manifest.json"
    return Manifest.model_validate_json(key.read_text())


def _command_line(brief_file: Path, tmp_path: Path) -> Manifest:
    out = tmp_path / "cli"
    result = reelforge(
        "render", str(brief_file), "--out", str(out), "--preview", "--formats", "9x16",
        "--option", str(OPTION), "--no-record",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return Manifest.model_validate_json((out / "AUR-ESP-01" / "manifest.json").read_text())


def _queued(store: Store, settings: Settings, brief_file: Path, user: uuid.UUID) -> Manifest:
    """A job enqueued with an option number, as older payloads were: the worker writes the
    options itself."""
    uploads = settings.uploads(user)
    uploads.mkdir(parents=True)
    (uploads / "coffee.png").write_bytes((PHOTOS / "coffee.png").read_bytes())
    brief = yaml.safe_load(brief_file.read_text()) | {"formats": ["9x16"]}
    brief["product"]["photos"] = ["uploads/coffee.png"]
    payload = {"brief": brief, "option": OPTION, "preview": True}
    Repositories.postgres(store).jobs.enqueue(user_id=user, kind="render", payload=payload)
    return _worker(store, settings, user)


@pytest.fixture
def modal_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("REELFORGE_HOME", str(tmp_path / "modal-home"))
    modal_app._settings.cache_clear()
    yield
    modal_app._settings.cache_clear()


def _modal(brief_file: Path) -> Manifest:
    request = RenderRequest(
        brief=load_brief(brief_file), option=OPTION, preview=True, formats=(Format.V9X16,)
    )
    files = modal_app.render_brief_remote.local(pack_request(request))
    return Manifest.model_validate_json(files["manifest.json"])


def _api(
    store: Store, settings: Settings, user: uuid.UUID, brief_file: Path, auth: dict[str, str]
) -> Manifest:
    client = ApiClient(create_app(settings=settings, store=store))
    brief = yaml.safe_load(brief_file.read_text()) | {"formats": ["9x16"]}
    brief["product"]["photos"] = ["coffee.png"]  # uploaded by _queued's user
    project = client.post("/v1/projects", json=brief, headers=auth).json()
    chose = client.patch(
        f"/v1/projects/{project['id']}", json={"chosen_script": OPTION}, headers=auth
    )
    assert chose.status_code == 200, chose.text
    job = client.post(
        f"/v1/projects/{project['id']}/jobs", json={"preview": True},
        headers=auth | {"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert job.status_code == 201, job.text
    return _worker(store, settings, user)


@pytest.mark.usefixtures("modal_env")
def test_every_entry_point_renders_the_same_ad_from_one_brief_and_option(
    store: Store, settings: Settings, brief_file: Path, tmp_path: Path,
    make_user: Callable[[], uuid.UUID],
) -> None:  # fmt: skip
    import jwt

    user = make_user()
    Credits(store).adjust(user_id=user, amount=10_000, reason="grant", idempotency_key="g")
    token = jwt.encode(
        {"sub": str(user), "aud": "authenticated", "iss": ISSUER, "exp": 4_000_000_000},
        SECRET, algorithm="HS256",
    )  # fmt: skip
    made: dict[str, Manifest] = {
        "command line": _command_line(brief_file, tmp_path),
        "worker": _queued(store, settings, brief_file, user),
        "modal run": _modal(brief_file),
        "api": _api(store, settings, user, brief_file, {"Authorization": f"Bearer {token}"}),
    }
    reference = made["command line"]
    assert reference.chosen_option == OPTION and reference.script.option == OPTION
    for where, manifest in made.items():
        assert manifest.script == reference.script, where
        assert manifest.script_hash == reference.script_hash, where
        assert manifest.prompts == reference.prompts, where
        assert manifest.palette == reference.palette, where
        assert [v.text for v in manifest.voice] == [v.text for v in reference.voice], where
        assert manifest.outputs[0].timeline_hash == reference.outputs[0].timeline_hash, where
    # Two options of one brief are different ads: the check above can tell them apart.
    assert reference.scripts[0] != reference.script
