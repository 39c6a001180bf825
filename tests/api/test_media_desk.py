"""The media desk: the local default does today's checks, fetches and script writing in the
API's process; an API given another desk hands all three to it and decodes, fetches and writes
nothing itself."""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from pipeline.api.app import create_app
from pipeline.api.brief_files import BriefFiles
from pipeline.api.media_desk import LocalMediaDesk
from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.brief import Brief
from pipeline.download import DownloadPolicy
from pipeline.errors import BadInput, BriefError
from pipeline.palette import FakePalette
from pipeline.render import Ports, RenderRequest
from pipeline.script import Script
from pipeline.settings import Settings
from pipeline.storage import MemoryStore
from pipeline.store.memory import MemoryRepositories
from pipeline.uploads import Checked
from pipeline.wiring import Runtime
from tests.api.conftest import ApiClient, script_options
from tests.upload_corpus import HLS, PHOTO, image_bytes

Auth = dict[str, str]


def _brief(*photos: str, **overrides: Any) -> dict[str, Any]:
    brief = copy.deepcopy(BRIEF_EXAMPLE)
    brief["options"] = 2
    brief["product"]["photos"] = list(photos)
    return brief | overrides


def _fake_ports(request: RenderRequest, runtime: Runtime) -> Ports:
    return Ports(palette=FakePalette())


def _served(content: bytes) -> DownloadPolicy:
    """Downloads from a public address, served by ``content``."""
    return DownloadPolicy(
        resolve=lambda host: ["93.184.216.34"],
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=content)),
    )


@pytest.fixture
def local(settings: Settings) -> LocalMediaDesk:
    return LocalMediaDesk(settings, _fake_ports)


@pytest.fixture
def blobs() -> MemoryStore:
    return MemoryStore()


def _uploaded(
    repos: MemoryRepositories, blobs: MemoryStore, user: uuid.UUID, data: bytes, scratch: Path
) -> str:
    """``upload:<id>`` of a photo upload of ``data``, recorded without any check."""
    key = f"{user}/uploads/{uuid.uuid4().hex}.png"
    (scratch / "source").write_bytes(data)
    blobs.put(key, scratch / "source", content_type="image/png")
    upload = repos.uploads.record(
        user_id=user, kind="photo", key=key, sha256=hashlib.sha256(data).hexdigest(),
        size=len(data), content_type="image/png", original_name="cup.png",
    )  # fmt: skip
    return f"upload:{upload.id}"


# (a) The local default: today's code, in this process.


def test_local_check_accepts_a_photo_and_names_the_field_for_a_bad_one(
    local: LocalMediaDesk, tmp_path: Path
) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_bytes(PHOTO.read_bytes())
    bad.write_bytes(PHOTO.read_bytes()[:4000])

    assert local.check(good, "photo", name="cup.png", field="file") == Checked(
        "a PNG image", ".png", "image/png"
    )
    with pytest.raises(BadInput) as refused:
        local.check(bad, "photo", name="cup.png", field="file")
    assert refused.value.where == "file" and "truncated" in refused.value.problem
    assert str(tmp_path) not in refused.value.problem, "the server's folders are never shown"


def test_local_fetch_downloads_public_urls_under_the_cap_and_refuses_the_rest(
    settings: Settings, tmp_path: Path
) -> None:
    desk = LocalMediaDesk(settings, downloads=_served(PHOTO.read_bytes()))

    path = desk.fetch("https://cdn.example/cup.png", tmp_path, field="brand.logo", max_bytes=10**7)
    assert path.parent == tmp_path and path.read_bytes() == PHOTO.read_bytes()
    with pytest.raises(BriefError, match="cap of 1024") as too_big:
        desk.fetch("https://cdn.example/cup.png", tmp_path, field="brand.logo", max_bytes=1024)
    assert too_big.value.where == "brand.logo"
    with pytest.raises(BriefError, match="only https") as plain:
        desk.fetch("http://cdn.example/cup.png", tmp_path, field="music", max_bytes=10**7)
    assert plain.value.where == "music"
    internal = LocalMediaDesk(settings)  # the real resolver: 127.0.0.1 is refused before a request
    with pytest.raises(BriefError, match=r"cannot download from 127\.0\.0\.1") as blocked:
        internal.fetch("https://127.0.0.1/x.png", tmp_path, field="product.photos[0]", max_bytes=99)
    assert blocked.value.where == "product.photos[0]"


def test_local_write_scripts_writes_what_the_render_service_writes(
    local: LocalMediaDesk, settings: Settings, memory_repos: MemoryRepositories,
    blobs: MemoryStore, tmp_path: Path,
) -> None:  # fmt: skip
    user = memory_repos.add_user()
    ref = _uploaded(memory_repos, blobs, user, PHOTO.read_bytes(), tmp_path)
    brief = Brief.model_validate(_brief(ref))
    files = BriefFiles(repos=memory_repos, blobs=blobs, settings=settings, user_id=user)

    scripts = local.write_scripts(brief, files)

    assert [s.model_dump(mode="json") for s in scripts] == script_options(_brief("x.png"))
    assert len(files.keys) == 1, "the upload was copied here from the blob store"


def test_local_write_scripts_names_an_undecodable_photo_as_the_user_did(
    local: LocalMediaDesk, settings: Settings, memory_repos: MemoryRepositories,
    blobs: MemoryStore, tmp_path: Path,
) -> None:  # fmt: skip
    user = memory_repos.add_user()
    ref = _uploaded(memory_repos, blobs, user, PHOTO.read_bytes()[:4000], tmp_path)
    files = BriefFiles(repos=memory_repos, blobs=blobs, settings=settings, user_id=user)

    with pytest.raises(BriefError) as refused:
        local.write_scripts(Brief.model_validate(_brief(ref)), files)

    assert refused.value.where == "product.photos[0]"
    assert ref in refused.value.problem and str(settings.media_root) not in refused.value.problem


def test_a_desk_comes_with_its_own_ports_and_downloads(settings: Settings) -> None:
    with pytest.raises(TypeError, match="local media desk"):
        create_app(
            settings=settings, repositories=MemoryRepositories(), blobs=MemoryStore(),
            media_desk=LocalMediaDesk(settings), downloads=DownloadPolicy(),
        )  # fmt: skip


# (b) Another desk: the API hands everything to it.


@dataclass
class RecordingDesk:
    """A desk that answers from fixed data and records what it was asked."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def check(self, path: Path, kind: str, *, name: str | None, field: str) -> Checked:
        self.calls.append(("check", path.read_bytes(), kind, name, field))
        return Checked("a PNG image", ".png", "image/png")

    def fetch(self, url: str, dest_dir: Path, *, field: str, max_bytes: int) -> Path:
        self.calls.append(("fetch", url, field, max_bytes))
        dest_dir.mkdir(parents=True, exist_ok=True)
        (dest_dir / "fetched").write_bytes(image_bytes())
        return dest_dir / "fetched"

    def write_scripts(self, brief: Brief, files: BriefFiles) -> tuple[Script, ...]:
        self.calls.append(("write_scripts", brief.model_dump(mode="json"), files.user_id))
        return tuple(Script.model_validate(s) for s in script_options(_brief("x.png")))


def _unusable(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("the API decoded, fetched or wrote scripts in its own process")


@pytest.fixture
def nothing_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow, PyAV, the downloader, the upload checks and the script writer, unusable here."""
    import av
    from PIL import Image

    import pipeline.api.media_desk
    import pipeline.download

    monkeypatch.setattr(Image, "open", _unusable)
    monkeypatch.setattr(av, "open", _unusable)
    monkeypatch.setattr(pipeline.download, "download", _unusable)
    for name in ("check_upload", "fetch_https", "write_scripts", "ports_factory"):
        monkeypatch.setattr(pipeline.api.media_desk, name, _unusable)


@pytest.mark.usefixtures("nothing_in_process")
def test_the_api_hands_uploads_urls_and_scripts_to_its_desk(
    settings: Settings, memory_repos: MemoryRepositories, auth: Any
) -> None:
    desk, blobs = RecordingDesk(), MemoryStore()
    client = ApiClient(
        create_app(settings=settings, repositories=memory_repos, blobs=blobs, media_desk=desk)
    )
    user = memory_repos.add_user()
    headers = auth(user)

    made = client.post(
        "/v1/uploads", data={"kind": "photo"}, headers=headers,
        files={"file": ("coffee.png", PHOTO.read_bytes(), "application/octet-stream")},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    ref = made.json()["ref"]
    brief = _brief(ref) | {"brand": BRIEF_EXAMPLE["brand"] | {"logo": "https://cdn.example/l.png"}}
    project = client.post("/v1/projects", json=brief, headers=headers)
    assert project.status_code == 201, project.text
    edited = client.patch(
        f"/v1/projects/{project.json()['id']}", json={"brief": {"options": 2}}, headers=headers
    )
    assert edited.status_code == 200, edited.text

    logo_ref = project.json()["brief"]["brand"]["logo"]
    assert [c[0] for c in desk.calls] == [
        "check", "fetch", "check", "write_scripts", "write_scripts"
    ]  # fmt: skip
    assert desk.calls[0] == ("check", PHOTO.read_bytes(), "photo", "coffee.png", "file")
    assert desk.calls[1] == (
        "fetch", "https://cdn.example/l.png", "brand.logo", settings.upload_limits.cap("logo")
    )  # fmt: skip
    assert desk.calls[2] == ("check", image_bytes(), "logo", None, "brand.logo")
    written = desk.calls[3][1]
    assert (written["product"]["photos"], written["brand"]["logo"]) == ([ref], logo_ref)
    assert desk.calls[3][2] == user
    assert project.json()["script_options"] == script_options(_brief("x.png"))


@pytest.mark.usefixtures("nothing_in_process")
def test_a_desk_refusal_is_the_api_problem_and_nothing_is_stored(
    settings: Settings, memory_repos: MemoryRepositories, auth: Any
) -> None:
    class Refusing(RecordingDesk):
        def check(self, path: Path, kind: str, *, name: str | None, field: str) -> Checked:
            raise BadInput(field, f"{name!r} is an HLS playlist, which refers to other files")

    blobs = MemoryStore()
    client = ApiClient(
        create_app(settings=settings, repositories=memory_repos, blobs=blobs, media_desk=Refusing())
    )
    user = memory_repos.add_user()

    refused = client.post(
        "/v1/uploads", data={"kind": "music"}, headers=auth(user),
        files={"file": ("song.wav", HLS, "application/octet-stream")},
    )  # fmt: skip

    assert refused.status_code == 422
    assert refused.json()["field"] == "file" and "HLS" in refused.json()["detail"]
    assert memory_repos.uploads.page(user_id=user, before=None, limit=10) == []
