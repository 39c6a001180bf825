"""Test helper: render a brief file (or a loaded brief) through the render service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.brief import Brief, load_brief
from pipeline.render import Ports, RenderRequest, RenderResult, render


def render_ad(
    brief: Path | Brief, out: Path, *, ports: Ports | None = None, **request: Any
) -> RenderResult:
    """``brief`` rendered into ``out`` with ``ports`` (offline by default); ``request`` holds
    the other RenderRequest fields (option, formats, preview, work_dir, script ...)."""
    loaded = brief if isinstance(brief, Brief) else load_brief(brief)
    return render(RenderRequest(brief=loaded, **request), ports=ports or Ports(), out_root=out)
