"""The house rules a newcomer can rely on (docs/architecture.md): every module has a layer, the
layers hold (import-linter, run by the test command), functions are short enough to read at
once, and only entry points read the environment or construct the settings."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "pipeline", ROOT / "modal_app"]
MAX_FUNCTION_LINES = 80
# The entry points: they build the one Settings from the environment and hand it down.
ENTRY_POINTS = ("pipeline/cli/", "pipeline/serve.py", "pipeline/worker/__main__.py", "modal_app/")
# Reads of the environment: the settings themselves, and the worker pool handing its own
# environment to the worker processes it starts.
ENVIRONMENT_READERS = ("pipeline/settings.py", "pipeline/worker/executor.py")


def _contract(contract_id: str) -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    found: dict[str, object] = next(c for c in contracts if c["id"] == contract_id)
    return found


def _python_files() -> Iterator[tuple[str, ast.Module]]:
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            yield rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)


def test_every_module_of_the_house_has_exactly_one_layer() -> None:
    layers = _contract("layers")["layers"]
    assert isinstance(layers, list)
    named = [m.strip() for layer in layers for m in re.split(r"[|:]", layer)]
    assert len(named) == len(set(named)), "a module is in two layers"
    children = {"modal_app"}
    for child in (ROOT / "pipeline").iterdir():
        if child.name.startswith(("_", ".")) and child.name != "__main__.py":
            continue
        if child.suffix == ".py" or (child.is_dir() and (child / "__init__.py").is_file()):
            children.add(f"pipeline.{child.name.removesuffix('.py')}")
    assert children == set(named)


def test_the_layers_and_acyclic_contracts_are_kept_with_no_exceptions() -> None:
    for contract_id in ("layers", "acyclic"):
        assert "ignore_imports" not in _contract(contract_id)
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed in this environment (pip install -e .[dev])")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 kept, 0 broken" in done.stdout


def test_no_function_is_longer_than_can_be_read_at_once() -> None:
    long = [
        f"{rel}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for rel, tree in _python_files()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def _calls(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield ast.unparse(node.func)


def test_only_entry_points_build_the_settings_from_the_environment() -> None:
    builders = [
        rel
        for rel, tree in _python_files()
        if any(call == "Settings.from_env" for call in _calls(tree))
        and not rel.startswith(ENTRY_POINTS)
    ]
    assert builders == []


def test_only_the_settings_read_the_environment() -> None:
    readers = []
    for rel, tree in _python_files():
        for node in ast.walk(tree):
            text = ast.unparse(node) if isinstance(node, ast.Attribute | ast.Call) else ""
            if re.fullmatch(r"os\.(environ|getenv)(\.get)?|os\.getenv\(.*\)", text):
                readers.append(f"{rel}:{getattr(node, 'lineno', 0)}")
    assert sorted({r.split(":")[0] for r in readers}) == sorted(ENVIRONMENT_READERS)


def test_only_the_composition_root_builds_adapters_from_settings() -> None:
    outside = [
        f"{rel}: {call}"
        for rel, tree in _python_files()
        for call in _calls(tree)
        if call.endswith(("build_ports", "from_settings"))
        and not rel.startswith(("pipeline/wiring/", "pipeline/providers/", *ENTRY_POINTS))
    ]
    assert outside == []
