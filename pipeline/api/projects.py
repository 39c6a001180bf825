"""Projects over the API: briefs whose files live in the user's uploads, their script options
written through the render service with the providers the brief and settings choose."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from pipeline.api.models import ProjectOut, ProjectPatch
from pipeline.brief import Brief
from pipeline.errors import BadInput, BriefError
from pipeline.images import load_rgb
from pipeline.render import RenderRequest
from pipeline.render import write_scripts as render_scripts
from pipeline.script import Script
from pipeline.settings import Settings
from pipeline.store import Conflict, NotFound, Repositories
from pipeline.store.models import Project
from pipeline.wiring import PortsFactory, local_runtime

__all__ = [
    "create_project",
    "get_project",
    "merge_patch",
    "update_project",
    "write_scripts",
]

_EDITABLE = frozenset({"draft", "scripted"})


def _upload(uploads: Path, where: str, name: Path) -> Path:
    # Only names inside the user's own folder: no absolute paths, no '..', no symlinks out.
    if name.is_absolute() or ".." in name.parts or not name.parts:
        raise BriefError(where, "must be a file name relative to your uploads folder")
    root = uploads.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise BriefError(where, "must be a file name relative to your uploads folder")
    if not path.is_file():
        raise BriefError(where, f"no uploaded file named {name.as_posix()!r}")
    if path.stat().st_size == 0:
        raise BriefError(where, f"uploaded file {name.as_posix()!r} is empty")
    return path


def resolve_uploads(brief: Brief, uploads: Path) -> Brief:
    """The brief with every file name resolved inside ``uploads``; BriefError names the field."""
    return brief.map_files(lambda where, name: _upload(uploads, where, name))


def write_scripts(
    brief: Brief, *, uploads: Path, settings: Settings, ports: PortsFactory
) -> tuple[Script, ...]:
    """The brief's script options, written by the render service exactly as a render writes
    them: palette from its photos, then the writer the brief and settings choose."""
    local = resolve_uploads(brief, uploads)
    photos = []
    for i, (path, name) in enumerate(zip(local.product.photos, brief.product.photos, strict=True)):
        where = f"product.photos[{i}]"
        try:
            photos.append(load_rgb(path, field=where))
        except BadInput as exc:
            # Never show the server's folders: name the file as the user did.
            raise BriefError(where, exc.problem.replace(str(path), name.as_posix())) from None
    made = ports(RenderRequest(brief=local), local_runtime(settings))
    return render_scripts(local, palette=made.palette, writer=made.writer, photos=photos).scripts


def _out(project: Project | None) -> ProjectOut:
    if project is None:
        raise NotFound("project", "no such project")
    return ProjectOut.model_validate(project.model_dump())


def _fields(brief: Brief, scripts: tuple[Script, ...] | list[Script]) -> dict[str, Any]:
    return {
        "name": brief.product.name,
        "brief": brief.model_dump(mode="json"),
        "script_options": [s.model_dump(mode="json") for s in scripts],
    }


def create_project(
    *, repos: Repositories, user_id: UUID, brief: Brief, settings: Settings, ports: PortsFactory
) -> ProjectOut:
    """Writes the script options and stores the project as the user."""
    _one_ad(brief)
    uploads = settings.uploads(user_id)
    scripts = write_scripts(brief, uploads=uploads, settings=settings, ports=ports)
    return _out(repos.projects.create(user_id=user_id, **_fields(brief, scripts)))


def get_project(*, repos: Repositories, user_id: UUID, project_id: UUID) -> ProjectOut:
    """The user's project; NotFound for unknown ids and other users' projects alike."""
    return _out(repos.projects.get(user_id=user_id, project_id=project_id))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _field(loc: tuple[int | str, ...]) -> str:
    out = "brief"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _one_ad(brief: Brief) -> None:
    if brief.variants is not None:
        raise BriefError(
            "brief.variants",
            "a project is one ad: create one project per variant (the template mix is at "
            "GET /v1/analytics/recommendation), or render the batch with `reelforge render`",
        )


def _validate_brief(data: dict[str, Any]) -> Brief:
    try:
        brief = Brief.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        kind = err["type"]
        problem = {"extra_forbidden": "unknown field", "missing": "required field is missing"}
        message = problem.get(kind) or str(err["msg"]).removeprefix("Value error, ")
        raise BriefError(_field(tuple(err["loc"])), message) from None
    _one_ad(brief)
    return brief


def update_project(
    *,
    repos: Repositories,
    user_id: UUID,
    project_id: UUID,
    patch: ProjectPatch,
    settings: Settings,
    ports: PortsFactory,
) -> ProjectOut:
    """Applies the patch if the project is still editable and unchanged since it was read."""
    current = get_project(repos=repos, user_id=user_id, project_id=project_id)
    if current.status not in _EDITABLE:
        raise Conflict(f"project: a {current.status} project cannot be edited")
    brief = _validate_brief(current.brief)
    scripts: list[Script] | tuple[Script, ...] = current.script_options
    chosen = current.chosen_script
    if patch.brief is not None:
        brief = _validate_brief(merge_patch(current.brief, patch.brief))
        uploads = settings.uploads(user_id)
        scripts = write_scripts(brief, uploads=uploads, settings=settings, ports=ports)
        chosen = None
    if "chosen_script" in patch.model_fields_set:
        chosen = patch.chosen_script
    if chosen is not None and chosen > len(scripts):
        raise BadInput("chosen_script", f"must be between 1 and {len(scripts)}")
    updated = repos.projects.update(
        user_id=user_id,
        project_id=project_id,
        seen=current.updated_at,
        chosen_script=chosen,
        **_fields(brief, scripts),
    )
    if updated is None:
        raise Conflict("project: changed by another request; read it again")
    return _out(updated)
