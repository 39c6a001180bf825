"""Keeps a pool of worker processes at strength: a worker that dies is logged and replaced after
a backoff, whatever it left running (FFmpeg, eSpeak's helper) dies with it, and the pool says how
many workers are up. The worker's side: report ready, and stop when the supervisor dies.

Each worker leads a process group of its own, which its FFmpeg and eSpeak children join. When a
worker dies, even by SIGKILL, the supervisor kills that group before reaping the worker (a
zombie's pid, and so its group id, cannot be reused), so nothing it started outlives it. A
worker asks the kernel for SIGTERM when the thread that started it ends (``PR_SET_PDEATHSIG``):
all of them are started by the supervisor's thread, which ends last.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Backoff", "Death", "Supervisor", "exit_reason", "follow_parent", "report_ready"]

_log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

# A worker's command line, given the pipe end it writes one byte on once it claims jobs.
Command = Callable[[int], Sequence[str]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long a dead worker's place stays empty: ``initial`` seconds after a first death,
    times ``factor`` for each further death in a row, at most ``maximum``. A worker that ran
    ``reset_after`` seconds before dying was healthy: its successor's count starts over."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0
    reset_after: float = 60.0

    def delay(self, deaths: int) -> float:
        """The wait after the ``deaths``-th death in a row (1, 2, ...)."""
        return min(self.maximum, self.initial * self.factor ** min(max(deaths - 1, 0), 64))


@dataclass(frozen=True, slots=True)
class Death:
    """A worker that died while the pool was running, and when its successor starts."""

    slot: int
    pid: int
    returncode: int  # negative: killed by that signal
    at: float  # time.monotonic() when it was found dead
    uptime: float  # seconds it ran
    in_a_row: int  # deaths of this slot in a row, this one included
    delay: float  # seconds until its successor starts


def exit_reason(returncode: int) -> str:
    """``exited with code 1`` or ``was killed by SIGKILL``, from a Popen return code."""
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    return f"was killed by {name}"


def report_ready(fd: int) -> None:
    """The worker's side: tell the supervisor (through the inherited pipe ``fd``) that this
    worker now claims jobs."""
    with contextlib.suppress(OSError):  # a supervisor gone since is not this worker's failure
        os.write(fd, b"1")
    os.close(fd)


def follow_parent(parent: int) -> None:
    """The worker's side: SIGTERM when the supervisor (``parent``) dies, as if it had been
    stopped; exit at once if it died before this process could ask."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        raise SystemExit(f"the supervisor (pid {parent}) is gone; not starting")


@dataclass
class _Slot:
    """One place in the pool: its current process, or when the next one starts."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    ready_fd: int | None = None
    ready: bool = False
    started: float = 0.0
    deaths: int = 0
    due: float = 0.0


def _exited(pid: int) -> bool:
    """Whether ``pid`` (our child) has exited, without reaping it."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


class Supervisor:
    """``size`` processes running ``command``, kept running until ``terminate`` or ``kill``.

    Every process is started, reaped and signalled by one thread under one lock, so a pid the
    pool signals is its own child, alive or a zombie, never a stranger that reused the number.
    """

    def __init__(
        self,
        size: int,
        command: Command,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        backoff: Backoff | None = None,
        tick: float = 0.1,
        name: str = "worker",
    ) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one process")
        self.size = size
        self.backoff = backoff or Backoff()
        self._command = command
        self._env = None if env is None else dict(env)
        self._cwd = cwd
        self._tick = tick
        self._name = name
        self._slots = [_Slot(i + 1) for i in range(size)]
        self._lock = threading.RLock()  # RLock: terminate() may run in a signal handler
        self._stopping = threading.Event()
        self._first_round = threading.Event()
        self._thread: threading.Thread | None = None
        self.deaths: list[Death] = []

    # -- what the pool looks like -------------------------------------------------------------

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        with self._lock:
            return [s.process for s in self._slots if s.process is not None]

    @property
    def running(self) -> int:
        """Processes that reported ready and have not died."""
        with self._lock:
            return sum(1 for s in self._slots if s.process is not None and s.ready)

    def shortfall(self) -> str | None:
        """None while every process runs, else how many do (for a readiness probe)."""
        running = self.running
        if running >= self.size and not self._stopping.is_set():
            return None
        return f"{running} of {self.size} {self._name}s are running"

    # -- starting and stopping ---------------------------------------------------------------

    def start(self) -> None:
        """Starts the supervising thread; returns once it has started every process."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"{self._name}-pool", daemon=True)
        self._thread.start()
        self._first_round.wait()

    def terminate(self) -> None:
        """No more restarts; SIGTERM to every process (safe from a signal handler)."""
        self._stopping.set()
        self._signal(signal.SIGTERM, group=False)

    def kill(self) -> None:
        """No more restarts; SIGKILL to every process and all it started."""
        self._stopping.set()
        self._signal(signal.SIGKILL, group=True)

    def join(self, timeout: float | None = None) -> bool:
        """Waits for the pool to end (after terminate or kill); True once it has."""
        thread = self._thread
        if thread is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        while thread.is_alive():  # in short waits, so signal handlers run meanwhile
            left = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            if left <= 0:
                return False
            thread.join(left)
        return True

    def _signal(self, signum: signal.Signals, *, group: bool) -> None:
        with self._lock:
            for slot in self._slots:
                if slot.process is not None:
                    with contextlib.suppress(ProcessLookupError):
                        (os.killpg if group else os.kill)(slot.process.pid, signum)

    # -- the supervising thread --------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                with self._lock:
                    for slot in self._slots:
                        self._tend(slot)
                    if self._stopping.is_set() and not any(s.process for s in self._slots):
                        return
                    fds = [s.ready_fd for s in self._slots if s.ready_fd is not None]
            except Exception:  # the pool must outlive any one surprise
                _log.exception("supervising the %ss failed; carrying on", self._name)
                fds = []
            finally:
                self._first_round.set()
            # A ready byte or a dead worker's end of the pipe wakes this at once.
            select.select(fds, [], [], self._tick)

    def _tend(self, slot: _Slot) -> None:
        if slot.process is None:
            if not self._stopping.is_set() and time.monotonic() >= slot.due:
                self._start(slot)
            return
        self._read_ready(slot)
        if _exited(slot.process.pid):
            self._reap(slot)

    def _spawn(self, ready_fd: int) -> subprocess.Popen[bytes]:
        # A process group of its own, which its children join: see the module's docstring.
        return subprocess.Popen(
            list(self._command(ready_fd)), env=self._env, cwd=self._cwd, pass_fds=(ready_fd,),
            process_group=0,
        )  # fmt: skip

    def _start(self, slot: _Slot) -> None:
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        try:
            process = self._spawn(write_fd)
        except OSError as exc:
            os.close(read_fd)
            self._schedule(slot, uptime=0.0)
            _log.error(
                "%s %d could not start: %s; trying again in %g s",
                self._name, slot.index, exc, slot.due - time.monotonic(),
            )  # fmt: skip
            return
        finally:
            os.close(write_fd)
        slot.process, slot.ready_fd, slot.ready = process, read_fd, False
        slot.started = time.monotonic()
        _log.info("%s %d started (pid %d)", self._name, slot.index, process.pid)

    def _read_ready(self, slot: _Slot) -> None:
        if slot.ready_fd is None:
            return
        try:
            data = os.read(slot.ready_fd, 16)
        except BlockingIOError:
            return
        if data:
            slot.ready = True
        else:  # the worker closed its end: it reported, or died
            os.close(slot.ready_fd)
            slot.ready_fd = None

    def _reap(self, slot: _Slot) -> None:
        process = slot.process
        assert process is not None
        # Before reaping: the zombie holds the group id, so this reaches only what it started.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        returncode = process.wait()
        if slot.ready_fd is not None:
            os.close(slot.ready_fd)
        uptime = time.monotonic() - slot.started
        slot.process, slot.ready_fd, slot.ready = None, None, False
        what = f"{self._name} {slot.index} (pid {process.pid}) {exit_reason(returncode)}"
        if self._stopping.is_set():
            _log.info("%s", what)
            return
        now = time.monotonic()
        self._schedule(slot, uptime=uptime)
        delay = slot.due - now
        self.deaths.append(
            Death(slot.index, process.pid, returncode, now, uptime, slot.deaths, delay)
        )
        _log.warning(
            "%s after %.1f s; a new one starts in %g s (%d in a row)",
            what, uptime, round(delay, 1), slot.deaths,
        )  # fmt: skip

    def _schedule(self, slot: _Slot, *, uptime: float) -> None:
        if uptime >= self.backoff.reset_after:
            slot.deaths = 0
        slot.deaths += 1
        slot.due = time.monotonic() + self.backoff.delay(slot.deaths)
