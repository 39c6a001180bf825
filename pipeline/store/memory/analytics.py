"""The analytics repository in memory: a user's creatives, their imported performance rows
(an import commits whole or not at all) and what each creative cost."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from pipeline.creative import CreativeAttributes
from pipeline.store.analytics import ImportOutcome
from pipeline.store.memory.state import (
    FORMAT,
    URL,
    CreativeRow,
    Row,
    State,
    check,
    foreign_key,
    job_of,
    jsonb,
    project_of,
)
from pipeline.store.models import AssetCost, HoldStatus, StoredCreative

__all__ = ["MemoryAnalytics"]

_SOURCES = frozenset({"meta_csv", "google_csv", "meta_api", "google_api"})
_PERFORMANCE_COLUMNS = (
    "source", "creative_id", "ad_key", "ad_name", "period_start", "period_end", "placement",
    "currency", "impressions", "clicks", "spend", "purchases", "revenue", "video_3s_plays",
    "thruplays",
)  # fmt: skip
_PERFORMANCE_VALUES = (
    "ad_name", "currency", "impressions", "clicks", "spend", "purchases", "revenue",
    "video_3s_plays", "thruplays",
)  # fmt: skip


def _performance_row(st: State, user_id: UUID, row: Mapping[str, Any], import_id: UUID) -> Row:
    """One ad_performance row as PostgreSQL stores it, after its checks and the creative's
    foreign key."""
    table = "ad_performance"
    stored: Row = {name: row[name] for name in _PERFORMANCE_COLUMNS}
    for name in ("period_start", "period_end"):
        if isinstance(stored[name], str):
            stored[name] = date.fromisoformat(stored[name])
    for name in ("spend", "revenue"):
        stored[name] = Decimal(str(stored[name]))
    check(stored["source"] in _SOURCES, table, "ad_performance_source_check")
    check(stored["period_end"] >= stored["period_start"], table, "ad_performance_check")
    ok = re.fullmatch(r"[A-Z]{3}", stored["currency"]) is not None
    check(ok, table, "ad_performance_currency_check")
    for name in ("impressions", "clicks", "spend", "purchases", "revenue"):
        check(stored[name] >= 0, table, f"ad_performance_{name}check")
    for name in ("video_3s_plays", "thruplays"):
        check(stored[name] is None or stored[name] >= 0, table, f"ad_performance_{name}check")
    ok = (user_id, stored["creative_id"]) in st.creatives
    foreign_key(ok, table, "ad_performance_user_id_creative_id_fkey")
    return {**stored, "user_id": user_id, "import_id": import_id}


def _performance_key(user_id: UUID, row: Mapping[str, Any]) -> tuple[Any, ...]:
    names = ("source", "creative_id", "ad_key", "period_start", "period_end", "placement")
    return (user_id, *(row[n] for n in names))


class _MemoryImport:
    """An import in progress: its writes are kept apart until the block ends (all or none)."""

    def __init__(self, st: State, user_id: UUID) -> None:
        self._st = st
        self._user_id = user_id
        with st.lock:
            self.rows = {k: dict(v) for k, v in st.performance.items() if k[0] == user_id}
        self.imports: dict[UUID, Row] = {}

    def known_creatives(self, ids: Sequence[str]) -> set[str]:
        """Which of these creative ids the user has."""
        with self._st.lock:
            return {i for i in ids if (self._user_id, i) in self._st.creatives}

    def stored_periods(
        self, *, ids: Sequence[str], sources: Sequence[str], since: date, until: date
    ) -> list[Row]:
        """The user's rows of these creatives and sources touching ``since..until``."""
        names = ("creative_id", "source", "ad_key", "period_start", "period_end", "placement")
        return [
            {n: row[n] for n in (*names, "currency")}
            for row in self.rows.values()
            if row["creative_id"] in ids
            and row["source"] in sources
            and row["period_start"] <= until
            and row["period_end"] >= since
        ]

    def upsert(self, row: Mapping[str, Any], *, import_id: UUID) -> ImportOutcome:
        """Inserts a new key, replaces changed numbers, leaves an identical row alone."""
        with self._st.lock:
            new = _performance_row(self._st, self._user_id, row, import_id)
        key = _performance_key(self._user_id, new)
        old = self.rows.get(key)
        if old is None:
            self.rows[key] = {**new, "imported_at": self._st.now()}
            return "inserted"
        if all(old[n] == new[n] for n in _PERFORMANCE_VALUES):
            return "unchanged"
        self.rows[key] = {**old, **new, "imported_at": self._st.now()}
        return "updated"

    def record(self, *, import_id: UUID, summary: Mapping[str, Any]) -> None:
        """Records what the import did."""
        table = "analytics_imports"
        check(summary["source"] in _SOURCES, table, "analytics_imports_source_check")
        ok = re.fullmatch(r"[0-9a-f]{64}", summary["file_hash"]) is not None
        check(ok, table, "analytics_imports_file_hash_check")
        check(len(summary["file_name"]) <= 300, table, "analytics_imports_file_name_check")
        for name in ("rows_read", "imported", "updated", "unchanged", "unmatched"):
            check(summary[name] >= 0, table, f"analytics_imports_{name}check")
        self.imports[import_id] = {
            **summary,
            "id": import_id,
            "user_id": self._user_id,
            "unmatched_rows": jsonb(summary["unmatched_rows"]),
            "created_at": self._st.now(),
        }

    def commit(self) -> None:
        """The deferred foreign key to the import's record, then every write at once."""
        with self._st.lock:
            known = self._st.imports.keys() | self.imports.keys()
            ok = all(r["import_id"] is None or r["import_id"] in known for r in self.rows.values())
            foreign_key(ok, "ad_performance", "ad_performance_import_id_user_id_fkey")
            for key in [k for k in self._st.performance if k[0] == self._user_id]:
                del self._st.performance[key]
            self._st.performance.update(self.rows)
            self._st.imports.update(self.imports)


class MemoryAnalytics:
    """The analytics repository in memory; a user sees only their own creatives and rows."""

    def __init__(self, st: State) -> None:
        self._st = st

    def record_creatives(
        self,
        conn: object = None,
        *,
        user_id: UUID,
        job_id: UUID | None,
        project_id: UUID | None,
        creatives: Iterable[CreativeAttributes],
        preview: bool = False,
    ) -> int:
        """Upserts the creatives (``conn`` is ignored); a preview links a creative to its job
        only when it has none. How many were written."""
        creatives = list(creatives)
        with self._st.lock:
            # One transaction in PostgreSQL: every check passes before anything is written.
            self.creative_checks(user_id, job_id, project_id, creatives)
            for creative in creatives:
                self._upsert(user_id, job_id, project_id, creative, preview)
        return len(creatives)

    def creative_checks(
        self,
        user_id: UUID,
        job_id: UUID | None,
        project_id: UUID | None,
        creatives: Sequence[CreativeAttributes],
    ) -> None:
        """The creatives table's checks and foreign keys, for every creative."""
        table = "creatives"
        for creative in creatives:
            check(creative.duration_s > 0, table, "creatives_duration_s_check")
            ok = FORMAT.fullmatch(creative.format) is not None
            check(ok, table, "creatives_format_check")
            check(creative.script_option >= 1, table, "creatives_script_option_check")
            ok = URL.match(creative.landing_url) is not None
            check(ok, table, "creatives_landing_url_check")
            check(creative.creative_id in creative.ad_name, table, "creatives_check")
            foreign_key(user_id in self._st.users, table, "creatives_user_id_fkey")
            ok = job_of(self._st, job_id, user_id)
            foreign_key(ok, table, "creatives_job_id_user_id_fkey")
            ok = project_of(self._st, project_id, user_id)
            foreign_key(ok, table, "creatives_project_id_user_id_fkey")

    def _upsert(
        self,
        user_id: UUID,
        job_id: UUID | None,
        project_id: UUID | None,
        creative: CreativeAttributes,
        preview: bool,
    ) -> None:
        key = (user_id, creative.creative_id)
        old = self._st.creatives.get(key)
        if old is None:
            self._st.creatives[key] = CreativeRow(creative, job_id, project_id, self._st.now())
            return
        if preview:
            old.job_id = old.job_id if old.job_id is not None else job_id
        else:
            old.job_id = job_id if job_id is not None else old.job_id
        old.project_id = project_id if project_id is not None else old.project_id
        old.attributes = creative

    def _mine(self, user_id: UUID) -> list[CreativeRow]:
        return [c for (owner, _), c in self._st.creatives.items() if owner == user_id]

    def creatives(self, *, user_id: UUID) -> list[StoredCreative]:
        """The user's creatives, newest first."""
        with self._st.lock:
            mine = self._mine(user_id)
        mine.sort(key=lambda c: c.attributes.creative_id)
        mine.sort(key=lambda c: c.created_at, reverse=True)
        return [
            StoredCreative(
                **c.attributes.model_dump(),
                job_id=c.job_id,
                project_id=c.project_id,
                created_at=c.created_at,
            )
            for c in mine
        ]

    def _rows(self, user_id: UUID, order: Sequence[str]) -> list[Row]:
        with self._st.lock:
            mine = [r for k, r in self._st.performance.items() if k[0] == user_id]
        mine.sort(key=lambda r: tuple(r[n] for n in order))
        return [{n: r[n] for n in _PERFORMANCE_COLUMNS} for r in mine]

    def performance(self, *, user_id: UUID) -> list[Row]:
        """The user's imported rows, by creative and period."""
        order = ("creative_id", "period_start", "period_end", "source", "ad_key", "placement")
        return self._rows(user_id, order)

    def dataset(self, *, user_id: UUID) -> tuple[list[CreativeAttributes], list[Row]]:
        """The user's creatives by id and all their imported rows."""
        with self._st.lock:
            creatives = [c.attributes for c in self._mine(user_id)]
            order = ("creative_id", "period_start", "source", "ad_key", "placement")
            rows = self._rows(user_id, order)
        return sorted(creatives, key=lambda c: c.creative_id), rows

    def asset_costs(self, *, user_id: UUID) -> list[AssetCost]:
        """Each creative of the user with its job's settled credits and output lengths."""
        with self._st.lock:
            mine = sorted(
                self._mine(user_id), key=lambda c: (c.attributes.template, c.attributes.creative_id)
            )
            return [self._cost(user_id, c) for c in mine]

    def _cost(self, user_id: UUID, creative: CreativeRow) -> AssetCost:
        job_id = creative.job_id
        settled = [
            h.settled_amount
            for h in self._st.holds.values()
            if h.job_id == job_id and h.user_id == user_id and h.status == HoldStatus.SETTLED
        ]
        renders = sorted(
            (r.render for r in self._st.renders if r.job_id == job_id and r.user_id == user_id),
            key=lambda r: r.format,
        )
        same = [r.duration_s for r in renders if r.format == creative.attributes.format]
        return AssetCost(
            creative_id=creative.attributes.creative_id,
            template=creative.attributes.template,
            job_id=job_id,
            job_credits=sum(s or 0 for s in settled) if settled else None,
            duration_s=same[0] if same else None,
            job_durations=tuple(r.duration_s for r in renders),
        )

    @contextmanager
    def importing(self, *, user_id: UUID) -> Iterator[_MemoryImport]:
        """One import at a time per user, committed whole when the block ends without error."""
        with self._st.lock:
            user_lock = self._st.import_locks.setdefault(user_id, threading.Lock())
        with user_lock:
            session = _MemoryImport(self._st, user_id)
            yield session
            session.commit()
