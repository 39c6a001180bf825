"""The composition root: the one place that turns settings and a runtime into adapters.

Entry points (the command line, ``reelforge serve``, the workers, Modal) build one ``Settings``
and call in here; nothing below this layer constructs ports or reads the environment.
"""

from __future__ import annotations

from pipeline.wiring.brief import load_brief
from pipeline.wiring.estimate import estimate
from pipeline.wiring.ports import PortsFactory, build_ports, ports_factory
from pipeline.wiring.runtime import Runtime, RuntimeKind, job_runtime, local_runtime
from pipeline.wiring.storage import blob_store, signing_key, signing_secret

__all__ = [
    "PortsFactory",
    "Runtime",
    "RuntimeKind",
    "blob_store",
    "build_ports",
    "estimate",
    "job_runtime",
    "load_brief",
    "local_runtime",
    "ports_factory",
    "signing_key",
    "signing_secret",
]
