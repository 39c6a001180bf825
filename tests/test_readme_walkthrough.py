"""The README's service walkthrough, run as a new user would: its bash block as README.md has it
(only the port changed, so parallel test sessions do not collide), in a fresh home with no
REELFORGE_HOME and no DATABASE_URL, so the platform data folder and its embedded database are
created from nothing, up to a delivered MP4 probed with ffprobe."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.media.probe import probe

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
README_PORT = "8000"


def walkthrough(readme: str) -> str:
    """The bash block under ``## The service`` in ``readme``."""
    section = readme.partition("\n## The service\n")[2].partition("\n## ")[0]
    found = re.search(r"^```bash\n(.*?)^```$", section, flags=re.S | re.M)
    if found is None:
        raise AssertionError("README.md: no ```bash block under '## The service'")
    return found.group(1)


def _on_port(script: str, port: int) -> str:
    for documented in (f"--port {README_PORT}", f"localhost:{README_PORT}"):
        assert documented in script, f"README.md's walkthrough no longer uses {documented!r}"
    return script.replace(f"--port {README_PORT}", f"--port {port}").replace(
        f"localhost:{README_PORT}", f"localhost:{port}"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_gone(group: int, seconds: float = 60) -> None:
    """Waits until no process of ``group`` is left (serve stopping its database)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def _new_user_env(home: Path) -> dict[str, str]:
    """An ordinary shell's environment: the project's virtualenv on PATH (as after ``pip
    install``), a HOME of its own, nothing of reelforge's, the test runner's or XDG's."""
    venv_bin = str(Path(sys.executable).parent)
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PATH"] = os.pathsep.join([venv_bin, env.get("PATH", "/usr/bin:/bin")])
    env["HOME"] = str(home)
    return env


def test_the_readme_block_is_found_and_is_the_one_with_serve() -> None:
    script = walkthrough((ROOT / "README.md").read_text())
    assert script.startswith("reelforge serve --port 8000 &")
    assert "curl -s -o ad-9x16.mp4" in script
    with pytest.raises(AssertionError, match="no ```bash block"):
        walkthrough("# x\n\n## The service\n\ntext only\n\n## Next\n```bash\nls\n```\n")


def test_the_readme_walkthrough_delivers_an_mp4_in_a_fresh_home(
    isolated_home: Path, tmp_path: Path
) -> None:
    home = isolated_home / "newcomer"  # outside pytest's root: the database lives in it
    home.mkdir()
    work = tmp_path / "clone"  # what the README's relative paths need of a checkout
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    env = _new_user_env(home)
    assert not any(k.startswith("REELFORGE_") or k == "DATABASE_URL" for k in env)
    script = _on_port(walkthrough((ROOT / "README.md").read_text()), _free_port())
    # Stricter than a reader's shell: any failing command fails the test; then wait for serve.
    log_path = tmp_path / "walkthrough.log"
    with log_path.open("w") as log:
        shell = subprocess.Popen(
            ["bash", "-c", f"set -euo pipefail\n{script}\nwait\n"],
            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    started = time.monotonic()
    try:
        shell.wait(timeout=600)
    finally:
        # A command that failed leaves serve running in the shell's group: stop it (its workers
        # follow it, by their parent-death signal).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(shell.pid, signal.SIGTERM)
        if shell.returncode is None:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.wait()
        _wait_gone(shell.pid)
    out = log_path.read_text()
    elapsed = time.monotonic() - started
    assert shell.returncode == 0, out

    data = home / ".local" / "share" / "reelforge"  # the platform data folder, made fresh
    assert (data / "media").is_dir(), sorted(p.name for p in home.rglob("*"))[:40]
    assert '"state":"delivered"' in out.replace(" ", ""), out
    ad = work / "ad-9x16.mp4"
    info = probe(ad)
    assert (info.width, info.height) == (360, 640), info  # the 9:16 preview
    assert info.duration > 1 and info.audio_codec is not None, info
    print(f"\nREADME walkthrough: {elapsed:.0f} s, {ad.stat().st_size} bytes, {info}")
