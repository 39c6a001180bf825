"""What to render: a brief, the script the user chose (or an option to write), formats, draft.

A ``RenderRequest`` is the whole question every entry point asks the render service. As a job
payload it travels from the API to a worker: the chosen script goes inside it, frozen when the user
chose, so the worker renders exactly what the user read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.brief import Brief, parse_brief
from pipeline.errors import BadInput
from pipeline.formats import Format
from pipeline.script.model import Script

__all__ = ["RenderRequest"]


class RenderRequest(BaseModel):
    """One ad to render.

    - ``script``: the chosen script itself (a project's choice, possibly edited); None: the
      render writes ``brief.options`` options with its writer and takes ``option``.
    - ``option``: 1-based; with a script, the option number it was (for the manifest).
    - ``formats``: None for the brief's own; ``preview``: a fast low-resolution draft.
    - ``owner``: whose render it is (a job's user), for the record; None on the command line.
    - ``work_dir``: a persistent work folder (a job's, across attempts): finished stages found
      there with the same inputs are reused. None: a private folder, removed after.
    - ``brief_record``: the brief as the user wrote it, for the manifest (the brief itself has
      absolute paths, which may name the server's folders).
    - ``export_timeline``: also write the composed timelines, with copies of every file they
      name, to this JSON file (``reelforge compose`` renders it again).
    """

    model_config = ConfigDict(frozen=True)

    brief: Brief
    script: Script | None = None
    option: int | None = None
    formats: tuple[Format, ...] | None = None
    preview: bool = False
    owner: UUID | None = None
    work_dir: Path | None = None
    brief_record: dict[str, Any] | None = None
    export_timeline: Path | None = None

    @property
    def chosen_formats(self) -> tuple[Format, ...]:
        return self.formats or self.brief.formats

    @property
    def chosen_option(self) -> int:
        """The 1-based option this render is (the given script's, else ``option`` or 1)."""
        if self.option is not None:
            return self.option
        return self.script.option if self.script is not None else 1

    def to_payload(self) -> dict[str, Any]:
        """The job payload: plain JSON the worker turns back into this request with
        :meth:`from_payload`. The brief's files keep the names they have here (callers make them
        relative to the worker's base folder first)."""
        payload: dict[str, Any] = {
            "brief": self.brief.model_dump(mode="json"),
            "preview": self.preview,
        }
        if self.formats is not None:
            payload["formats"] = [f.value for f in self.formats]
        if self.option is not None:
            payload["option"] = self.option
        if self.script is not None:
            payload["script"] = self.script.model_dump(mode="json")
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any], *, base_dir: Path) -> RenderRequest:
        """A job payload validated (BadInput names the ``payload.`` field); relative file names
        resolve inside ``base_dir``."""
        data = payload.get("brief")
        if not isinstance(data, dict):
            raise BadInput("payload.brief", "must be a brief mapping")
        brief = parse_brief(data, base_dir=base_dir)
        return cls(
            brief=brief,
            script=_script(payload.get("script"), brief),
            option=_option(payload.get("option")),
            formats=_formats(payload.get("formats")),
            preview=_preview(payload.get("preview", False)),
            brief_record=data,
        ).checked(prefix="payload.")

    def checked(self, *, prefix: str = "") -> RenderRequest:
        """This request, or BadInput (its field after ``prefix``) when it cannot be one ad: a
        batch brief, or an option the brief does not write."""
        if self.brief.variants is not None:
            raise BadInput(
                f"{prefix}brief.variants",
                "a job renders one ad: create one job per variant (the template mix is at "
                "GET /v1/analytics/recommendation), or render the batch with `reelforge render`",
            )
        option = self.option
        if self.script is None and option is not None and not 1 <= option <= self.brief.options:
            raise BadInput(
                f"{prefix}option",
                f"must be between 1 and {self.brief.options} "
                f"(the brief asks for {self.brief.options} options)",
            )
        return self


def _script(value: object, brief: Brief) -> Script | None:
    if value is None:
        return None
    try:
        script = Script.model_validate(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise BadInput(f"payload.script.{where}".rstrip("."), str(err["msg"])) from None
    if script.template != brief.template:
        raise BadInput(
            "payload.script.template",
            f"is {script.template!r} but the brief's template is {brief.template!r}",
        )
    return script


def _option(value: object) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise BadInput("payload.option", "must be an integer")
    if isinstance(value, int) and value < 1:
        raise BadInput("payload.option", "must be 1 or more")
    return value


def _formats(value: object) -> tuple[Format, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise BadInput("payload.formats", "must be a non-empty list of formats")
    try:
        formats = tuple(Format(str(f)) for f in value)
    except ValueError as exc:
        raise BadInput("payload.formats", str(exc)) from None
    if len(set(formats)) != len(formats):
        raise BadInput("payload.formats", "lists a format twice")
    return formats


def _preview(value: object) -> bool:
    if not isinstance(value, bool):
        raise BadInput("payload.preview", "must be true or false")
    return value
