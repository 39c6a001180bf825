"""Splits a SQL script into statements the way the Supabase CLI does before it runs a
migration and records it in ``supabase_migrations.schema_migrations.statements``: on ``;``
outside quotes, dollar quotes, comments and parentheses; each statement trimmed, its trailing
``;`` removed, comments before it kept, empty ones dropped."""

from __future__ import annotations

import re

__all__ = ["split_statements", "strip_comments"]

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def _skip_quoted(sql: str, i: int, quote: str) -> int:
    """The index after the quoted string opening at ``i`` ('' or "" inside are escaped)."""
    i += 1
    while i < len(sql):
        if sql[i] == quote:
            if sql.startswith(quote, i + 1):
                i += 2
                continue
            return i + 1
        i += 1
    return i


def _skip_block_comment(sql: str, i: int) -> int:
    """The index after the (possibly nested) block comment opening at ``i``."""
    depth, i = 1, i + 2
    while i < len(sql) and depth:
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
        else:
            i += 1
    return i


def _skip(sql: str, i: int) -> int | None:
    """The index after a literal or comment starting at ``i``, or None if none starts there."""
    char = sql[i]
    if char in "'\"":
        return _skip_quoted(sql, i, char)
    if sql.startswith("--", i):
        end = sql.find("\n", i)
        return len(sql) if end < 0 else end + 1
    if sql.startswith("/*", i):
        return _skip_block_comment(sql, i)
    if char == "$" and (tag := _DOLLAR_TAG.match(sql, i)):
        end = sql.find(tag.group(0), tag.end())
        return len(sql) if end < 0 else end + len(tag.group(0))
    return None


def split_statements(sql: str) -> list[str]:
    """The statements of ``sql`` in order, as the Supabase CLI records them."""
    statements: list[str] = []
    start = depth = i = 0
    while i < len(sql):
        skipped = _skip(sql, i)
        if skipped is not None:
            i = skipped
            continue
        char = sql[i]
        depth += {"(": 1, ")": -1}.get(char, 0)
        i += 1
        if char == ";" and depth <= 0:
            statements.append(sql[start:i])
            start = i
    statements.append(sql[start:])
    trimmed = (s.rstrip(";").strip() for s in statements)
    return [s for s in trimmed if s]


def strip_comments(statement: str) -> str:
    """The statement without its comments and with runs of whitespace collapsed: what two
    copies of a migration must agree on whatever their comments say."""
    parts: list[str] = []
    i = 0
    while i < len(statement):
        skipped = _skip(statement, i)
        if skipped is None:
            parts.append(statement[i])
            i += 1
            continue
        chunk = statement[i:skipped]
        parts.append(" " if chunk.startswith(("--", "/*")) else chunk)
        i = skipped
    return " ".join("".join(parts).split())
