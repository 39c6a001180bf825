"""run_task: submit once, wait by callback or polling, resume a submitted task after a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pipeline.providers.errors import ProviderRejected
from pipeline.providers.tasks import (
    NoInbox,
    TaskFailed,
    TaskJournal,
    TaskState,
    TaskStatus,
    TaskTimeout,
    run_task,
)


class FakeProvider:
    name = "fake"

    def __init__(self, states: list[TaskStatus]) -> None:
        self.states = states
        self.polls = 0
        self.submits = 0

    async def submit(self) -> str:
        self.submits += 1
        return f"task-{self.submits}"

    async def status(self, task_id: str) -> TaskStatus:
        self.polls += 1
        state = self.states[min(self.polls - 1, len(self.states) - 1)]
        return state.model_copy(update={"task_id": task_id})

    def from_callback(self, payload: Mapping[str, Any]) -> TaskStatus | None:
        if "id" not in payload:
            return None
        return TaskStatus(
            task_id=str(payload["id"]),
            state=TaskState(payload["state"]),
            result_url=payload.get("url"),
        )


class Inbox:
    def __init__(self) -> None:
        self.by_task: dict[str, list[dict[str, Any]]] = {}

    def payloads(self, provider: str, task_id: str) -> list[dict[str, Any]]:
        return self.by_task.get(task_id, [])


RUNNING = TaskStatus(task_id="", state=TaskState.RUNNING)
DONE = TaskStatus(task_id="", state=TaskState.SUCCEEDED, result_url="https://cdn.example/v.mp4")


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []
        self.now = 0.0

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def test_polling_finishes_a_task_whose_callback_never_arrives(tmp_path: Path) -> None:
    provider = FakeProvider([RUNNING, RUNNING, DONE])
    sleeps = Sleeps()
    status = asyncio.run(
        run_task(provider, "k", provider.submit, journal=TaskJournal(tmp_path / "j.json"),
                 inbox=Inbox(), poll_interval=2, sleep=sleeps.sleep, clock=sleeps.clock)
    )  # fmt: skip
    assert status.state is TaskState.SUCCEEDED and status.task_id == "task-1"
    assert provider.submits == 1 and provider.polls == 3
    assert sleeps.delays == [2, 3]  # backs off between polls


def test_a_callback_in_the_inbox_finishes_without_polling(tmp_path: Path) -> None:
    provider = FakeProvider([RUNNING])
    inbox = Inbox()
    inbox.by_task["task-1"] = [
        {"unrelated": True},
        {"id": "task-1", "state": "succeeded", "url": "https://cdn.example/cb.mp4"},
    ]
    status = asyncio.run(run_task(provider, "k", provider.submit, journal=None, inbox=inbox))
    assert status.result_url == "https://cdn.example/cb.mp4"
    assert provider.polls == 0


def test_a_resumed_run_picks_up_the_journalled_task_instead_of_submitting(tmp_path: Path) -> None:
    journal = TaskJournal(tmp_path / "work" / "tasks.json")
    provider = FakeProvider([RUNNING])
    sleeps = Sleeps()

    async def crash_after_submit() -> None:
        await run_task(provider, "key-1", provider.submit, journal=journal, inbox=NoInbox(),
                       sleep=sleeps.sleep, clock=sleeps.clock, deadline=1)  # fmt: skip

    with pytest.raises(TaskTimeout):
        asyncio.run(crash_after_submit())
    assert provider.submits == 1
    # a new process (a resumed job attempt) with the same journal file
    resumed = FakeProvider([DONE])
    again = TaskJournal(tmp_path / "work" / "tasks.json")
    status = asyncio.run(run_task(resumed, "key-1", resumed.submit, journal=again, inbox=NoInbox()))
    assert resumed.submits == 0
    assert status.task_id == "task-1"


def test_a_failed_task_names_the_reason_and_is_forgotten(tmp_path: Path) -> None:
    journal = TaskJournal(tmp_path / "j.json")
    provider = FakeProvider(
        [TaskStatus(task_id="", state=TaskState.FAILED, error="GPU out of memory")]
    )
    with pytest.raises(TaskFailed, match="failed: GPU out of memory") as info:
        asyncio.run(run_task(provider, "k", provider.submit, journal=journal, inbox=NoInbox()))
    assert info.value.provider == "fake"
    assert journal.get("k") is None  # the next attempt submits afresh


def test_a_refusal_is_a_rejection_with_the_providers_words(tmp_path: Path) -> None:
    provider = FakeProvider(
        [
            TaskStatus(
                task_id="", state=TaskState.FAILED, error="prompt violates policy", refused=True
            )
        ]
    )
    with pytest.raises(ProviderRejected, match="prompt violates policy"):
        asyncio.run(run_task(provider, "k", provider.submit, journal=None, inbox=NoInbox()))


def test_the_deadline_stops_waiting() -> None:
    provider = FakeProvider([RUNNING])
    sleeps = Sleeps()
    with pytest.raises(TaskTimeout, match="did not finish within 60s"):
        asyncio.run(run_task(provider, "k", provider.submit, journal=None, inbox=NoInbox(),
                             sleep=sleeps.sleep, clock=sleeps.clock, deadline=60))  # fmt: skip
    assert sum(sleeps.delays) >= 60


def test_journal_survives_garbage_and_writes_atomically(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    path.write_text("{not json", encoding="utf-8")
    journal = TaskJournal(path)
    assert journal.get("k") is None
    journal.put("k", provider="kling", task_id="t9")
    assert TaskJournal(path).get("k") == {
        **TaskJournal(path).get("k"),
        "provider": "kling",
        "task_id": "t9",
    }  # type: ignore[dict-item]
    assert not list(tmp_path.glob("*.part"))
