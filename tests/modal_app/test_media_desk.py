"""The media desk on Modal, its functions called directly: uploads checked, URLs fetched and
script options written as the local desk does them, the same problems naming the same fields,
and the API's side sending exactly what those functions need (a grant for the user's uploads)."""

from __future__ import annotations

import copy
import hashlib
import pickle
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from modal_app.media_desk import (
    ModalMediaDesk,
    ScriptTask,
    fetch_bytes,
    inspect_bytes,
    write_script_options,
)
from pipeline.api.brief_files import BriefFiles
from pipeline.api.media_desk import LocalMediaDesk
from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.brief import Brief
from pipeline.download import DownloadPolicy
from pipeline.errors import BadInput, BriefError
from pipeline.settings import ServiceSettings, Settings, StoreSettings
from pipeline.storage import MemoryStore
from pipeline.storage.grant import GRANT_PURPOSE, verify_grant
from pipeline.store.memory import MemoryRepositories
from pipeline.uploads import Checked
from pipeline.wiring import signing_key
from tests.upload_corpus import HLS, PHOTO, font_bytes, wav_bytes

CHELSEA = PHOTO.with_name("chelsea.png")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store=StoreSettings(home=tmp_path / "home"), media_root=tmp_path / "media",
        service=ServiceSettings(public_url="https://api.test", signing_secret="s" * 40),
    )  # fmt: skip


def _across(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` as a remote call gives it back: its result or its error, pickled whole."""

    def call(*args: Any) -> Any:
        try:
            return pickle.loads(pickle.dumps(function(*args)))
        except Exception as exc:
            raise pickle.loads(pickle.dumps(exc)) from None

    return call


def test_inspect_accepts_what_the_kind_must_be() -> None:
    assert inspect_bytes(PHOTO.read_bytes(), "photo", "cup.png", "file") == Checked(
        "a PNG image", ".png", "image/png"
    )
    assert inspect_bytes(wav_bytes(), "music", "song.wav", "file").extension == ".wav"
    assert inspect_bytes(font_bytes(), "font", "Brand.ttf", "file").extension == ".ttf"


@pytest.mark.parametrize(
    ("kind", "name", "data", "words"),
    [
        ("photo", "cup.png", PHOTO.read_bytes()[:4000], "truncated"),
        ("photo", "cup.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "cup.png"),
        ("music", "song.wav", HLS, "HLS playlist"),
        ("font", "Brand.ttf", b"not a font at all", "not a TrueType"),
    ],
    ids=["truncated png", "bad png", "hls named .wav", "text as font"],
)
def test_inspect_refuses_bad_files_naming_the_field_and_no_path(
    kind: str, name: str, data: bytes, words: str
) -> None:
    with pytest.raises(BadInput) as refused:
        _across(inspect_bytes)(data, kind, name, "file")
    assert refused.value.where == "file"
    assert words in refused.value.problem
    assert "reelforge-inspect-" not in refused.value.problem, "the container's folder is not shown"


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1/cup.png", "https://10.0.0.8/cup.png", "https://[::1]/cup.png",
     "https://169.254.169.254/latest/meta-data"],
)  # fmt: skip
def test_fetch_refuses_private_addresses_naming_the_brief_field(url: str) -> None:
    with pytest.raises(BriefError, match="cannot download from") as refused:
        _across(fetch_bytes)(url, "product.photos[1]", 10**6)
    assert type(refused.value) is BriefError and refused.value.where == "product.photos[1]"


def test_fetch_downloads_a_public_url_under_the_cap() -> None:
    public = DownloadPolicy(
        resolve=lambda host: ["93.184.216.34"],
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=PHOTO.read_bytes())),
    )
    url = "https://cdn.example/cup.png"

    assert fetch_bytes(url, "brand.logo", 10**7, policy=public) == PHOTO.read_bytes()
    with pytest.raises(BriefError, match="over the cap of 1024") as too_big:
        fetch_bytes(url, "brand.logo", 1024, policy=public)
    assert too_big.value.where == "brand.logo"
    with pytest.raises(BriefError, match="only https"):
        fetch_bytes("http://cdn.example/cup.png", "brand.logo", 10**7, policy=public)


def _brief(*photos: str) -> Brief:
    data = copy.deepcopy(BRIEF_EXAMPLE)
    data["product"]["photos"] = list(photos)
    return Brief.model_validate(data)


def _upload(repos: MemoryRepositories, blobs: MemoryStore, user: uuid.UUID, path: Path) -> str:
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    key = f"{user}/uploads/{sha}.png"
    blobs.put(key, path, content_type="image/png")
    upload = repos.uploads.record(
        user_id=user, kind="photo", key=key, sha256=sha, size=path.stat().st_size,
        content_type="image/png", original_name=path.name,
    )  # fmt: skip
    return f"upload:{upload.id}"


def test_script_options_are_the_local_writers_for_the_same_brief(settings: Settings) -> None:
    repos, blobs = MemoryRepositories(), MemoryStore()
    user = repos.add_user()
    brief = _brief(_upload(repos, blobs, user, PHOTO), _upload(repos, blobs, user, CHELSEA))
    files = BriefFiles(repos=repos, blobs=blobs, settings=settings, user_id=user)
    tasks: list[ScriptTask] = []

    def write(task: ScriptTask) -> list[dict[str, Any]]:
        tasks.append(task)
        return write_script_options(task, store=blobs, settings=settings)

    desk = ModalMediaDesk(
        inspect=inspect_bytes, fetch=fetch_bytes, write=_across(write), settings=settings
    )
    remote = desk.write_scripts(brief, files)
    local = LocalMediaDesk(settings).write_scripts(brief, files)

    assert remote == local and len(remote) == brief.options
    [task] = tasks
    assert task["brief"] == brief.model_dump(mode="json"), "the brief as the user wrote it"
    assert sorted(task["photos"]) == ["product.photos[0]", "product.photos[1]"]
    assert task["api_url"] == "https://api.test"
    grant = verify_grant(task["grant"], signing_key(settings, GRANT_PURPOSE))
    assert (grant.read, grant.write) == ((f"{user}/uploads/",), ())
    assert grant.expires <= time.time() + 15 * 60, "a grant for minutes, not hours"


def test_a_bad_photo_comes_back_as_the_local_desk_names_it(settings: Settings) -> None:
    repos, blobs = MemoryRepositories(), MemoryStore()
    user = repos.add_user()
    cut = settings.media_root / "cut.png"
    cut.parent.mkdir(parents=True)
    cut.write_bytes(PHOTO.read_bytes()[:4000])
    ref = _upload(repos, blobs, user, cut)
    files = BriefFiles(repos=repos, blobs=blobs, settings=settings, user_id=user)
    desk = ModalMediaDesk(
        inspect=inspect_bytes, fetch=fetch_bytes, settings=settings,
        write=_across(lambda task: write_script_options(task, store=blobs, settings=settings)),
    )  # fmt: skip

    with pytest.raises(BriefError) as remote:
        desk.write_scripts(_brief(ref), files)
    with pytest.raises(BriefError) as local:
        LocalMediaDesk(settings).write_scripts(_brief(ref), files)

    assert (remote.value.where, remote.value.problem.split(" (")[0]) == (
        local.value.where, local.value.problem.split(" (")[0],
    )  # fmt: skip
    assert remote.value.where == "product.photos[0]" and ref in remote.value.problem
    assert "reelforge-scripts-" not in remote.value.problem


def test_the_modal_desk_takes_only_uploads_and_checks_each_is_the_users(
    settings: Settings,
) -> None:
    repos, blobs = MemoryRepositories(), MemoryStore()
    user, other = repos.add_user(), repos.add_user()
    theirs = _upload(repos, blobs, other, PHOTO)
    files = BriefFiles(repos=repos, blobs=blobs, settings=settings, user_id=user)
    written: list[ScriptTask] = []
    desk = ModalMediaDesk(
        inspect=inspect_bytes, fetch=fetch_bytes, settings=settings,
        write=lambda task: written.append(task) or [],
    )  # fmt: skip

    with pytest.raises(BriefError, match="no upload") as foreign:
        desk.write_scripts(_brief(theirs), files)
    with pytest.raises(BriefError, match="must be upload:<id>") as plain:
        desk.write_scripts(_brief("coffee.png"), files)

    assert foreign.value.where == plain.value.where == "product.photos[0]"
    assert written == [], "nothing was sent"


def test_the_modal_desk_keeps_a_fetched_file_and_sends_an_upload_as_bytes(
    settings: Settings, tmp_path: Path
) -> None:
    sent: list[tuple[Any, ...]] = []

    def inspect(data: bytes, kind: str, name: str | None, field: str) -> Checked:
        sent.append((data, kind, name, field))
        return inspect_bytes(data, kind, name, field)

    desk = ModalMediaDesk(
        inspect=inspect, fetch=lambda url, field, cap: b"fetched bytes", write=lambda t: [],
        settings=settings,
    )  # fmt: skip
    received = tmp_path / "received"
    received.write_bytes(PHOTO.read_bytes())

    assert desk.check(received, "photo", name="cup.png", field="file").extension == ".png"
    assert sent == [(PHOTO.read_bytes(), "photo", "cup.png", "file")]
    path = desk.fetch("https://cdn.example/a", tmp_path / "in", field="music", max_bytes=100)
    assert path.read_bytes() == b"fetched bytes" and path.parent == tmp_path / "in"
    with pytest.raises(BriefError, match="larger than 4 bytes") as too_big:
        desk.fetch("https://cdn.example/a", tmp_path / "in", field="music", max_bytes=4)
    assert too_big.value.where == "music"
