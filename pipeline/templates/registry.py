"""The built-in templates, read once from the YAML files packaged in ``pipeline/templates/data``."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType

import yaml
from pydantic import ValidationError

from pipeline.errors import BriefError, StageError
from pipeline.templates.model import Template

__all__ = ["get_template", "load_templates", "parse_template"]

_DATA_PACKAGE = "pipeline.templates"


def parse_template(text: str, *, source: str) -> Template:
    """Validate one template file's YAML text; ``source`` names it in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StageError("templates", f"{source}: cannot parse YAML: {exc}") from None
    if not isinstance(data, dict):
        raise StageError("templates", f"{source}: must be a mapping")
    try:
        return Template.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "template"
        # A broken packaged template is our bug, not the user's, hence StageError.
        message = str(err["msg"]).removeprefix("Value error, ")
        raise StageError("templates", f"{source}: {where}: {message}") from None


@cache
def load_templates() -> Mapping[str, Template]:
    """All built-in templates by name, sorted by name; read and validated once per process."""
    folder = resources.files(_DATA_PACKAGE).joinpath("data")
    found: dict[str, Template] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        template = parse_template(entry.read_text(encoding="utf-8"), source=entry.name)
        if f"{template.name}.yaml" != entry.name:
            raise StageError("templates", f"{entry.name}: name is {template.name!r}")
        found[template.name] = template
    return MappingProxyType(found)


def get_template(name: str) -> Template:
    """The template called ``name``; a BriefError on the ``template`` field if there is none."""
    templates = load_templates()
    try:
        return templates[name]
    except KeyError:
        known = ", ".join(templates)
        raise BriefError("template", f"unknown template {name!r} (known: {known})") from None
