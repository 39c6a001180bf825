"""Projects over the API: briefs whose files live in the user's uploads, their script options
written by the media desk (``media_desk``) with the providers the brief and settings choose."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from starlette.exceptions import HTTPException

from pipeline.api.brief_files import BriefFiles, parse_ref
from pipeline.api.cursor import decode_job_cursor, encode_cursor
from pipeline.api.media_desk import MediaDesk
from pipeline.api.models import ProjectOut, ProjectPatch
from pipeline.api.upload_models import Deleted, ProjectPage, ProjectSummary
from pipeline.api.uploads import fetch_urls, forget
from pipeline.brief import Brief, file_refs
from pipeline.errors import BadInput, BriefError
from pipeline.script import Script, check_fit
from pipeline.settings import Settings
from pipeline.storage import BlobStore, StorageError
from pipeline.store import Conflict, NotFound, Repositories
from pipeline.store.models import Project
from pipeline.templates import get_template

__all__ = [
    "ProjectContext",
    "create_project",
    "delete_project",
    "get_project",
    "list_projects",
    "merge_patch",
    "resolve_uploads",
    "update_project",
]

_EDITABLE = frozenset({"draft", "scripted"})
_log = logging.getLogger("pipeline.api")


def resolve_uploads(brief: Brief, files: BriefFiles) -> Brief:
    """The brief with every file resolved to a local file through ``files`` (an upload
    reference or a name in the user's uploads folder); BriefError names the field."""
    return brief.map_files(files)


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


@dataclass(frozen=True)
class ProjectContext:
    """What creating or editing a project needs besides the brief: where its files are, and
    the media desk that fetches its URLs and writes its scripts."""

    repos: Repositories
    blobs: BlobStore
    settings: Settings
    desk: MediaDesk
    user_id: UUID

    def files(self) -> BriefFiles:
        return BriefFiles(
            repos=self.repos, blobs=self.blobs, settings=self.settings, user_id=self.user_id
        )

    def fetched(self, data: Any) -> Any:
        """The raw brief with its https URLs fetched into uploads (``upload:<id>``)."""
        return fetch_urls(
            data, repos=self.repos, blobs=self.blobs, desk=self.desk, settings=self.settings,
            user_id=self.user_id,
        )  # fmt: skip

    def scripts(self, brief: Brief) -> tuple[Script, ...]:
        """The brief's script options, written by the media desk as a render writes them."""
        return self.desk.write_scripts(brief, self.files())


def create_project(ctx: ProjectContext, data: Any) -> ProjectOut:
    """Validates the brief (before any URL is fetched), fetches its URLs into uploads, writes
    the script options and stores the project as the user."""
    brief = _validate_brief(data, prefix="")
    fetched = ctx.fetched(data)
    if fetched is not data:
        brief = _validate_brief(fetched, prefix="")
    scripts = ctx.scripts(brief)
    return _out(ctx.repos.projects.create(user_id=ctx.user_id, **_fields(brief, scripts)))


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


def _field(loc: tuple[int | str, ...], prefix: str) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "brief"


def _one_ad(brief: Brief) -> None:
    if brief.variants is not None:
        raise BriefError(
            "brief.variants",
            "a project is one ad: create one project per variant (the template mix is at "
            "GET /v1/analytics/recommendation), or render the batch with `reelforge render`",
        )


def _validate_brief(data: Any, *, prefix: str = "brief") -> Brief:
    """The brief if it is valid and fits its template (:func:`check_fit`: what every script
    writer requires, so a brief that cannot render is refused here, not in the worker)."""
    try:
        brief = Brief.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        kind = err["type"]
        problem = {"extra_forbidden": "unknown field", "missing": "required field is missing"}
        message = problem.get(kind) or str(err["msg"]).removeprefix("Value error, ")
        raise BriefError(_field(tuple(err["loc"]), prefix), message) from None
    _one_ad(brief)
    try:
        check_fit(brief, get_template(brief.template))
    except BriefError as exc:
        raise BriefError(f"{prefix}.{exc.where}" if prefix else exc.where, exc.problem) from None
    return brief


def update_project(ctx: ProjectContext, project_id: UUID, patch: ProjectPatch) -> ProjectOut:
    """Applies the patch if the project is still editable and unchanged since it was read."""
    repos, user_id = ctx.repos, ctx.user_id
    current = get_project(repos=repos, user_id=user_id, project_id=project_id)
    if current.status not in _EDITABLE:
        raise Conflict(f"project: a {current.status} project cannot be edited")
    brief = _validate_brief(current.brief)
    scripts: list[Script] | tuple[Script, ...] = current.script_options
    chosen = current.chosen_script
    if patch.brief is not None:
        merged = merge_patch(current.brief, patch.brief)
        brief = _validate_brief(merged)
        fetched = ctx.fetched(merged)
        if fetched is not merged:
            brief = _validate_brief(fetched)
        scripts = ctx.scripts(brief)
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


def list_projects(
    *, repos: Repositories, user_id: UUID, cursor: str | None, limit: int
) -> ProjectPage:
    """Up to ``limit`` projects, newest first, after ``cursor``."""
    before = decode_job_cursor(cursor) if cursor is not None else None
    rows = repos.projects.page(user_id=user_id, before=before, limit=limit + 1)
    items = [ProjectSummary.model_validate(r.model_dump()) for r in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return ProjectPage(
        items=items,
        next_cursor=encode_cursor(last.created_at.isoformat(), str(last.id)) if last else None,
    )


def _output_keys(render_paths: list[str]) -> list[str]:
    """Every blob a worker published for the outputs: each video, its poster, the manifest."""
    keys: set[str] = set()
    for path in render_paths:
        video = PurePosixPath(path)
        keys |= {str(video), str(video.with_suffix(".png")), str(video.parent / "manifest.json")}
    return sorted(keys)


def delete_project(ctx: ProjectContext, project_id: UUID) -> Deleted:
    """Deletes the user's project: its jobs' outputs leave the blob store, the uploads its brief
    names go unless another of the user's projects names them, and its jobs stay (without
    the project or the brief) because their credit holds and ledger entries are money history.
    409 while one of its jobs has not ended."""
    repos, user_id = ctx.repos, ctx.user_id
    try:
        gone = repos.projects.delete(user_id=user_id, project_id=project_id)
    except Conflict:
        raise HTTPException(409, "a job of this project has not ended: cancel it first") from None
    if gone is None:
        raise NotFound("project", "no such project")
    for key in _output_keys(gone.render_paths):
        _quietly(partial(ctx.blobs.delete, key), key)
    for where, box, key in file_refs(gone.brief):
        upload_id = parse_ref(where, str(box[key])) if isinstance(box[key], str) else None
        if upload_id is None or repos.projects.using(user_id=user_id, ref=str(box[key])):
            continue
        remove = partial(
            forget, repos=repos, blobs=ctx.blobs, settings=ctx.settings, user_id=user_id,
            upload_id=upload_id,
        )  # fmt: skip
        _quietly(remove, f"upload {upload_id}")
    return Deleted(id=project_id)


def _quietly(action: Callable[[], object], what: str) -> None:
    """A cleanup step after the project row is gone: a storage failure leaves an orphan blob
    (logged), never a half-deleted project."""
    try:
        action()
    except (StorageError, BadInput) as exc:
        _log.warning("project deletion: could not remove %s: %s", what, exc)
