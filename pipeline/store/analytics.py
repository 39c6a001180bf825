"""The analytics repository: creatives recorded with their renders, imported performance rows
and the imports that wrote them, and what each creative's job cost. Tenants' reads and imports
run as the user, so row-level security applies.

Performance rows are handed over as mappings of ``pipeline.analytics.model.PerformanceRow``'s
fields: that model belongs to the analytics package, which validates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from typing import Any, Literal, Protocol
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.creative import CreativeAttributes
from pipeline.store.database import Connection, Store
from pipeline.store.models import AssetCost, StoredCreative
from pipeline.store.queries import execute, fetch, fetch_dicts, first, values

__all__ = [
    "Analytics",
    "AnalyticsRepository",
    "ImportOutcome",
    "PerformanceImport",
    "PerformanceImportSession",
]

Row = dict[str, Any]
# What upserting one performance row did: a new key, new numbers for a known key, or nothing.
ImportOutcome = Literal["inserted", "updated", "unchanged"]


class PerformanceImportSession(Protocol):
    """One user's import, inside one transaction that holds the user's import lock."""

    def known_creatives(self, ids: Sequence[str]) -> set[str]: ...
    def stored_periods(
        self, *, ids: Sequence[str], sources: Sequence[str], since: date, until: date
    ) -> list[Row]: ...
    def upsert(self, row: Mapping[str, Any], *, import_id: UUID) -> ImportOutcome: ...
    def record(self, *, import_id: UUID, summary: Mapping[str, Any]) -> None: ...


class AnalyticsRepository(Protocol):
    """Creatives, performance rows, imports and asset costs."""

    def record_creatives(
        self,
        conn: Connection | None = None,
        *,
        user_id: UUID,
        job_id: UUID | None,
        project_id: UUID | None,
        creatives: Iterable[CreativeAttributes],
        preview: bool = False,
    ) -> int: ...
    def creatives(self, *, user_id: UUID) -> list[StoredCreative]: ...
    def performance(self, *, user_id: UUID) -> list[Row]: ...
    def dataset(self, *, user_id: UUID) -> tuple[list[CreativeAttributes], list[Row]]: ...
    def asset_costs(self, *, user_id: UUID) -> list[AssetCost]: ...
    def importing(self, *, user_id: UUID) -> AbstractContextManager[PerformanceImportSession]: ...


class PerformanceImport:
    """An import in progress: ``conn`` is a transaction as the user holding the import lock."""

    def __init__(self, conn: Connection, user_id: UUID) -> None:
        self._conn = conn
        self._user_id = user_id

    def known_creatives(self, ids: Sequence[str]) -> set[str]:
        """Which of these creative ids the user has."""
        return set(values(self._conn, "analytics/creatives_known", {"ids": list(ids)}))

    def stored_periods(
        self, *, ids: Sequence[str], sources: Sequence[str], since: date, until: date
    ) -> list[Row]:
        """The stored rows of these creatives from these sources touching ``since..until``:
        creative_id, source, ad_key, period_start, period_end, placement, currency."""
        params = {"ids": list(ids), "sources": list(sources), "since": since, "until": until}
        return fetch_dicts(self._conn, "analytics/performance_periods", params)

    def upsert(self, row: Mapping[str, Any], *, import_id: UUID) -> ImportOutcome:
        """Writes one performance row (PerformanceRow's fields) under its key; what it did."""
        params = {**row, "user_id": self._user_id, "import_id": import_id}
        found = first(self._conn, "analytics/performance_upsert", params)
        if found is None:
            return "unchanged"
        return "inserted" if found[0] else "updated"

    def record(self, *, import_id: UUID, summary: Mapping[str, Any]) -> None:
        """Records what the import did: source, file_name, file_hash, rows_read, imported,
        updated, unchanged, unmatched and unmatched_rows (a JSON list)."""
        params = {**summary, "id": import_id, "user_id": self._user_id}
        params["unmatched_rows"] = Jsonb(params["unmatched_rows"])
        execute(self._conn, "analytics/import_insert", params)


class Analytics:
    """The analytics repository on PostgreSQL."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record_creatives(
        self,
        conn: Connection | None = None,
        *,
        user_id: UUID,
        job_id: UUID | None,
        project_id: UUID | None,
        creatives: Iterable[CreativeAttributes],
        preview: bool = False,
    ) -> int:
        """Upserts the creatives in the caller's transaction ``conn`` (else a service one);
        returns how many were written.

        A creative's job is what its production cost is read from: the latest final render's.
        A ``preview`` render is a draft, not the ad that runs: it links a creative to its job
        only when the creative has none yet, and never takes the link from a final render.
        """
        count = 0
        with self._store.service(conn) as tx:
            for creative in creatives:
                params = {
                    **creative.model_dump(),
                    "user_id": user_id,
                    "job_id": job_id,
                    "project_id": project_id,
                    "preview": preview,
                }
                execute(tx, "analytics/creative_upsert", params)
                count += 1
        return count

    def creatives(self, *, user_id: UUID) -> list[StoredCreative]:
        """The user's creatives, newest first."""
        with self._store.as_user(user_id) as conn:
            return fetch(conn, "analytics/creatives_list", {}, StoredCreative)

    def performance(self, *, user_id: UUID) -> list[Row]:
        """The user's imported performance rows, by creative and period."""
        with self._store.as_user(user_id) as conn:
            return fetch_dicts(conn, "analytics/performance_list", {})

    def dataset(self, *, user_id: UUID) -> tuple[list[CreativeAttributes], list[Row]]:
        """The user's creatives (the attributes reports compare) and all their imported rows,
        read in one transaction."""
        params = {"user_id": user_id}
        with self._store.as_user(user_id) as conn:
            creatives = fetch(conn, "analytics/report_creatives", params, CreativeAttributes)
            rows = fetch_dicts(conn, "analytics/report_rows", params)
        return creatives, rows

    def asset_costs(self, *, user_id: UUID) -> list[AssetCost]:
        """Every creative of the user with its job's settled credits and output lengths."""
        with self._store.as_user(user_id) as conn:
            return fetch(conn, "analytics/costs", {"user_id": user_id}, AssetCost)

    @contextmanager
    def importing(self, *, user_id: UUID) -> Iterator[PerformanceImport]:
        """One import as the user, in one transaction (every row or none), one at a time per
        user: two at once could each miss the other's rows when checking for overlaps."""
        with self._store.as_user(user_id) as conn:
            execute(conn, "analytics/import_lock", {"user_id": user_id})
            yield PerformanceImport(conn, user_id)
