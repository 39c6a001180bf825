"""Executors dispatch queued jobs: N local worker processes, or one Modal function call per job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol
from uuid import UUID

__all__ = ["Executor", "LocalExecutor", "ModalExecutor"]


class Executor(Protocol):
    def submit(self, job_id: UUID) -> None:
        """Makes sure some worker will claim the (already enqueued) job."""
        ...


class ModalExecutor:
    """Spawns the Modal render function per job (``fn.spawn``); the function claims the job like a
    local worker does, under a lease, so an expired container is taken over the same way."""

    def __init__(self, spawn: Callable[[str], object]) -> None:
        self._spawn = spawn

    def submit(self, job_id: UUID) -> None:
        self._spawn(str(job_id))


class LocalExecutor:
    """N ``python -m pipeline.worker`` processes that claim jobs from PostgreSQL.

    ``submit`` does nothing: enqueue_job already NOTIFYs the listening workers, and they poll too.
    ``conninfo`` is passed as DATABASE_URL in the children's environment, never on the command line.
    """

    def __init__(
        self,
        n_workers: int,
        *,
        media_root: Path,
        conninfo: str | None = None,
        lease_seconds: int = 60,
        poll_seconds: float = 5.0,
        grace_seconds: float = 30.0,
        ports: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        if n_workers < 1:
            raise ValueError("n_workers must be at least 1")
        self.n_workers = n_workers
        self.media_root = media_root
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self._conninfo = conninfo
        self._ports = ports
        self._env = dict(env or {})
        self._cwd = cwd
        self.processes: list[subprocess.Popen[bytes]] = []

    def _command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "pipeline.worker",
            "--workers",
            "1",
            "--lease",
            str(self.lease_seconds),
            "--poll",
            str(self.poll_seconds),
            "--grace",
            str(self.grace_seconds),
            "--media-root",
            str(self.media_root),
        ]
        if self._ports:
            cmd += ["--ports", self._ports]
        return cmd

    def start(self) -> None:
        env = {**os.environ, **self._env}
        if self._conninfo is not None:
            env["DATABASE_URL"] = self._conninfo
        for _ in range(self.n_workers - len(self.processes)):
            self.processes.append(subprocess.Popen(self._command(), env=env, cwd=self._cwd))

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def submit(self, job_id: UUID) -> None:
        pass

    def terminate(self) -> None:
        """Asks every worker to stop (SIGTERM): no new claims, the current job finishes or is released."""
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM, then wait (grace + 10 s by default); SIGKILL whatever is still running."""
        self.terminate()
        deadline = time.monotonic() + (self.grace_seconds + 10 if timeout is None else timeout)
        for proc in self.processes:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.processes.clear()

    def wait(self) -> None:
        """Blocks until every worker process has exited."""
        for proc in self.processes:
            proc.wait()

    def __enter__(self) -> LocalExecutor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
