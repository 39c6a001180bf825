"""LocalFolderStore: atomic writes, a root that keys cannot leave, and verifiable signed URLs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import pipeline.storage._files as files
import pipeline.storage.local as local
from pipeline.errors import BadInput
from pipeline.storage import LocalFolderStore, StorageError
from tests.storage.conftest import SECRET

KEY = "renders/u1/job-7/9x16.mp4"
NOW = 1_760_000_000.0


def _file(tmp_path: Path, data: bytes, name: str = "src.mp4") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(files.TEMP_PREFIX)]


def test_put_stores_the_file_at_the_key_path_under_root(
    local_store: LocalFolderStore, tmp_path: Path
) -> None:
    local_store.put(KEY, _file(tmp_path, b"video"), content_type="video/mp4")
    assert (local_store.root / "renders" / "u1" / "job-7" / "9x16.mp4").read_bytes() == b"video"
    assert _leftovers(local_store.root) == []


def test_a_failed_rename_leaves_no_temp_file_and_keeps_the_old_blob(
    local_store: LocalFolderStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_store.put(KEY, _file(tmp_path, b"old"), content_type="video/mp4")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StorageError, match="No space left on device") as caught:
        local_store.put(KEY, _file(tmp_path, b"new", "new.mp4"), content_type="video/mp4")

    assert caught.value.operation == "put"
    assert caught.value.key == KEY
    monkeypatch.undo()
    assert local_store.get(KEY, tmp_path / "out.mp4").read_bytes() == b"old"
    assert _leftovers(local_store.root) == []


def test_a_read_failure_midway_leaves_no_partial_blob(
    local_store: LocalFolderStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_chunks(path: Path) -> Iterator[bytes]:
        yield b"first half"
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(local, "iter_file", failing_chunks)
    with pytest.raises(StorageError, match="Input/output error"):
        local_store.put(KEY, _file(tmp_path, b"whole"), content_type="video/mp4")

    assert not local_store.exists(KEY)
    assert _leftovers(local_store.root) == []


def test_put_of_a_missing_source_is_a_storage_error(
    local_store: LocalFolderStore, tmp_path: Path
) -> None:
    with pytest.raises(StorageError, match="is not a file"):
        local_store.put(KEY, tmp_path / "nope.mp4", content_type="video/mp4")
    assert not local_store.exists(KEY)


def test_get_copies_out_and_leaves_the_blob_in_place(
    local_store: LocalFolderStore, tmp_path: Path
) -> None:
    local_store.put(KEY, _file(tmp_path, b"video"), content_type="video/mp4")
    out = local_store.get(KEY, tmp_path / "deep" / "er" / "out.mp4")
    out.write_bytes(b"changed")
    assert local_store.get(KEY, tmp_path / "again.mp4").read_bytes() == b"video"


def test_written_files_get_the_usual_permissions_not_0600(
    local_store: LocalFolderStore, tmp_path: Path
) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    local_store.put(KEY, _file(tmp_path, b"video"), content_type="video/mp4")
    mode = local_store.path_for(KEY).stat().st_mode & 0o777
    assert mode == 0o666 & ~umask


@pytest.mark.parametrize(
    "key", ["../outside.mp4", "renders/../../outside.mp4", "/tmp/outside.mp4", "..\\outside.mp4"]
)
def test_traversal_keys_are_rejected_and_write_nothing_outside(
    local_store: LocalFolderStore, tmp_path: Path, key: str
) -> None:
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(BadInput, match="storage key"):
        local_store.put(key, _file(tmp_path, b"x"), content_type="video/mp4")
    assert sorted(tmp_path.rglob("*")) == sorted({*before, tmp_path / "src.mp4"})
    assert not (tmp_path / "outside.mp4").exists()


def test_a_symlink_inside_the_root_cannot_lead_outside(
    local_store: LocalFolderStore, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    local_store.root.mkdir(parents=True)
    (local_store.root / "link").symlink_to(outside, target_is_directory=True)

    with pytest.raises(BadInput, match="outside the store root"):
        local_store.put("link/x.mp4", _file(tmp_path, b"x"), content_type="video/mp4")
    with pytest.raises(BadInput, match="outside the store root"):
        local_store.get("link/secret.txt", tmp_path / "stolen.txt")
    with pytest.raises(BadInput, match="outside the store root"):
        local_store.delete("link/secret.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert not (tmp_path / "stolen.txt").exists()


def test_delete_of_a_folder_key_is_a_no_op(local_store: LocalFolderStore, tmp_path: Path) -> None:
    local_store.put(KEY, _file(tmp_path, b"x"), content_type="video/mp4")
    local_store.delete("renders/u1")
    assert local_store.exists(KEY)
    assert not local_store.exists("renders/u1")


def test_without_base_url_signed_url_is_the_file_uri(
    local_store: LocalFolderStore, tmp_path: Path
) -> None:
    local_store.put(KEY, _file(tmp_path, b"x"), content_type="video/mp4")
    assert local_store.signed_url(KEY, expires_in=60) == local_store.path_for(KEY).as_uri()


@pytest.fixture
def served(tmp_path: Path) -> LocalFolderStore:
    store = LocalFolderStore(
        tmp_path / "blobs", url_secret=SECRET, base_url="http://127.0.0.1:8000/", clock=lambda: NOW
    )
    store.put(KEY, _file(tmp_path, b"x"), content_type="video/mp4")
    return store


def _parts(url: str) -> tuple[str, str, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return split.path, query["expires"][0], query["signature"][0]


def test_with_base_url_signed_url_points_at_the_files_route(served: LocalFolderStore) -> None:
    url = served.signed_url(KEY, expires_in=900)
    path, expires, signature = _parts(url)
    assert url.startswith("http://127.0.0.1:8000/files/")
    assert path == f"/files/{KEY}"
    assert expires == str(int(NOW) + 900)
    assert len(signature) == 64


def test_a_fresh_signature_verifies_until_its_expiry(served: LocalFolderStore) -> None:
    _, expires, signature = _parts(served.signed_url(KEY, expires_in=900))
    assert served.verify_signed(KEY, expires, signature, now=NOW)
    assert served.verify_signed(KEY, int(expires), signature, now=NOW + 899)
    assert not served.verify_signed(KEY, expires, signature, now=NOW + 900)
    assert not served.verify_signed(KEY, expires, signature, now=NOW + 10_000)


def test_verify_uses_the_store_clock_when_now_is_omitted(served: LocalFolderStore) -> None:
    _, expires, signature = _parts(served.signed_url(KEY, expires_in=900))
    assert served.verify_signed(KEY, expires, signature)


def test_tampered_signatures_expiries_and_keys_fail(served: LocalFolderStore) -> None:
    _, expires, signature = _parts(served.signed_url(KEY, expires_in=900))
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert not served.verify_signed(KEY, expires, flipped, now=NOW)
    assert not served.verify_signed(KEY, expires, signature.upper(), now=NOW)
    assert not served.verify_signed(KEY, expires, "", now=NOW)
    assert not served.verify_signed(KEY, expires, "é" * 64, now=NOW)
    assert not served.verify_signed(KEY, str(int(expires) + 3600), signature, now=NOW)
    assert not served.verify_signed(KEY, f"{expires}.0", signature, now=NOW)
    assert not served.verify_signed(KEY, "-1", signature, now=NOW)
    assert not served.verify_signed(KEY, "١٢٣", signature, now=NOW)  # non-ASCII digits
    assert not served.verify_signed("renders/u1/job-7/1x1.mp4", expires, signature, now=NOW)
    assert not served.verify_signed("../" + KEY, expires, signature, now=NOW)


def test_a_signature_from_another_secret_fails(served: LocalFolderStore, tmp_path: Path) -> None:
    other = LocalFolderStore(
        served.root, url_secret=b"another-secret-of-16+", base_url="http://x", clock=lambda: NOW
    )
    _, expires, signature = _parts(other.signed_url(KEY, expires_in=900))
    assert not served.verify_signed(KEY, expires, signature, now=NOW)


@pytest.mark.parametrize("secret", [b"", b"short", "a-str-secret-of-32-characters!!!"])
def test_a_weak_or_non_bytes_secret_is_bad_input(tmp_path: Path, secret: bytes) -> None:
    with pytest.raises(BadInput, match="url_secret"):
        LocalFolderStore(tmp_path, url_secret=secret)


@pytest.mark.parametrize("base_url", ["", "ftp://x", "127.0.0.1:8000", "javascript:alert(1)"])
def test_a_base_url_that_is_not_http_is_bad_input(tmp_path: Path, base_url: str) -> None:
    with pytest.raises(BadInput, match="base_url"):
        LocalFolderStore(tmp_path, url_secret=SECRET, base_url=base_url)
