"""Writing synthetic analytics data into a test database: creatives and their performance rows,
and render jobs with outputs and settled credit holds for cost per asset."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from pipeline.analytics.model import PerformanceRow
from pipeline.creative import CreativeAttributes
from pipeline.store import Store
from pipeline.store.credits import Credits

__all__ = ["insert_creatives", "insert_job", "insert_rows"]

_CREATIVE_COLUMNS = (
    "creative_id", "sku", "product", "template", "duration_s", "duration_bucket",
    "palette_colour", "voice", "caption_style", "hook", "format", "script_option", "ad_name",
    "landing_url",
)  # fmt: skip
_ROW_COLUMNS = (
    "source", "creative_id", "ad_key", "ad_name", "period_start", "period_end", "placement",
    "currency",
    "impressions", "clicks", "spend", "purchases", "revenue", "video_3s_plays", "thruplays",
)  # fmt: skip


def insert_creatives(
    store: Store,
    user_id: uuid.UUID,
    creatives: Sequence[CreativeAttributes],
    jobs: dict[str, uuid.UUID] | None = None,
) -> None:
    """The creatives, each linked to ``jobs[creative_id]`` when given."""
    jobs = jobs or {}
    columns = ", ".join(("user_id", "job_id", *_CREATIVE_COLUMNS))
    marks = ", ".join(["%s"] * (len(_CREATIVE_COLUMNS) + 2))
    with store.as_service() as conn, conn.cursor() as cur:
        cur.executemany(
            f"insert into public.creatives ({columns}) values ({marks})",
            [
                (user_id, jobs.get(c.creative_id), *(getattr(c, k) for k in _CREATIVE_COLUMNS))
                for c in creatives
            ],
        )


def insert_rows(store: Store, user_id: uuid.UUID, rows: Sequence[PerformanceRow]) -> None:
    columns = ", ".join(("user_id", *_ROW_COLUMNS))
    marks = ", ".join(["%s"] * (len(_ROW_COLUMNS) + 1))
    with store.as_service() as conn, conn.cursor() as cur:
        cur.executemany(
            f"insert into public.ad_performance ({columns}) values ({marks})",
            [(user_id, *(getattr(r, k) for k in _ROW_COLUMNS)) for r in rows],
        )


def insert_job(
    store: Store,
    user_id: uuid.UUID,
    outputs: dict[str, float],
    *,
    hold: int,
    settled: int | None,
) -> uuid.UUID:
    """A delivered job with one render per format (``outputs``: format → seconds), whose hold of
    ``hold`` credits is settled at ``settled`` (None: released, as for a failed job)."""
    Credits(store).adjust(
        user_id=user_id, amount=hold, reason="grant", idempotency_key=uuid.uuid4().hex
    )
    with store.as_service() as conn:
        row = conn.execute(
            "insert into public.jobs (user_id, state, finished_at) values (%s, 'delivered', now())"
            " returning id",
            (user_id,),
        ).fetchone()
        assert row is not None
        job_id: uuid.UUID = row[0]
        for fmt, seconds in outputs.items():
            width, height = (int(x) * 120 for x in fmt.split("x"))
            conn.execute(
                "insert into public.renders (user_id, job_id, format, path, width, height,"
                " duration_s) values (%s, %s, %s, %s, %s, %s, %s)",
                (user_id, job_id, fmt, f"{job_id}/{fmt}.mp4", width, height, seconds),
            )
    held = Credits(store).hold(user_id=user_id, amount=hold, job_id=job_id)
    if settled is not None:
        Credits(store).settle(hold_id=held.id, actual=settled)
    else:
        Credits(store).release(hold_id=held.id)
    return job_id
