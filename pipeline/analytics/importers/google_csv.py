"""Google Ads report downloads (CSV, or UTF-16 tab-separated for Excel) at ad level.

The file opens with a title line ("Ad report") and a date-range line ("May 1, 2024 - May 31,
2024") before the header, and ends with summary rows ("Total: Account", "Total: Campaigns"), which
are skipped (a row opening "Total:" that names a creative is an ad, and is kept). Headers are the
UI's: "Ad name" or "Ad", "Final URL" (for ``utm_content``), "Currency code", "Impr.", "Clicks",
"Cost", "Conversions", "Conv. value", optional "Day", and "TrueView views" (read as thruplays: a
view of 30 s or to the end). Optional "Campaign", "Ad group" and "Ad ID" tell ads apart
(``ReportRow.ad_key``). Blanks are " --"; in a metric column the report has, a blank is zero.
Conversions may be fractional (data-driven attribution) and are rounded to whole purchases.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

from pipeline.analytics.importers.base import (
    BadReport,
    Report,
    ReportRow,
    ad_key_of,
    utm_content_of,
)
from pipeline.analytics.importers.tabular import (
    Row,
    Table,
    decimal_mark,
    decode,
    is_blank,
    normalize,
    numeric_cells,
    parse_date,
    read_rows,
)
from pipeline.analytics.model import Source
from pipeline.creative import creative_ids_in

__all__ = ["GoogleCsv", "is_google_header", "parse_google_csv"]

_RANGE = re.compile(r"^(.+?)\s+[-–]\s+(.+)$")
_TOTAL = re.compile(r"^total:", re.IGNORECASE)  # "Total: Account"; a campaign "Total Care" is not
_COST = re.compile(r"^cost( \(([a-z]{3})\))?$")


def is_google_header(cells: list[str]) -> bool:
    names = {normalize(c) for c in cells}
    return ("impr." in names or "impressions" in names) and any(_COST.match(n) for n in names)


class GoogleCsv:
    """A Google Ads report download held in memory: a ``PerformanceSource``."""

    source: Source = "google_csv"

    def __init__(
        self, data: bytes, *, name: str = "google.csv", currency: str | None = None
    ) -> None:
        self.data = data
        self.name = name
        self.currency = currency

    def fetch(self) -> Report:
        return parse_google_csv(self.data, name=self.name, currency=self.currency)


def _period(rows: list[Row]) -> tuple[date, date] | None:
    """The date range written above the header, if any."""
    for row in rows:
        text = ", ".join(c for c in row.cells if c)  # an unquoted "May 1, 2024 - ..." splits
        match = _RANGE.match(text)
        if match:
            start, end = parse_date(match.group(1)), parse_date(match.group(2))
            if start and end:
                return start, end
    return None


def parse_google_csv(data: bytes, *, name: str, currency: str | None = None) -> Report:
    """Every ad row of a Google Ads report; BadReport (naming line and column) on the first bad cell.

    ``currency`` is the account currency, for reports without a "Currency code" column.
    """
    rows = read_rows(decode(data, name), name)
    start = next((i for i, r in enumerate(rows) if is_google_header(r.cells)), None)
    if start is None:
        line = rows[0].line if rows else 1
        raise BadReport(name, 'not a Google Ads report: no "Impr." and "Cost" header', line=line)
    header, body = rows[start], rows[start + 1 :]
    probe = Table(name, header.line, header.cells, body)
    cost = next(i for i, h in enumerate(header.cells) if _COST.match(normalize(h)))
    cost_currency = _COST.match(normalize(header.cells[cost]))
    assert cost_currency is not None
    currency = (cost_currency.group(2) or currency or "").upper()
    cols = {
        "ad_name": probe.find("Ad name", "Ad", "Video ad name", "Video"),
        "ad_id": probe.find("Ad ID"),
        "campaign": probe.find("Campaign", "Campaign name"),
        "ad_group": probe.find("Ad group", "Ad group name"),
        "url": probe.find("Final URL", "Final URLs", "Final URL suffix", "Tracking template"),
        "currency": probe.find("Currency code", "Currency"),
        "day": probe.find("Day", "Date"),
        "impressions": probe.require("Impr.", "Impressions"),
        "clicks": probe.require("Clicks"),
        "conversions": probe.find("Conversions", "Purchases"),
        "value": probe.find("Conv. value", "Conversion value", "All conv. value"),
        "views": probe.find("TrueView views", "Video views"),
    }
    if cols["ad_name"] is None and cols["url"] is None:
        raise BadReport(
            name, 'required column is missing (or "Final URL")', line=header.line, column="Ad name"
        )
    if cols["currency"] is None and not re.fullmatch(r"[A-Z]{3}", currency):
        raise BadReport(
            name,
            "required column is missing (or give the account currency)",
            line=header.line,
            column="Currency code",
        )
    period = _period(rows[:start])
    if cols["day"] is None and period is None:
        raise BadReport(
            name,
            'no reporting period: neither a date-range line above the header nor a "Day" column',
            line=header.line,
        )
    numbers = ("impressions", "clicks", "conversions", "value", "views")
    mark = decimal_mark(numeric_cells(body, [cost, *(cols[k] for k in numbers)]))
    table = Table(name, header.line, header.cells, body, mark)
    out: list[ReportRow] = []
    skipped = 0
    for row in body:
        if _is_total(table, row, cols):
            skipped += 1
            continue
        out.append(_row(table, row, cols, cost, currency, period))
    return Report(
        source="google_csv",
        name=name,
        digest=hashlib.sha256(data).hexdigest(),
        rows=tuple(out),
        skipped=skipped,
    )


def _is_total(table: Table, row: Row, cols: dict[str, int | None]) -> bool:
    """A summary row ("Total: Account", "Total: Campaigns"); never a row naming a creative."""
    named = table.cell(row, cols["ad_name"]) + " " + table.cell(row, cols["url"])
    first = next((c for c in row.cells if c), "")
    return bool(_TOTAL.match(first)) and not creative_ids_in(named)


def _ad_key(table: Table, row: Row, cols: dict[str, int | None]) -> str:
    """Campaign | Ad group | the ad (its id if the report has one, else its name, else its URL)."""

    def cell(key: str) -> str:
        value = table.cell(row, cols[key])
        return "" if is_blank(value) else value

    ad = cell("ad_id") or cell("ad_name") or cell("url")
    return ad_key_of(cell("campaign"), cell("ad_group"), ad)


def _row(
    table: Table,
    row: Row,
    cols: dict[str, int | None],
    cost: int,
    currency: str,
    period: tuple[date, date] | None,
) -> ReportRow:
    def whole(key: str, *, rounding: bool = False) -> int:
        value = table.integer(row, cols[key], rounding=rounding)
        assert value is not None
        return value

    day = cols["day"]
    if day is not None and not is_blank(table.cell(row, day)):
        start = end = table.date(row, day)
    elif period is not None:
        start, end = period
    else:
        assert day is not None
        raise BadReport(
            table.file,
            "is empty and the report has no date range",
            line=row.line,
            column=table.header[day],
        )
    if cols["currency"] is not None and not is_blank(table.cell(row, cols["currency"])):
        currency = table.cell(row, cols["currency"]).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        column = table.header[cols["currency"]] if cols["currency"] is not None else "Currency code"
        raise BadReport(
            table.file, f"{currency!r} is not a currency code", line=row.line, column=column
        )
    ad_name = table.cell(row, cols["ad_name"])
    spend = table.decimal(row, cost)
    revenue = table.decimal(row, cols["value"])
    assert spend is not None and revenue is not None
    return ReportRow(
        line=row.line,
        ad_name="" if is_blank(ad_name) else ad_name,
        utm_content=utm_content_of(table.cell(row, cols["url"])),
        period_start=start,
        period_end=end,
        ad_key=_ad_key(table, row, cols),
        currency=currency,
        impressions=whole("impressions"),
        clicks=whole("clicks"),
        spend=spend,
        purchases=whole("conversions", rounding=True),
        revenue=revenue,
        # A blank (" --") in a TrueView column the report has is no views; None: no column.
        thruplays=None if cols["views"] is None else table.integer(row, cols["views"]),
    )
