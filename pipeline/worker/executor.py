"""Executors dispatch queued jobs: N local worker processes, or one Modal function call per job."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol
from uuid import UUID

from pipeline.worker.supervisor import Backoff, Death, Supervisor

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
    """N ``python -m pipeline.worker`` processes that claim jobs from PostgreSQL, supervised: one
    that dies is replaced after ``backoff`` (logged), its FFmpeg and eSpeak children die with it,
    and ``readiness`` says when fewer run than configured (:mod:`pipeline.worker.supervisor`).

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
        backoff: Backoff | None = None,
    ) -> None:
        if n_workers < 1:
            raise ValueError("n_workers must be at least 1")
        self.n_workers = n_workers
        self.media_root = media_root
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self._ports = ports
        children = {**os.environ, **(env or {})}
        if conninfo is not None:
            children["DATABASE_URL"] = conninfo
        self._pool = Supervisor(
            n_workers, self._command, env=children, cwd=cwd, backoff=backoff, name="render worker"
        )

    def _command(self, ready_fd: int) -> list[str]:
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
        return [*cmd, "--ready-fd", str(ready_fd), "--parent", str(os.getpid())]

    def start(self) -> None:
        self._pool.start()

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        """The worker processes running now."""
        return self._pool.processes

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    @property
    def deaths(self) -> list[Death]:
        """Every worker that died while the pool ran, oldest first."""
        return list(self._pool.deaths)

    def readiness(self) -> str | None:
        """None while every worker claims jobs, else how many do (for ``/ready``)."""
        return self._pool.shortfall()

    def submit(self, job_id: UUID) -> None:
        pass

    def terminate(self) -> None:
        """Asks every worker to stop (SIGTERM): no new claims, the current job finishes or is
        released; no worker is started again."""
        self._pool.terminate()

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM, then wait (grace + 10 s by default); SIGKILL whatever is still running."""
        self.terminate()
        if not self._pool.join(self.grace_seconds + 10 if timeout is None else timeout):
            self._pool.kill()
            self._pool.join()

    def wait(self) -> None:
        """Blocks until the pool has stopped (``terminate``) and every worker has exited."""
        self._pool.join()

    def __enter__(self) -> LocalExecutor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
