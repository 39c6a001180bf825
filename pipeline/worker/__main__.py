"""``python -m pipeline.worker --workers N --lease S``: run render workers against the store."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import cast

from pipeline.settings import Settings
from pipeline.store import Repositories, open_store
from pipeline.store.database import EMBEDDED_DATABASE
from pipeline.wiring import PortsFactory, blob_store, signing_secret
from pipeline.worker.executor import LocalExecutor
from pipeline.worker.job import JobContext
from pipeline.worker.loop import Worker
from pipeline.worker.supervisor import follow_parent, report_ready


def _ports_factory(spec: str) -> PortsFactory:
    """``package.module:function``, a function of (request, runtime) returning the Ports."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise SystemExit(f"--ports must look like 'package.module:function', got {spec!r}")
    return cast(PortsFactory, getattr(importlib.import_module(module), attr))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline.worker", description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--lease", type=int, default=60, help="lease seconds (default 60)")
    parser.add_argument("--poll", type=float, default=5.0, help="poll seconds (default 5)")
    parser.add_argument("--grace", type=float, default=30.0, help="SIGTERM grace seconds")
    parser.add_argument(
        "--media-root", type=Path, default=None, help="default REELFORGE_HOME/media"
    )
    parser.add_argument("--ports", default=None, help="module:function returning Ports")
    # Given by a supervising pool (LocalExecutor), not by people.
    parser.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def _run_pool(args: argparse.Namespace, settings: Settings) -> int:
    conninfo = None
    if settings.store.embedded:
        # Start and migrate the embedded server once, here; the workers connect to it.
        with open_store(settings.store) as store:
            assert store.server is not None
            conninfo = store.server.uri(EMBEDDED_DATABASE)
    executor = LocalExecutor(
        args.workers, media_root=settings.media_root, conninfo=conninfo, lease_seconds=args.lease,
        poll_seconds=args.poll, grace_seconds=args.grace, ports=args.ports,
        env={"REELFORGE_SIGNING_SECRET": signing_secret(settings)},
    )  # fmt: skip

    def forward(signum: int, frame: FrameType | None) -> None:
        executor.terminate()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    executor.start()
    executor.wait()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.workers < 1 or not 1 <= args.lease <= 86400:
        _parser().error("--workers must be at least 1 and --lease between 1 and 86400")
    if args.parent is not None:
        follow_parent(args.parent)
    settings = Settings.from_env()
    if args.media_root is not None:
        settings = settings.model_copy(update={"media_root": args.media_root})
    if args.workers > 1:
        return _run_pool(args, settings)
    with open_store(settings.store) as store:
        context = JobContext(
            repos=Repositories.postgres(store), settings=settings, blobs=blob_store(settings),
            worker="", lease_seconds=args.lease,
            ports=_ports_factory(args.ports) if args.ports else None,
        )  # fmt: skip
        worker = Worker(context, poll_seconds=args.poll, grace_seconds=args.grace)

        def stop(signum: int, frame: FrameType | None) -> None:
            worker.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        ready_fd = args.ready_fd
        worker.run(on_ready=None if ready_fd is None else lambda: report_ready(ready_fd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
