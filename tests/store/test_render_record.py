"""A finished render is recorded as a project, a delivered job and one row per output, under RLS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from pipeline.errors import ReelforgeError
from pipeline.manifest import Manifest
from pipeline.render import Ports
from pipeline.store import Store
from pipeline.store.renders import local_user_id, record_render
from pipeline.voice import FakeVoice
from tests.conftest import BASE_BRIEF, PHOTOS
from tests.rendering import render_ad

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Manifest, Path]:
    root = tmp_path_factory.mktemp("finished")
    (root / "photos").mkdir()
    (root / "photos" / "coffee.png").write_bytes((PHOTOS / "coffee.png").read_bytes())
    data = json.loads(json.dumps(BASE_BRIEF))
    data["formats"] = ["9x16", "1x1"]
    (root / "brief.json").write_text(json.dumps(data))
    result = render_ad(
        root / "brief.json",
        root / "out",
        preview=True,
        ports=Ports(voice=FakeVoice()),
    )
    return result.manifest, result.out_dir


def test_render_is_recorded_and_visible_only_to_its_owner(
    store: Store, user_a: uuid.UUID, user_b: uuid.UUID, finished: tuple[Manifest, Path]
) -> None:
    manifest, out_dir = finished
    recorded = record_render(store=store, manifest=manifest, out_dir=out_dir, user_id=user_a)
    assert len(recorded.render_ids) == 2
    with store.as_user(user_a) as conn:
        rows = conn.execute(
            "select format, path, width, qc from public.renders order by format"
        ).fetchall()
        job = conn.execute(
            "select state, project_id from public.jobs where id = %s", (recorded.job_id,)
        ).fetchone()
        project = conn.execute(
            "select status, jsonb_array_length(script_options), chosen_script from public.projects"
        ).fetchone()
        events = conn.execute(
            "select state from public.job_events where job_id = %s", (recorded.job_id,)
        ).fetchall()
    assert [r[0] for r in rows] == ["1x1", "9x16"]
    assert rows[1][1] == str(out_dir / "9x16.mp4") and rows[1][2] == 360
    assert rows[1][3]["checks"], "QC results are stored with the render"
    assert job == ("delivered", recorded.project_id)
    assert project == ("delivered", 2, 1)
    assert events == [("delivered",)]
    with store.as_user(user_b) as conn:
        assert conn.execute("select count(*) from public.renders").fetchone() == (0,)
        assert conn.execute("select count(*) from public.projects").fetchone() == (0,)


def test_recording_is_all_or_nothing(
    store: Store,
    admin: psycopg.Connection[tuple[object, ...]],
    user_a: uuid.UUID,
    finished: tuple[Manifest, Path],
) -> None:
    manifest, out_dir = finished
    broken = manifest.model_copy(
        update={"outputs": (*manifest.outputs, manifest.outputs[0])}
    )  # format twice
    with pytest.raises(ReelforgeError):
        record_render(store=store, manifest=broken, out_dir=out_dir, user_id=user_a)
    for table in ("projects", "jobs", "job_events", "renders"):
        assert admin.execute(f"select count(*) from public.{table}").fetchone() == (0,), table


def test_embedded_local_user_is_created_once(
    store: Store, admin: psycopg.Connection[tuple[object, ...]], finished: tuple[Manifest, Path]
) -> None:
    manifest, out_dir = finished
    user = local_user_id("dev@example.com")
    assert user == local_user_id(" Dev@Example.com ")
    for _ in range(2):
        record_render(
            store=store, manifest=manifest, out_dir=out_dir, user_id=user, email="dev@example.com"
        )
    assert admin.execute("select count(*) from auth.users where id = %s", (user,)).fetchone() == (
        1,
    )
    assert admin.execute(
        "select count(*) from public.jobs where user_id = %s", (user,)
    ).fetchone() == (2,)


def test_cli_records_only_when_a_database_is_present(tmp_path: Path, isolated_home: Path) -> None:
    env = {**os.environ}  # REELFORGE_HOME: the isolated home, outside pytest's root
    env.pop("DATABASE_URL", None)
    brief = ROOT / "examples" / "espresso" / "brief.yaml"
    cmd = [sys.executable, "-m", "pipeline", "render", str(brief), "--preview", "--formats", "1x1"]
    first = subprocess.run(
        [*cmd, "--out", str(tmp_path / "a")], capture_output=True, text=True, env=env, timeout=300
    )
    assert first.returncode == 0, first.stderr
    assert "recorded:" not in first.stdout and not (isolated_home / "pg").exists()
    second = subprocess.run(
        [*cmd, "--out", str(tmp_path / "b"), "--record"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert second.returncode == 0, second.stderr
    assert "recorded: project" in second.stdout and "1 renders" in second.stdout
    third = subprocess.run(
        [*cmd, "--out", str(tmp_path / "c")], capture_output=True, text=True, env=env, timeout=300
    )
    assert (
        "recorded: project" in third.stdout
    )  # the embedded database now exists: recorded by default
