"""The parent's side of the harness: a "cloud" of reelforge's Modal functions run as processes.

Each call of a function runs ``tests.modal_harness.runner`` in a fresh process whose environment
holds only what Modal would give the container: the image's variables and the secrets the
function is declared with (read from ``Function.info().secrets``), with a private HOME and TMPDIR.
``spawn``, ``map`` and ``remote`` inside a child go through the same harness, so a render_job
spawns render_media_call, which maps generate_scene and compose_format, each in its own process.
A ``map`` runs its inputs in up to ``max_containers`` processes, each taking several inputs one
after another, as Modal reuses a warm container.
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONFIG_ENV = "REELFORGE_MODAL_HARNESS"  # the harness's own plumbing, not a reelforge setting
IMAGE_ENV = {"REELFORGE_HOME": "reelforge"}  # modal_app.app's image.env, under the container
_PASSED = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "COVERAGE_PROCESS_START")


class RemoteFailure(Exception):
    """A function raised something that could not come back pickled."""


@dataclass(frozen=True)
class Cloud:
    root: Path
    secrets: dict[str, dict[str, str]]  # Modal secret name → its variables
    max_containers: int = 4
    calls: list[str] = field(default_factory=list, compare=False)  # "function" per process
    # host → base URL: a provider's API as a test serves it on this machine (every container's
    # HTTP requests to ``host`` go there instead; see runner.route)
    routes: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "harness.json"

    def save(self) -> Cloud:
        self.root.mkdir(parents=True, exist_ok=True)
        data = {
            "root": str(self.root), "secrets": self.secrets, "max": self.max_containers,
            "routes": self.routes,
        }  # fmt: skip
        self.config.write_text(json.dumps(data), encoding="utf-8")
        return self

    @classmethod
    def load(cls, path: Path) -> Cloud:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(Path(data["root"]), data["secrets"], data["max"], routes=data["routes"])

    def secret_names(self, function: str) -> list[str]:
        import modal_app.app as modal_app

        declared = getattr(modal_app, function).info().secrets
        return re.findall(r"from_name\('([^']+)'\)", " ".join(declared))

    def environment(self, function: str, container: Path) -> dict[str, str]:
        """What a container of ``function`` sees: nothing from this process but PATH and the
        locale, the image's variables, its own secrets."""
        env = {k: os.environ[k] for k in _PASSED if k in os.environ}
        env |= {
            "HOME": str(container), "TMPDIR": str(container / "tmp"), "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1", CONFIG_ENV: str(self.config),
        }  # fmt: skip
        env |= {k: str(container / v) for k, v in IMAGE_ENV.items()}
        for name in self.secret_names(function):
            env |= self.secrets[name]
        return env

    def _container(self, function: str) -> Path:
        container = self.root / "containers" / f"{function}-{uuid.uuid4().hex[:8]}"
        (container / "tmp").mkdir(parents=True)
        return container

    def launch(self, function: str, inputs: Sequence[tuple[Any, ...]]) -> Container:
        """One container running ``function`` on each input in turn."""
        container = self._container(function)
        (container / "inputs.pkl").write_bytes(pickle.dumps((function, list(inputs))))
        log = (container / "log.txt").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.modal_harness.runner", str(container)],
            cwd=container, env=self.environment(function, container), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        (self.root / "pids").mkdir(exist_ok=True)
        (self.root / "pids" / str(process.pid)).write_text(function, encoding="utf-8")
        return Container(function, container, process)

    def call(self, function: str, *args: Any) -> Any:
        """``function.remote(*args)``."""
        return self.launch(function, [args]).results()[0]

    def spawn(self, function: str, *args: Any) -> Container:
        """``function.spawn(*args)``: the handle's ``get(timeout)`` and ``cancel()``."""
        return self.launch(function, [args])

    def map(self, function: str, inputs: Sequence[Any]) -> Iterator[Any]:
        """``function.map(inputs)``: results in input order; the first failure raises."""
        items = list(inputs)
        count = min(self.max_containers, len(items)) or 1
        shares = [list(range(i, len(items), count)) for i in range(count)]
        containers = [self.launch(function, [(items[i],) for i in share]) for share in shares]
        results: dict[int, Any] = {}
        for share, container in zip(shares, containers, strict=True):
            results |= dict(zip(share, container.results(), strict=True))
        return iter([results[i] for i in range(len(items))])

    def kill_all(self) -> None:
        for pid_file in (self.root / "pids").glob("*"):
            with _quiet():
                os.killpg(int(pid_file.name), signal.SIGKILL)

    def logs(self, function: str) -> str:
        parts = sorted((self.root / "containers").glob(f"{function}-*/log.txt"))
        return "\n".join(f"--- {p.parent.name}\n{p.read_text(errors='replace')}" for p in parts)


@dataclass
class Container:
    function: str
    folder: Path
    process: subprocess.Popen[bytes]

    def get(self, timeout: float | None = None) -> Any:
        """The one result, as ``FunctionCall.get``: TimeoutError while it runs."""
        return self.results(timeout)[0]

    def results(self, timeout: float | None = None) -> list[Any]:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{self.function} is still running") from None
        outcome = self.folder / "outputs.pkl"
        if not outcome.is_file():
            log = (self.folder / "log.txt").read_text(errors="replace")
            raise RemoteFailure(f"{self.function} exited {self.process.returncode}:\n{log}")
        values: list[tuple[str, Any]] = pickle.loads(outcome.read_bytes())
        for kind, value in values:
            if kind == "error":
                raise value
        return [value for _, value in values]

    def cancel(self) -> None:
        with _quiet():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def _quiet() -> suppress[ProcessLookupError | PermissionError]:
    return suppress(ProcessLookupError, PermissionError)


def wait_for(predicate: Any, *, timeout: float, what: str, every: float = 0.2) -> Any:
    """``predicate()``'s first truthy value, polled until ``timeout``."""
    deadline = time.monotonic() + timeout
    for _ in itertools.count():
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
    raise AssertionError("unreachable")


@contextmanager
def serving_web(cloud: Cloud, port: int) -> Iterator[str]:
    """The ``web`` function's app on ``port`` in its own container, until the block ends."""
    import httpx

    container = cloud._container("web")
    log = (container / "log.txt").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.modal_harness.runner", "serve", str(port)],
        cwd=container, env=cloud.environment("web", container), stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            raise RemoteFailure((container / "log.txt").read_text(errors="replace"))
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, timeout=60, what="the web function to serve")
        yield url
    finally:
        with _quiet():
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
