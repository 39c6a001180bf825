"""The script-writing port: whatever turns a brief and a template into ad scripts."""

from __future__ import annotations

from typing import Protocol

from pipeline.brief import Brief
from pipeline.palette.model import Palette
from pipeline.script.model import Script
from pipeline.templates.model import Template

__all__ = ["ScriptWriter"]


class ScriptWriter(Protocol):
    def write(
        self, brief: Brief, template: Template, palette: Palette, *, n: int
    ) -> tuple[Script, ...]:
        """Return ``n`` distinct script options (``option`` 1..n) for the brief and template."""
        ...
