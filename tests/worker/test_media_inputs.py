"""A worker's render admits the job's files as the CLI's does: a file in the user's own uploads
folder that points FFmpeg at another user's output (the finding of issue 12: an HLS playlist
uploaded as music naming ``../../<other user>/<job>/9x16.mp4``), or whose name is an image2
pattern, fails the job as bad input naming the field, publishes nothing and charges nothing."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline.render import Ports
from pipeline.storage import MemoryStore
from pipeline.store import JobState
from pipeline.store.memory import MemoryRepositories
from pipeline.voice import FakeVoice
from pipeline.worker import run_job
from tests.media.test_render_doors import holding
from tests.media_corpus import red_clip
from tests.worker.conftest import MakeContext

_OTHER_OUTPUT = "{other}/{job}/9x16.mp4"


def _hls(relative: str) -> bytes:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:8,\n{relative}\n#EXT-X-ENDLIST\n".encode()


# (file in the user's uploads, its bytes given the path of the other user's output from the
# uploads folder, the brief field naming it, what the refusal says)
CASES = {
    "hls music.m3u8": ("music.m3u8", _hls, "music", "M3U/HLS playlist"),
    "hls named music.wav": ("music.wav", _hls, "music", "M3U/HLS playlist"),
    "concat named voice.mp3": (
        "voice.mp3", lambda rel: f"ffconcat version 1.0\nfile '{rel}'\n".encode(), "voice.file",
        "FFmpeg concat list",
    ),
    "image2 pattern photo": ("photo%03d.png", None, "product.photos[0]", "patterns such as %d"),
}  # fmt: skip


@pytest.mark.integration
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_job_naming_a_file_that_points_at_another_users_output_fails_as_bad_input(
    case: str,
    memory_repos: MemoryRepositories,
    memory_user: uuid.UUID,
    memory_payload: dict[str, Any],
    memory_blobs: MemoryStore,
    memory_context: MakeContext,
    media_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, content, field, words = CASES[case]
    other = memory_repos.add_user()
    target = red_clip(media_root / _OTHER_OUTPUT.format(other=other, job=uuid.uuid4()))
    uploads = media_root / str(memory_user) / "uploads"
    if content is not None:
        (uploads / name).write_bytes(content(f"../../{target.relative_to(media_root)}"))
    brief: dict[str, Any] = memory_payload["brief"]
    if field == "music":
        brief["music"] = f"uploads/{name}"
    elif field == "voice.file":
        monkeypatch.setenv("ELEVENLABS_API_KEY", "never-used")  # refused before any call
        brief["voice"] = {"enabled": True, "file": f"uploads/{name}"}
    else:
        # a file the pattern would expand to is there: a render that expanded it would succeed
        shutil.copyfile(uploads / "coffee.png", uploads / "photo001.png")
        brief["product"]["photos"] = [f"uploads/{name}"]
    memory_repos.credits.adjust(
        user_id=memory_user, amount=1000, reason="grant", idempotency_key="g"
    )
    job = memory_repos.jobs.enqueue(user_id=memory_user, kind="render", payload=memory_payload)
    claimed = memory_repos.jobs.claim(worker="w1", lease_seconds=60)
    assert claimed is not None

    done = run_job(memory_context(ports=lambda request, runtime: Ports(voice=FakeVoice())), claimed)

    assert done.state == JobState.FAILED and done.attempts == 1
    assert done.error is not None and field in done.error and words in done.error, done.error
    published = set(memory_blobs.keys())
    assert {k for k in published if str(job.id) in k} == set()  # nothing published
    assert memory_repos.credits.balance(user_id=memory_user) == 1000  # nothing charged
    needle = target.read_bytes()[len(target.read_bytes()) // 2 :][:64]
    assert holding(media_root / str(memory_user), needle) == []
