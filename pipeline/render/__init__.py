"""The render service: one ``RenderRequest`` and a set of ports in, finished ads out.

Every entry point renders through :func:`render` (the command line, the workers, Modal) and
the API writes its script options through :func:`write_scripts`, so what a user chose is what
renders, everywhere. ``pipeline.wiring`` builds the ports from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.brief import Brief
from pipeline.formats import Format
from pipeline.render.plan import ScriptOptions, write_scripts
from pipeline.render.ports import Ports
from pipeline.render.request import RenderRequest
from pipeline.render.service import RenderResult, render
from pipeline.stages import Reporter

__all__ = [
    "Ports",
    "RenderOptions",
    "RenderRequest",
    "RenderResult",
    "ScriptOptions",
    "render",
    "render_brief",
    "write_scripts",
]


@dataclass(frozen=True)
class RenderOptions:
    """Deprecated: the worker's old call shape, until it builds a RenderRequest itself."""

    formats: tuple[Format, ...] | None = None
    option: int | None = None
    preview: bool = False
    work_dir: Path | None = None


def render_brief(
    brief: Brief,
    out_root: Path,
    *,
    options: RenderOptions = RenderOptions(),
    ports: Ports | None = None,
    reporter: Reporter | None = None,
    brief_data: dict[str, Any] | None = None,
) -> RenderResult:
    """Deprecated: :func:`render` with a RenderRequest."""
    request = RenderRequest(
        brief=brief, option=options.option, formats=options.formats, preview=options.preview,
        work_dir=options.work_dir, brief_record=brief_data,
    )  # fmt: skip
    return render(request, ports=ports or Ports(), out_root=out_root, reporter=reporter)
