"""``python -m pipeline.worker --workers N --lease S``: run render workers against the store."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import cast

from pipeline.render import Ports
from pipeline.store import StoreSettings, open_store
from pipeline.store.database import EMBEDDED_DATABASE
from pipeline.worker.executor import LocalExecutor
from pipeline.worker.loop import Worker


def _ports_factory(spec: str) -> Callable[[], Ports]:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise SystemExit(f"--ports must look like 'package.module:function', got {spec!r}")
    return cast(Callable[[], Ports], getattr(importlib.import_module(module), attr))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.worker", description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--lease", type=int, default=60, help="lease seconds (default 60)")
    parser.add_argument("--poll", type=float, default=5.0, help="poll seconds (default 5)")
    parser.add_argument("--grace", type=float, default=30.0, help="SIGTERM grace seconds")
    parser.add_argument(
        "--media-root", type=Path, default=None, help="default REELFORGE_HOME/media"
    )
    parser.add_argument("--ports", default=None, help="module:function returning Ports")
    args = parser.parse_args(argv)
    if args.workers < 1 or not 1 <= args.lease <= 86400:
        parser.error("--workers must be at least 1 and --lease between 1 and 86400")
    settings = StoreSettings()
    media_root: Path = args.media_root or settings.home.expanduser() / "media"

    if args.workers > 1:
        conninfo = None
        if settings.embedded:
            # Start and migrate the embedded server once, here; the workers connect to it.
            with open_store(settings) as store:
                assert store.server is not None
                conninfo = store.server.uri(EMBEDDED_DATABASE)
        executor = LocalExecutor(
            args.workers,
            media_root=media_root,
            conninfo=conninfo,
            lease_seconds=args.lease,
            poll_seconds=args.poll,
            grace_seconds=args.grace,
            ports=args.ports,
        )

        def forward(signum: int, frame: FrameType | None) -> None:
            executor.terminate()

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        executor.start()
        executor.wait()
        return 0

    ports = _ports_factory(args.ports) if args.ports else None
    with open_store(settings) as store:
        worker = Worker(
            store=store,
            media_root=media_root,
            lease_seconds=args.lease,
            poll_seconds=args.poll,
            grace_seconds=args.grace,
            ports=ports,
        )

        def stop(signum: int, frame: FrameType | None) -> None:
            worker.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
