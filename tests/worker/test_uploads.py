"""A worker gets a job's uploads from the blob store into its own folder (any machine, either
store), checks each against its content address, and never fetches another user's file."""

from __future__ import annotations

import copy
import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import BadInput
from pipeline.render import Ports
from pipeline.storage import MemoryStore, StorageError
from pipeline.store import JobState
from pipeline.store.memory import MemoryRepositories
from pipeline.voice import FakeVoice
from pipeline.worker import fetch_uploads, run_job
from tests.conftest import BASE_BRIEF, PHOTOS
from tests.worker.conftest import MakeContext

PHOTO = (PHOTOS / "coffee.png").read_bytes()
SHA = hashlib.sha256(PHOTO).hexdigest()


def _stored(blobs: MemoryStore, user: uuid.UUID, data: bytes = PHOTO) -> str:
    key = f"{user}/uploads/{SHA}.png"
    blobs.put_bytes(key, data, content_type="image/png")
    return key


def _payload(key: str) -> dict[str, Any]:
    brief = copy.deepcopy(BASE_BRIEF)
    brief["product"]["photos"] = [f"uploads/{SHA}.png"]
    return {
        "brief": brief,
        "formats": ["9x16"],
        "preview": True,
        "files": {f"uploads/{SHA}.png": key},
    }


@pytest.mark.integration
def test_a_job_renders_uploads_fetched_from_the_blob_store_into_an_empty_folder(
    memory_repos: MemoryRepositories,
    memory_user: uuid.UUID,
    memory_blobs: MemoryStore,
    memory_context: MakeContext,
    media_root: Path,
) -> None:
    memory_repos.credits.adjust(
        user_id=memory_user, amount=1000, reason="grant", idempotency_key="g"
    )
    key = _stored(memory_blobs, memory_user)
    assert not (media_root / str(memory_user)).exists()  # nothing on this machine yet
    job = memory_repos.jobs.enqueue(user_id=memory_user, kind="render", payload=_payload(key))
    claimed = memory_repos.jobs.claim(worker="w1", lease_seconds=60)
    assert claimed is not None

    done = run_job(memory_context(ports=lambda request, runtime: Ports(voice=FakeVoice())), claimed)

    assert done.state == JobState.DELIVERED, done.error
    assert (media_root / str(memory_user) / "uploads" / f"{SHA}.png").read_bytes() == PHOTO
    assert f"{memory_user}/{job.id}/9x16.mp4" in set(memory_blobs.keys())


def test_another_users_upload_fails_the_job_before_anything_is_fetched(
    memory_repos: MemoryRepositories,
    memory_user: uuid.UUID,
    memory_blobs: MemoryStore,
    memory_context: MakeContext,
    media_root: Path,
) -> None:
    other = memory_repos.add_user()
    key = _stored(memory_blobs, other)
    memory_repos.credits.adjust(
        user_id=memory_user, amount=1000, reason="grant", idempotency_key="g"
    )
    memory_repos.jobs.enqueue(user_id=memory_user, kind="render", payload=_payload(key))
    claimed = memory_repos.jobs.claim(worker="w1", lease_seconds=60)
    assert claimed is not None

    done = run_job(memory_context(), claimed)

    assert done.state == JobState.FAILED
    assert done.error is not None and "must name one of your uploads" in done.error
    assert not (media_root / str(memory_user) / "uploads").exists()
    assert memory_repos.credits.balance(user_id=memory_user) == 1000  # nothing held or charged


@pytest.mark.parametrize(
    "change",
    [
        lambda user, files: {f"uploads/{SHA}.png": f"{uuid.uuid4()}/uploads/{SHA}.png"},
        lambda user, files: {"uploads/../../x.png": f"{user}/uploads/{SHA}.png"},
        lambda user, files: {f"uploads/{SHA}.png": f"{user}/{uuid.uuid4()}/9x16.mp4"},
        lambda user, files: {"uploads/cup.png": f"{user}/uploads/cup.png"},
        lambda user, files: {f"uploads/{SHA}.png": f"{user}/uploads/../x/{SHA}.png"},
        lambda user, files: ["not", "a", "mapping"],
    ],
    ids=["other user", "escaping name", "not an upload", "no content address", "dot segments",
         "not a mapping"],
)  # fmt: skip
def test_a_payload_names_only_its_own_users_uploads(tmp_path: Path, change: Any) -> None:
    user = uuid.uuid4()
    blobs = MemoryStore()
    payload = {"files": change(user, None)}

    with pytest.raises(BadInput, match=r"payload\.files"):
        fetch_uploads(payload, user_dir=tmp_path / str(user), user_id=user, blobs=blobs)

    assert not (tmp_path / str(user)).exists()


def test_a_blob_whose_bytes_do_not_match_its_address_is_not_kept(tmp_path: Path) -> None:
    user = uuid.uuid4()
    blobs = MemoryStore()
    key = _stored(blobs, user, data=b"something else")

    with pytest.raises(StorageError, match="do not match"):
        fetch_uploads(_payload(key), user_dir=tmp_path, user_id=user, blobs=blobs)

    assert not (tmp_path / "uploads" / f"{SHA}.png").exists()
