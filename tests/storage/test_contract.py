"""One behaviour for every BlobStore: local folder, in-memory fake and Supabase (on a fake API)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipeline.errors import BadInput
from pipeline.storage import BlobNotFound, BlobStore, LocalFolderStore, MemoryStore
from pipeline.storage.supabase import SupabaseStore

Store = LocalFolderStore | MemoryStore | SupabaseStore
KEY = "renders/3f1c0d2e-user/job-42/9x16.mp4"


def _file(tmp_path: Path, data: bytes, name: str = "src.mp4") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_every_store_satisfies_the_port(any_store: Store) -> None:
    assert isinstance(any_store, BlobStore)


def test_put_then_get_round_trips_bytes_and_reports_size_and_sha256(
    any_store: Store, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 1000 + b"\r\n--tail"
    blob = any_store.put(KEY, _file(tmp_path, data), content_type="video/mp4")

    assert blob.key == KEY
    assert blob.size == len(data)
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.content_type == "video/mp4"
    out = any_store.get(KEY, tmp_path / "out" / "copy.mp4")
    assert out == tmp_path / "out" / "copy.mp4"
    assert out.read_bytes() == data


def test_put_replaces_an_existing_blob(any_store: Store, tmp_path: Path) -> None:
    any_store.put(KEY, _file(tmp_path, b"first", "a"), content_type="video/mp4")
    any_store.put(KEY, _file(tmp_path, b"second", "b"), content_type="video/mp4")

    assert any_store.get(KEY, tmp_path / "out.mp4").read_bytes() == b"second"


def test_exists_follows_put_and_delete(any_store: Store, tmp_path: Path) -> None:
    assert not any_store.exists(KEY)
    any_store.put(KEY, _file(tmp_path, b"x"), content_type="video/mp4")
    assert any_store.exists(KEY)
    any_store.delete(KEY)
    assert not any_store.exists(KEY)


def test_delete_of_a_missing_key_is_not_an_error(any_store: Store) -> None:
    any_store.delete(KEY)
    any_store.delete(KEY)


def test_get_of_a_missing_key_raises_blob_not_found_naming_the_key(
    any_store: Store, tmp_path: Path
) -> None:
    with pytest.raises(BlobNotFound) as caught:
        any_store.get(KEY, tmp_path / "out.mp4")
    assert caught.value.key == KEY
    assert KEY in str(caught.value)
    assert not (tmp_path / "out.mp4").exists()


def test_signing_a_missing_key_raises_blob_not_found(any_store: Store) -> None:
    with pytest.raises(BlobNotFound):
        any_store.signed_url(KEY, expires_in=60)


def test_signed_url_of_a_stored_blob_is_a_url(any_store: Store, tmp_path: Path) -> None:
    any_store.put(KEY, _file(tmp_path, b"x"), content_type="video/mp4")
    url = any_store.signed_url(KEY, expires_in=600)
    assert url.split("://", 1)[0] in {"file", "memory", "https"}
    assert KEY in url


@pytest.mark.parametrize("expires_in", [0, -5, 7 * 24 * 3600 + 1, True, 1.5])
def test_signed_url_lifetime_out_of_range_is_bad_input(
    any_store: Store, tmp_path: Path, expires_in: int
) -> None:
    any_store.put(KEY, _file(tmp_path, b"x"), content_type="video/mp4")
    with pytest.raises(BadInput, match="signed URL lifetime"):
        any_store.signed_url(KEY, expires_in=expires_in)


@pytest.mark.parametrize("content_type", ["", "video", "Video/MP4", "video/mp4\r\nx-evil: 1"])
def test_malformed_content_type_is_bad_input(
    any_store: Store, tmp_path: Path, content_type: str
) -> None:
    with pytest.raises(BadInput, match="content type"):
        any_store.put(KEY, _file(tmp_path, b"x"), content_type=content_type)


@pytest.mark.parametrize("key", ["../escape.mp4", "/abs.mp4", "a//b", "a\\b"])
def test_every_operation_rejects_a_bad_key(any_store: Store, tmp_path: Path, key: str) -> None:
    src = _file(tmp_path, b"x")
    with pytest.raises(BadInput, match="storage key"):
        any_store.put(key, src, content_type="video/mp4")
    with pytest.raises(BadInput, match="storage key"):
        any_store.get(key, tmp_path / "out")
    with pytest.raises(BadInput, match="storage key"):
        any_store.signed_url(key, expires_in=60)
    with pytest.raises(BadInput, match="storage key"):
        any_store.delete(key)
    with pytest.raises(BadInput, match="storage key"):
        any_store.exists(key)
