"""SQL lives in pipeline/store/queries/<aggregate>/<name>.sql, each file used by a repository of
pipeline/store/ and named in its first line, and no module outside pipeline/store/ runs SQL."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipeline.store.queries import query

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "pipeline" / "store"
QUERIES = STORE / "queries"
# A query name as the repositories write it: "aggregate/name".
NAME = re.compile(r"""["']([a-z_]+/[a-z0-9_]+)["']""")


def _names() -> list[str]:
    return sorted(p.relative_to(QUERIES).with_suffix("").as_posix() for p in QUERIES.rglob("*.sql"))


def _store_source() -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted(STORE.glob("*.py")))


def test_query_files_are_grouped_by_aggregate() -> None:
    names = _names()
    assert names, "no query files found"
    assert [n for n in names if n.count("/") != 1] == []


@pytest.mark.parametrize("name", _names())
def test_each_query_file_starts_with_its_name_and_purpose(name: str) -> None:
    first = query(name).splitlines()[0]
    assert re.fullmatch(rf"-- {re.escape(name)}: \S.*", first), first


def test_every_query_file_is_loaded_by_a_repository() -> None:
    used = set(NAME.findall(_store_source()))
    assert [n for n in _names() if n not in used] == []


def test_every_query_a_repository_names_exists() -> None:
    used = set(NAME.findall(_store_source()))
    assert sorted(used - set(_names())) == []


def _runs_sql(path: Path) -> list[str]:
    """Where a module imports the query loader or calls ``query(...)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            names = {a.name for a in node.names}
            if node.module.startswith("pipeline.store.queries") or (
                node.module == "pipeline.store" and "queries" in names
            ):
                found.append(f"{path}:{node.lineno}: imports {node.module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pipeline.store.queries"):
                    found.append(f"{path}:{node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "query":
                found.append(f"{path}:{node.lineno}: calls query()")
    return found


def test_no_module_outside_the_store_runs_sql() -> None:
    modules = [
        p
        for folder in (ROOT / "pipeline", ROOT / "modal_app")
        for p in folder.rglob("*.py")
        if not p.is_relative_to(STORE)
    ]
    assert len(modules) > 50
    assert [where for p in modules for where in _runs_sql(p)] == []


def test_the_scan_finds_a_module_that_runs_sql(tmp_path: Path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text(
        "from pipeline.store.queries import query\n"
        "def f(conn):\n"
        "    conn.execute(query('jobs/get'))\n"
    )
    assert len(_runs_sql(offender)) == 2
