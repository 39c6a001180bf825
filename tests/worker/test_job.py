"""run_job in-process: credits held then settled or released, checkpoints, events, cancel, resume."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import BadInput
from pipeline.pricing import charge_for
from pipeline.render import Ports
from pipeline.settings import Settings
from pipeline.store import (
    HoldStatus,
    JobState,
    Store,
)
from pipeline.store.credits import Credits
from pipeline.store.jobs import Jobs
from pipeline.voice import FakeVoice
from pipeline.worker import hold_key, job_request, run_job
from tests.worker.conftest import MakeContext, hold_of
from tests.worker.helpers import (
    Admin,
    balance,
    events,
    holds,
    job_in,
    ledger,
    renders,
    wait_for,
)
from tests.worker.ports import FailingVoice, GatedVoice

pytestmark = pytest.mark.integration


def _ledger_sum_is_balance(admin: Admin, user: uuid.UUID) -> None:
    assert sum(int(d) for d, _, _ in ledger(admin, user)) == balance(admin, user)


def test_job_runs_to_delivered_with_one_render_per_format_and_a_settled_charge(
    store: Store,
    admin: Admin,
    funded: uuid.UUID,
    media_root: Path,
    payload: dict[str, Any],
    context: MakeContext,
    settings: Settings,
) -> None:
    payload["formats"] = ["9x16", "1x1"]
    job = Jobs(store).enqueue(user_id=funded, kind="render", payload=payload)
    claimed = Jobs(store).claim(worker="w1", lease_seconds=30)
    assert claimed is not None and claimed.id == job.id
    done = run_job(context("w1", lease_seconds=30, ports=Ports(voice=FakeVoice())), claimed)
    assert done.state == JobState.DELIVERED, done.error
    out = media_root / str(funded) / str(job.id)
    rows = renders(admin, job.id)
    assert [f for f, _ in rows] == ["1x1", "9x16"]
    # recorded by their keys in the blob store: the media folder
    assert all((media_root / p).is_file() and (media_root / p).parent == out for _, p in rows)
    assert (out / "manifest.json").is_file()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "staging left behind"

    held = hold_of(payload, funded, settings)
    durations = admin.execute(
        "select duration_s from public.renders where job_id = %s", (job.id,)
    ).fetchall()
    actual = charge_for((float(str(d)) for (d,) in durations), preview=True)
    assert 0 < actual <= held
    assert holds(admin, job.id) == [(held, "settled", actual)]
    assert balance(admin, funded) == 1000 - actual
    assert [r for _, r, _ in ledger(admin, funded)] == ["grant", "hold", "hold remainder"]
    _ledger_sum_is_balance(admin, funded)

    states = [s for kind, s, _ in events(admin, job.id) if kind == "state"]
    assert states == ["queued", "generating", "composing", "qc", "qc", "delivered"]
    assert set(done.checkpoints) == {"planning", "generating", "composing", "qc"}
    assert "voice" in done.checkpoints["generating"]["stages"]
    assert done.checkpoints["qc"]["actual"] == actual


def test_a_resumed_job_reuses_its_hold_and_charges_once(
    store: Store,
    admin: Admin,
    funded: uuid.UUID,
    media_root: Path,
    payload: dict[str, Any],
    context: MakeContext,
    settings: Settings,
) -> None:
    job = Jobs(store).enqueue(user_id=funded, kind="render", payload=payload)
    crashed = Jobs(store).claim(worker="crashed", lease_seconds=1)
    assert crashed is not None
    # The crashed worker held credits and a half-written attempt folder, then died.
    Credits(store).hold(
        user_id=funded,
        amount=hold_of(payload, funded, settings),
        job_id=job.id,
        idempotency_key=hold_key(job.id),
    )
    resumed = wait_for(
        lambda: Jobs(store).claim(worker="w2", lease_seconds=30), 10, "the lease to expire"
    )
    assert resumed.id == job.id and resumed.attempts == 2
    done = run_job(context("w2", lease_seconds=30, ports=Ports(voice=FakeVoice())), resumed)
    assert done.state == JobState.DELIVERED, done.error
    assert [r for _, r, _ in ledger(admin, funded)] == ["grant", "hold", "hold remainder"]
    assert len(renders(admin, job.id)) == 1
    [(_, status, settled)] = holds(admin, job.id)
    assert status == "settled" and balance(admin, funded) == 1000 - int(str(settled))
    _ledger_sum_is_balance(admin, funded)


def test_failure_releases_the_hold_and_records_the_error(
    store: Store,
    admin: Admin,
    funded: uuid.UUID,
    media_root: Path,
    payload: dict[str, Any],
    context: MakeContext,
) -> None:
    job = Jobs(store).enqueue(user_id=funded, kind="render", payload=payload, max_attempts=2)
    first = Jobs(store).claim(worker="w1", lease_seconds=30)
    assert first is not None
    ports = Ports(voice=FailingVoice())
    after = run_job(context("w1", ports=ports), first)
    # Attempts remain: queued again, the hold kept for the next attempt.
    assert after.state == JobState.QUEUED and "voice provider is down" in (after.error or "")
    assert [s for _, s, _ in holds(admin, job.id)] == ["held"]

    second = Jobs(store).claim(worker="w1", lease_seconds=30)
    assert second is not None
    after = run_job(context("w1", ports=ports), second)
    assert after.state == JobState.FAILED
    assert after.error is not None and "stage voice failed" in after.error
    assert "voice provider is down" in after.error
    assert [s for _, s, _ in holds(admin, job.id)] == ["released"]
    assert balance(admin, funded) == 1000
    _ledger_sum_is_balance(admin, funded)
    assert renders(admin, job.id) == []
    assert not (media_root / str(funded) / str(job.id)).exists()
    assert events(admin, job.id)[-1][1:] == ("failed", after.error)


def test_insufficient_credits_fail_the_job_with_a_clear_reason_and_render_nothing(
    store: Store,
    admin: Admin,
    user_a: uuid.UUID,
    media_root: Path,
    payload: dict[str, Any],
    context: MakeContext,
) -> None:
    Credits(store).adjust(user_id=user_a, amount=5, reason="grant", idempotency_key="g")
    job = Jobs(store).enqueue(user_id=user_a, kind="render", payload=payload)
    claimed = Jobs(store).claim(worker="w1")
    assert claimed is not None
    after = run_job(context("w1", ports=Ports(voice=FakeVoice())), claimed)
    assert after.state == JobState.FAILED
    assert after.error is not None and "insufficient credits" in after.error
    assert after.attempts == 1  # not retried
    assert balance(admin, user_a) == 5 and holds(admin, job.id) == []
    assert renders(admin, job.id) == []
    assert [p.name for p in (media_root / str(user_a)).iterdir()] == ["uploads"]


def test_cancel_mid_render_releases_credits_and_publishes_nothing(
    store: Store,
    admin: Admin,
    funded: uuid.UUID,
    media_root: Path,
    payload: dict[str, Any],
    tmp_path: Path,
    context: MakeContext,
) -> None:
    gate = tmp_path / "gate"
    job = Jobs(store).enqueue(user_id=funded, kind="render", payload=payload)
    claimed = Jobs(store).claim(worker="w1", lease_seconds=2)
    assert claimed is not None
    results: list[Any] = []
    runner = threading.Thread(
        target=lambda: results.append(
            run_job(context("w1", lease_seconds=2, ports=Ports(voice=GatedVoice(gate))), claimed)
        )
    )
    runner.start()
    try:
        wait_for(job_in(store, job.id, "generating"), 20, "the voice stage")
        assert [s for _, s, _ in holds(admin, job.id)] == ["held"]
        Jobs(store).cancel(job_id=job.id, user_id=funded)
    finally:
        gate.touch()
        runner.join(30)
    assert not runner.is_alive()
    assert results[0].state == JobState.CANCELED
    assert [s for _, s, _ in holds(admin, job.id)] == ["released"]
    assert balance(admin, funded) == 1000
    _ledger_sum_is_balance(admin, funded)
    assert renders(admin, job.id) == []
    user_dir = media_root / str(funded)
    assert [p.name for p in user_dir.iterdir()] == ["uploads"]


def test_holds_of_jobs_canceled_while_queued_are_released(
    store: Store, admin: Admin, funded: uuid.UUID
) -> None:
    job = Jobs(store).enqueue(user_id=funded, kind="render", payload={})
    hold = Credits(store).hold(
        user_id=funded, amount=40, job_id=job.id, idempotency_key=hold_key(job.id)
    )
    assert hold.status == HoldStatus.HELD and balance(admin, funded) == 960
    Jobs(store).cancel(job_id=job.id)
    assert Credits(store).release_orphans() == 1
    assert Credits(store).release_orphans() == 0
    assert balance(admin, funded) == 1000


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("photo", "/etc/hosts"),
        ("photo", "../someone-else/uploads/coffee.png"),
        ("voice", "../someone-else/uploads/vo.wav"),
    ],
)
def test_a_payload_never_reaches_files_outside_the_users_folder(
    media_root: Path,
    payload: dict[str, Any],
    user_a: uuid.UUID,
    where: str,
    value: str,
    settings: Settings,
) -> None:
    other = media_root / "someone-else" / "uploads"
    other.mkdir(parents=True)
    (other / "coffee.png").write_bytes(
        (media_root / str(user_a) / "uploads" / "coffee.png").read_bytes()
    )
    (other / "vo.wav").write_bytes(b"RIFF")
    if where == "photo":
        payload["brief"]["product"]["photos"] = [value]
        field = "payload.brief.product.photos[0]"
    else:
        payload["brief"]["voice"] = {"enabled": True, "file": value}
        field = "payload.brief.voice.file"
    with pytest.raises(BadInput) as info:
        job_request(payload, user_dir=media_root / str(user_a), settings=settings)
    assert info.value.where == field
