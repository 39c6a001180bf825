"""The import port: a performance source yields a Report of rows not yet joined to creatives.

``PerformanceSource`` is the one seam: CSV exports (Meta, Google) and platform APIs (Meta Insights,
Google Ads) all turn into the same ``Report``; the store joins its rows to creatives.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from pipeline.analytics.model import PerformanceRow, Source
from pipeline.creative import creative_ids_in
from pipeline.errors import BadInput, ReelforgeError

__all__ = [
    "AD_KEY_MAX",
    "BadReport",
    "PerformanceSource",
    "Report",
    "ReportRow",
    "ad_key_of",
    "utm_content_of",
]

AD_KEY_MAX = 1000


class BadReport(BadInput):
    """A performance report cannot be read; nothing from it was imported."""

    def __init__(
        self, file: str, problem: str, *, line: int | None = None, column: str = ""
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.where = column or "file"
        self.problem = problem
        at = f", line {line}" if line is not None else ""
        named = f', column "{column}"' if column else ""
        ReelforgeError.__init__(self, f"{file}{at}{named}: {problem}")


class ReportRow(BaseModel):
    """One row of a report as read: who it names and what it counts, not yet joined."""

    model_config = ConfigDict(frozen=True)

    line: int = Field(ge=1)  # the row's line in the file; for an API, its position in the answer
    ad_name: str
    utm_content: str = ""
    period_start: date
    period_end: date
    placement: str = ""
    ad_key: str = Field(default="", max_length=AD_KEY_MAX)  # see ``ad_key_of``
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    impressions: int = Field(ge=0)
    clicks: int = Field(ge=0)
    spend: Decimal = Field(ge=0)
    purchases: int = Field(default=0, ge=0)
    revenue: Decimal = Field(default=Decimal(0), ge=0)
    video_3s_plays: int | None = Field(default=None, ge=0)
    thruplays: int | None = Field(default=None, ge=0)

    def candidates(self) -> list[str]:
        """Creative ids the row names: ``utm_content`` first (set by us), then the ad name."""
        seen: list[str] = []
        for cid in creative_ids_in(self.utm_content) + creative_ids_in(self.ad_name):
            if cid not in seen:
                seen.append(cid)
        return seen

    def joined(self, source: Source, creative_id: str) -> PerformanceRow:
        """The row as performance data of ``creative_id``."""
        return PerformanceRow(
            source=source,
            creative_id=creative_id,
            **self.model_dump(exclude={"line", "utm_content"}),
        )


class Report(BaseModel):
    """Everything read from one file or one API pull."""

    model_config = ConfigDict(frozen=True)

    source: Source
    name: str  # the file name, or what was asked of the API
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")  # SHA-256 of the file, or of the rows read
    rows: tuple[ReportRow, ...]
    skipped: int = 0  # summary and total rows left out


class PerformanceSource(Protocol):
    """Where ad performance comes from: a platform's CSV export or its reporting API."""

    @property
    def source(self) -> Source: ...

    def fetch(self) -> Report:
        """Read every row; ``BadReport`` (or a provider error) and no rows when it cannot."""
        ...


def ad_key_of(*parts: str) -> str:
    """Which ad a row is about, from what the source names it by: the platform's ad id, or an
    export's "Campaign name | Ad set name | Ad name" (the columns it has; blanks left out).

    One creative runs in many ads, and exports of different campaigns for the same period must
    add up, not replace each other. A key longer than the column allows becomes its SHA-256.
    """
    key = " | ".join(p.strip() for p in parts if p.strip())
    if len(key) > AD_KEY_MAX:
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def utm_content_of(text: str) -> str:
    """The ``utm_content`` value in a URL or a bare query string (``a=1&utm_content=x``), or ""."""
    text = text.strip()
    if not text:
        return ""
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.lower() == "utm_content":
            return value
    return ""
