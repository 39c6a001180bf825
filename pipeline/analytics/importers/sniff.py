"""Which platform exported a CSV, told by its header, and the report read with the right parser."""

from __future__ import annotations

from typing import Literal

from pipeline.analytics.importers.base import BadReport, Report
from pipeline.analytics.importers.google_csv import is_google_header, parse_google_csv
from pipeline.analytics.importers.meta_csv import is_meta_header, parse_meta_csv
from pipeline.analytics.importers.tabular import decode, read_rows

__all__ = ["CsvSource", "read_csv_report", "sniff_source"]

CsvSource = Literal["auto", "meta", "google"]
_HEAD_ROWS = 10  # Google puts a title and a date range above its header


def sniff_source(data: bytes, *, name: str) -> Literal["meta", "google"]:
    """ "meta" or "google" from the header; BadReport if it is neither's."""
    rows = read_rows(decode(data, name), name)
    for row in rows[:_HEAD_ROWS]:
        if is_meta_header(row.cells):
            return "meta"
        if is_google_header(row.cells):
            return "google"
    line = rows[0].line if rows else 1
    raise BadReport(
        name,
        'unknown report source: expected a Meta Ads Manager export ("Reporting starts", '
        '"Amount spent (USD)") or a Google Ads report ("Impr.", "Cost")',
        line=line,
    )


def read_csv_report(
    data: bytes, *, name: str, source: CsvSource = "auto", currency: str | None = None
) -> Report:
    """Read an exported report; ``currency`` is the account currency for Google reports without one."""
    if not data.strip():
        raise BadReport(name, "is empty", line=1)
    kind = sniff_source(data, name=name) if source == "auto" else source
    if kind == "meta":
        return parse_meta_csv(data, name=name)
    return parse_google_csv(data, name=name, currency=currency)
