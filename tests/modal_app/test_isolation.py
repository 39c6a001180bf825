"""Modal's isolation: render_media_call in its own process with only the provider secret, its
scenes and formats fanned out to more processes, every file crossing through the blob store by
storage grant; the ad is the same ad a local render makes. And the API's media desk: uploads
checked, URLs fetched and script options written in containers without the service secret."""

from __future__ import annotations

import copy
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import httpx
import jwt
import numpy as np
import pytest
import yaml

from modal_app.media import RenderTask
from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.brief import parse_brief
from pipeline.formats import Format
from pipeline.media.probe import probe
from pipeline.providers.cache import SHARED_PREFIX
from pipeline.render import Ports, write_scripts
from pipeline.storage.grant import Grant
from tests.modal_app.conftest import JWT_ISSUER, Deployment
from tests.rendering import render_ad

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "examples" / "photos"


def _frame(path: Path, t: float) -> np.ndarray[Any, Any]:
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        for frame in c.decode(stream):
            if frame.time is not None and frame.time >= t:
                return frame.to_ndarray(format="rgb24").astype(float)
    raise AssertionError(f"no frame at {t} s in {path}")


def _brief(folder: str, *, logo: bool) -> dict[str, Any]:
    brief: dict[str, Any] = yaml.safe_load(
        (ROOT / "examples" / "espresso" / "brief.yaml").read_text(encoding="utf-8")
    )
    brief["product"]["photos"] = [f"{folder}/coffee.png", f"{folder}/chelsea.png"]
    if logo:
        brief["brand"]["logo"] = f"{folder}/rocket.png"
    return brief


def _task(deployment: Deployment, user: str, payload: dict[str, Any]) -> RenderTask:
    job, blobs = str(uuid.uuid4()), deployment.blobs
    for name in ("coffee.png", "chelsea.png", "rocket.png"):
        blobs.put(f"{user}/uploads/{name}", PHOTOS / name, content_type="image/png")
    prefix = f"work/{job}"
    grant = Grant(
        read=(f"{user}/uploads/", f"{prefix}/", SHARED_PREFIX), write=(f"{prefix}/", SHARED_PREFIX),
        expires=int(time.time()) + 3600,
    )  # fmt: skip
    return RenderTask(
        payload=payload, user=user, job=job, prefix=prefix, grant=deployment.grant(grant),
        api_url=deployment.api_url,
    )  # fmt: skip


def _containers(deployment: Deployment) -> list[str]:
    """The function of each container the harness started, sorted."""
    folders = (deployment.cloud.root / "containers").iterdir()
    return sorted(p.name.rsplit("-", 1)[0] for p in folders)


def test_render_in_containers_makes_the_local_ad(deployment: Deployment, tmp_path: Path) -> None:
    user, formats = str(uuid.uuid4()), ["9x16", "1x1"]
    payload = {"brief": _brief("uploads", logo=True), "preview": True, "formats": formats}
    t0 = time.monotonic()
    outcome = deployment.cloud.call("render_media_call", _task(deployment, user, payload))
    print("REMOTE", time.monotonic() - t0)

    containers = _containers(deployment)
    assert containers.count("render_media_call") == 1
    assert 1 <= containers.count("generate_scene") <= deployment.cloud.max_containers
    assert containers.count("compose_format") == len(formats), "one container per format"

    local_photos = tmp_path / "local"
    local_photos.mkdir()
    for name in ("coffee.png", "chelsea.png", "rocket.png"):
        shutil.copy(PHOTOS / name, local_photos / name)
    local = render_ad(
        parse_brief(_brief("local", logo=True), base_dir=tmp_path), tmp_path / "out", preview=True,
        formats=(Format.V9X16, Format.V1X1), ports=Ports(),
    )  # fmt: skip
    blobs = deployment.blobs
    for fmt in formats:
        key = outcome["files"][f"{fmt}.mp4"]
        remote = blobs.get(key, tmp_path / "remote" / f"{fmt}.mp4")
        assert probe(remote).duration == pytest.approx(probe(local.out_dir / f"{fmt}.mp4").duration)
        for t in (0.5, 5.0, 13.5):  # photo scenes and the end card with the logo
            difference = np.abs(_frame(remote, t) - _frame(local.out_dir / f"{fmt}.mp4", t))
            assert difference.mean() < 0.5, f"{fmt} at {t} s differs from the local render"
    assert outcome["manifest"]["palette"] == local.manifest.model_dump(mode="json")["palette"]


def _token(deployment: Deployment, user: uuid.UUID) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "sub": str(user), "aud": "authenticated", "iss": JWT_ISSUER, "role": "authenticated",
        "iat": now, "exp": now + 600,
    }  # fmt: skip
    return {"Authorization": f"Bearer {jwt.encode(claims, deployment.jwt_secret, 'HS256')}"}


def test_the_api_has_media_looked_at_in_containers_without_the_service_secret(
    deployment: Deployment, make_user: Callable[[], uuid.UUID], tmp_path: Path
) -> None:
    headers = _token(deployment, make_user())
    brief = copy.deepcopy(BRIEF_EXAMPLE) | {"options": 2}
    with httpx.Client(base_url=deployment.api_url, timeout=120) as client:
        made = client.post(
            "/v1/uploads", data={"kind": "photo"}, headers=headers,
            files={"file": ("coffee.png", (PHOTOS / "coffee.png").read_bytes(), "image/png")},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        brief["product"]["photos"] = [made.json()["ref"]]
        project = client.post("/v1/projects", json=brief, headers=headers)
        assert project.status_code == 201, project.text
        brief["product"]["photos"].append("https://127.0.0.1/cup.png")
        refused = client.post("/v1/projects", json=brief, headers=headers)

    containers = _containers(deployment)
    assert containers.count("inspect_upload") == 1, deployment.cloud.logs("web")
    assert containers.count("write_scripts_call") == 1, "the scripts were written there"
    assert containers.count("fetch_assets") == 1, "the URL was fetched (and refused) there"
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "product.photos[1]"
    assert "cannot download from 127.0.0.1" in refused.json()["detail"]
    # The options the user reads are those a local writer gives the same photo.
    shutil.copy(PHOTOS / "coffee.png", tmp_path / "coffee.png")
    local = parse_brief(copy.deepcopy(BRIEF_EXAMPLE) | {"options": 2}, base_dir=tmp_path)
    expected = write_scripts(local, ports=Ports()).scripts
    assert project.json()["script_options"] == [s.model_dump(mode="json") for s in expected]
