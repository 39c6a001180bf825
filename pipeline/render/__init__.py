"""The render service: one ``RenderRequest`` and a set of ports in, finished ads out.

Every entry point renders through :func:`render` (the command line, the workers, Modal) and
the API writes its script options through :func:`write_scripts`, so what a user chose is what
renders, everywhere. ``pipeline.wiring`` builds the ports from the settings.
"""

from __future__ import annotations

from pipeline.render.plan import ScriptOptions, write_scripts
from pipeline.render.ports import Ports
from pipeline.render.request import RenderRequest
from pipeline.render.service import RenderResult, render

__all__ = [
    "Ports",
    "RenderRequest",
    "RenderResult",
    "ScriptOptions",
    "render",
    "write_scripts",
]
