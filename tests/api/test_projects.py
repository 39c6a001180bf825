"""Projects: create with an uploaded photo, read, patch, and the error shapes around them."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.api.app import create_app
from pipeline.api.media_desk import LocalMediaDesk
from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.settings import Settings
from pipeline.store.memory import MemoryRepositories
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.integration

Auth = Callable[[uuid.UUID], dict[str, str]]


def _brief(**overrides: Any) -> dict[str, Any]:
    brief = copy.deepcopy(BRIEF_EXAMPLE)
    brief["options"] = 2
    return brief | overrides


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


def test_create_read_and_patch_a_project(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, upload_photo: Callable[[uuid.UUID], str]
) -> None:
    upload_photo(user_a)
    created = client.post("/v1/projects", json=_brief(), headers=auth(user_a))
    assert created.status_code == 201, created.text
    project = created.json()
    assert project["status"] == "scripted"
    assert len(project["script_options"]) == 2
    assert project["chosen_script"] is None
    assert project["brief"]["product"]["photos"] == ["coffee.png"]

    read = client.get(f"/v1/projects/{project['id']}", headers=auth(user_a))
    assert read.status_code == 200
    assert read.json() == project

    chosen = client.patch(
        f"/v1/projects/{project['id']}", json={"chosen_script": 2}, headers=auth(user_a)
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["chosen_script"] == 2

    edited = client.patch(
        f"/v1/projects/{project['id']}",
        json={"brief": {"product": {"name": "Aurora Cup"}, "options": 3}},
        headers=auth(user_a),
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["name"] == "Aurora Cup"
    assert len(body["script_options"]) == 3
    assert body["chosen_script"] is None

    out_of_range = client.patch(
        f"/v1/projects/{project['id']}", json={"chosen_script": 4}, headers=auth(user_a)
    )
    assert _problem(out_of_range, 422)["field"] == "chosen_script"


def test_missing_upload_is_a_422_naming_the_photo(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, upload_photo: Callable[[uuid.UUID], str]
) -> None:
    upload_photo(user_a)
    brief = _brief()
    brief["product"]["photos"] = ["coffee.png", "missing.png"]
    body = _problem(client.post("/v1/projects", json=brief, headers=auth(user_a)), 422)
    assert body["field"] == "product.photos[1]"
    assert "missing.png" in body["detail"]
    assert "/" not in body["detail"], "the server's folders must not show"


@pytest.mark.parametrize("name", ["/etc/passwd", "../other/uploads/coffee.png", "a/../../x.png"])
def test_photo_paths_outside_the_uploads_folder_are_refused(
    client: ApiClient,
    user_a: uuid.UUID,
    user_b: uuid.UUID,
    auth: Auth,
    upload_photo: Callable[[uuid.UUID], str],
    name: str,
) -> None:
    upload_photo(user_b)
    brief = _brief()
    brief["product"]["photos"] = [name]
    body = _problem(client.post("/v1/projects", json=brief, headers=auth(user_a)), 422)
    assert body["field"] == "product.photos[0]"
    assert "relative to your uploads" in body["detail"]


def test_invalid_brief_is_a_422_naming_the_field(
    client: ApiClient, user_a: uuid.UUID, auth: Auth
) -> None:
    brief = _brief()
    brief["product"]["currency"] = "dollars"
    body = _problem(client.post("/v1/projects", json=brief, headers=auth(user_a)), 422)
    assert body["field"] == "product.currency"
    unknown = _problem(
        client.post("/v1/projects", json=_brief(colour="red"), headers=auth(user_a)), 422
    )
    assert unknown["field"] == "colour"
    assert "unknown field" in unknown["detail"]
    batch = _problem(
        client.post("/v1/projects", json=_brief(variants={"count": 3}), headers=auth(user_a)), 422
    )
    assert batch["field"] == "brief.variants"
    assert "one project per variant" in batch["detail"]


def test_malformed_json_is_a_400_with_the_position(
    client: ApiClient, user_a: uuid.UUID, auth: Auth
) -> None:
    response = client.post(
        "/v1/projects",
        content=b'{"version": 1,,}',
        headers={**auth(user_a), "content-type": "application/json"},
    )
    body = _problem(response, 400)
    assert "position 14" in body["detail"]


def test_body_over_the_limit_is_a_413(client: ApiClient, user_a: uuid.UUID, auth: Auth) -> None:
    big = b'{"pad": "' + b"x" * (65 * 1024) + b'"}'
    declared = client.post(
        "/v1/projects", content=big, headers={**auth(user_a), "content-type": "application/json"}
    )
    _problem(declared, 413)

    async def chunks() -> Any:
        for _ in range(70):
            yield b"x" * 1024

    streamed = client.post(
        "/v1/projects",
        content=chunks(),
        headers={**auth(user_a), "content-type": "application/json"},
    )
    assert "content-length" not in streamed.request.headers
    _problem(streamed, 413)


def test_unknown_and_other_users_projects_are_404_not_403(
    client: ApiClient,
    user_a: uuid.UUID,
    user_b: uuid.UUID,
    auth: Auth,
    upload_photo: Callable[[uuid.UUID], str],
) -> None:
    upload_photo(user_a)
    created = client.post("/v1/projects", json=_brief(options=1), headers=auth(user_a))
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    _problem(client.get(f"/v1/projects/{uuid.uuid4()}", headers=auth(user_a)), 404)
    _problem(client.get(f"/v1/projects/{project_id}", headers=auth(user_b)), 404)
    _problem(
        client.patch(f"/v1/projects/{project_id}", json={"chosen_script": 1}, headers=auth(user_b)),
        404,
    )
    # Still untouched for its owner.
    assert (
        client.get(f"/v1/projects/{project_id}", headers=auth(user_a)).json()["chosen_script"]
        is None
    )


@pytest.mark.parametrize("name", ["/etc/passwd", "../other/uploads/vo.wav"])
def test_a_voice_over_outside_the_uploads_folder_is_refused(
    client: ApiClient,
    user_a: uuid.UUID,
    auth: Auth,
    upload_photo: Callable[[uuid.UUID], str],
    name: str,
) -> None:
    upload_photo(user_a)
    brief = _brief()
    brief["voice"] = {"enabled": True, "file": name}
    body = _problem(client.post("/v1/projects", json=brief, headers=auth(user_a)), 422)
    assert body["field"] == "voice.file"
    assert "relative to your uploads" in body["detail"]


class _CountingDesk:
    """The local media desk, counting what reaches it."""

    def __init__(self, desk: Any) -> None:
        self.desk = desk
        self.calls: list[str] = []

    def check(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("check")
        return self.desk.check(*args, **kwargs)

    def fetch(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("fetch")
        return self.desk.fetch(*args, **kwargs)

    def write_scripts(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("write_scripts")
        return self.desk.write_scripts(*args, **kwargs)


def test_a_brief_that_does_not_fit_its_template_is_a_422_before_any_work(
    settings: Settings,
    memory_repos: MemoryRepositories,
    auth: Auth,
    upload_photo: Callable[[uuid.UUID], str],
) -> None:
    """Template fit (duration range, facts within their slots) is checked at creation and on
    PATCH, before a URL is fetched or a script written: the worker never meets such a brief."""
    desk = _CountingDesk(LocalMediaDesk(settings))
    client = ApiClient(create_app(settings=settings, repositories=memory_repos, media_desk=desk))
    user = memory_repos.add_user()
    upload_photo(user)
    fetched = _brief(template="comparison", duration=6)
    fetched["product"]["photos"] = ["https://example.com/cup.png"]
    body = _problem(client.post("/v1/projects", json=fetched, headers=auth(user)), 422)
    assert body["field"] == "duration" and "comparison" in body["detail"]
    long_feature = _brief(template="offer_countdown", duration=6)
    long_feature["product"]["features"] = ["Keeps espresso hot for a whole morning"]
    body = _problem(client.post("/v1/projects", json=long_feature, headers=auth(user)), 422)
    assert body["field"] == "product.features[0]"
    assert desk.calls == []

    created = client.post("/v1/projects", json=_brief(duration=6), headers=auth(user))
    assert created.status_code == 201, created.text
    assert desk.calls == ["write_scripts"]
    project = f"/v1/projects/{created.json()['id']}"
    patch = {"brief": {"template": "comparison"}}
    body = _problem(client.patch(project, json=patch, headers=auth(user)), 422)
    assert body["field"] == "brief.duration"
    assert desk.calls == ["write_scripts"]
    assert client.get(project, headers=auth(user)).json()["brief"]["template"] == (
        "product_showcase"
    )
