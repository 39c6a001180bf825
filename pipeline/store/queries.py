"""SQL queries stored as package files (``queries/<aggregate>/<name>.sql``), loaded by name, and
the few ways the repositories run them. Only modules of ``pipeline.store`` import this."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel

from pipeline.store.errors import StoreError, from_driver

__all__ = ["execute", "fetch", "fetch_dicts", "first", "one", "query", "scalar", "values"]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@functools.cache
def query(name: str) -> str:
    """The text of ``queries/<name>.sql``; ``name`` is ``aggregate/query`` (``"jobs/get"``)."""
    *folders, file = name.split("/")
    path = resources.files("pipeline.store").joinpath("queries")
    for folder in folders:
        path = path.joinpath(folder)
    return path.joinpath(f"{file}.sql").read_text("utf-8")


@contextmanager
def _mapped() -> Iterator[None]:
    """Driver errors become the store's, even inside a caller's transaction."""
    try:
        yield
    except psycopg.Error as exc:
        raise from_driver(exc) from exc


def fetch(
    conn: psycopg.Connection[Any], name: str, params: Mapping[str, Any], model: type[M]
) -> list[M]:
    """Runs the named query in ``conn`` and validates each row into ``model``."""
    with _mapped(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query(name), params)
        rows = cur.fetchall()
    return [model.model_validate(row) for row in rows]


def fetch_dicts(
    conn: psycopg.Connection[Any], name: str, params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Runs the named query in ``conn``; its rows as dicts by column name."""
    with _mapped(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query(name), params)
        return cur.fetchall()


def execute(conn: psycopg.Connection[Any], name: str, params: Mapping[str, Any]) -> int:
    """Runs the named statement in ``conn``; how many rows it touched."""
    with _mapped():
        return conn.execute(query(name), params).rowcount


def values(conn: psycopg.Connection[Any], name: str, params: Mapping[str, Any]) -> list[Any]:
    """Runs the named query in ``conn``; the first column of every row (none for a statement)."""
    with _mapped():
        cur = conn.execute(query(name), params)
        return [row[0] for row in cur.fetchall()] if cur.description else []


def first(
    conn: psycopg.Connection[Any], name: str, params: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """Runs the named query in ``conn``; its first row, or None."""
    with _mapped():
        row: tuple[Any, ...] | None = conn.execute(query(name), params).fetchone()
        return row


def scalar(conn: psycopg.Connection[Any], name: str, params: Mapping[str, Any]) -> Any:
    """Runs the named query in ``conn``; the first column of its first row, or None."""
    row = first(conn, name, params)
    return None if row is None else row[0]


def one(rows: list[T], what: str) -> T:
    """The single row a query must return; StoreError otherwise."""
    if len(rows) != 1:
        raise StoreError(f"{what} returned {len(rows)} rows instead of 1")
    return rows[0]
