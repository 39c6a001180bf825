"""Meta Ads Manager exports (CSV, or UTF-16 tab-separated for Excel) at ad level.

Headers are Ads Manager's, which Meta does not document: "Ad name", "Reporting starts",
"Reporting ends", "Amount spent (USD)" (the suffix is the account currency), "Impressions",
"Link clicks", "Purchases", "Purchases conversion value", "3-second video plays", "ThruPlays";
optional "Day", "Platform", "Placement", "URL parameters" or "Website URL" (for ``utm_content``).
Optional "Campaign name" and "Ad set name" name the ad with its ad name (``ReportRow.ad_key``), so
exports of different campaigns add up. A summary row (ad name exactly "Results from 12 ads", or
blank with the row opening "Total") is skipped, never a row naming a creative; an ad without a
name is kept, and reported as unmatched when nothing else names its creative. A blank or dash in
a video column that the export has is zero plays; None only when the column is absent.
"""

from __future__ import annotations

import hashlib
import re

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
    read_rows,
)
from pipeline.analytics.model import Source
from pipeline.creative import creative_ids_in

__all__ = ["MetaCsv", "is_meta_header", "parse_meta_csv"]

_SPENT = re.compile(r"^amount spent \(([a-z]{3})\)$")
# The summary row Ads Manager adds above the ads: its ad name is exactly "Results from 12 ads".
_RESULTS = re.compile(r"results from \d[\d,.]* ads?", re.IGNORECASE)
# A summary row without an ad name opens with words like these.
_SUMMARY = re.compile(r"^(results from \d+|total\b)", re.IGNORECASE)
_URLS = (
    "URL parameters",
    "URL parameters (ad settings)",
    "Website URL",
    "Link (ad settings)",
    "Link",
)


def is_meta_header(cells: list[str]) -> bool:
    names = {normalize(c) for c in cells}
    return "reporting starts" in names or any(_SPENT.match(n) for n in names)


class MetaCsv:
    """A Meta Ads Manager export held in memory: a ``PerformanceSource``."""

    source: Source = "meta_csv"

    def __init__(self, data: bytes, *, name: str = "meta.csv") -> None:
        self.data = data
        self.name = name

    def fetch(self) -> Report:
        return parse_meta_csv(self.data, name=self.name)


def parse_meta_csv(data: bytes, *, name: str) -> Report:
    """Every ad row of a Meta export; BadReport (naming line and column) on the first bad cell."""
    rows = read_rows(decode(data, name), name)
    start = next((i for i, r in enumerate(rows) if is_meta_header(r.cells)), None)
    if start is None:
        line = rows[0].line if rows else 1
        raise BadReport(
            name,
            'not a Meta Ads Manager export: no "Reporting starts" or "Amount spent (...)" header',
            line=line,
        )
    header, body = rows[start], rows[start + 1 :]
    probe = Table(name, header.line, header.cells, body)
    spent = next((i for i, h in enumerate(header.cells) if _SPENT.match(normalize(h))), None)
    currency_col = probe.find("Currency")
    if spent is None:
        spent = probe.require("Amount spent")
        if currency_col is None:
            raise BadReport(
                name,
                'required column is missing (or name the currency: "Amount spent (USD)")',
                line=header.line,
                column="Currency",
            )
    currency = ""
    if currency_col is None:
        match = _SPENT.match(normalize(header.cells[spent]))
        assert match is not None
        currency = match.group(1).upper()
    cols = {
        "ad_name": probe.require("Ad name"),
        "campaign": probe.find("Campaign name", "Campaign"),
        "ad_set": probe.find("Ad set name", "Ad set"),
        "starts": probe.require("Reporting starts"),
        "ends": probe.require("Reporting ends"),
        "day": probe.find("Day"),
        "impressions": probe.require("Impressions"),
        "clicks": probe.require("Link clicks", "Clicks (all)", "Clicks"),
        "purchases": probe.find("Purchases", "Website purchases"),
        "revenue": probe.find(
            "Purchases conversion value",
            "Purchase conversion value",
            "Website purchases conversion value",
        ),
        "plays_3s": probe.find("3-second video plays"),
        "thruplays": probe.find("ThruPlays"),
        "platform": probe.find("Platform"),
        "placement": probe.find("Placement"),
        "url": probe.find(*_URLS),
    }
    numbers = ("impressions", "clicks", "purchases", "revenue", "plays_3s", "thruplays")
    mark = decimal_mark(numeric_cells(body, [spent, *(cols[k] for k in numbers)]))
    table = Table(name, header.line, header.cells, body, mark)
    out: list[ReportRow] = []
    skipped = 0
    for row in body:
        if _is_summary(table, row, cols):
            skipped += 1
            continue
        out.append(_row(table, row, cols, spent, currency, currency_col))
    return Report(
        source="meta_csv",
        name=name,
        digest=hashlib.sha256(data).hexdigest(),
        rows=tuple(out),
        skipped=skipped,
    )


def _is_summary(table: Table, row: Row, cols: dict[str, int | None]) -> bool:
    """A summary row: its ad name is exactly "Results from N ads", or blank with the row opening
    like a summary ("Total ..."). A row that names a creative (in the ad name or the URL) is an
    ad, whatever its name says: "Total glow serum_rf-..." is a real ad."""
    name = table.cell(row, cols["ad_name"]).strip()
    if creative_ids_in(name) or creative_ids_in(table.cell(row, cols["url"])):
        return False
    if _RESULTS.fullmatch(name):
        return True
    first = next((c for c in row.cells if not is_blank(c)), "")
    return is_blank(name) and bool(_SUMMARY.match(first))


def _row(
    table: Table,
    row: Row,
    cols: dict[str, int | None],
    spent: int,
    currency: str,
    currency_col: int | None,
) -> ReportRow:
    def whole(key: str) -> int:
        value = table.integer(row, cols[key])
        assert value is not None
        return value

    if cols["day"] is not None and table.cell(row, cols["day"]):
        start = end = table.date(row, cols["day"])
    else:
        starts, ends = cols["starts"], cols["ends"]
        assert starts is not None and ends is not None
        start, end = table.date(row, starts), table.date(row, ends)
    if end < start:
        raise BadReport(
            table.file, "ends before the report starts", line=row.line, column="Reporting ends"
        )
    if currency_col is not None:
        currency = table.cell(row, currency_col).upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise BadReport(
                table.file,
                f"{currency!r} is not a currency code",
                line=row.line,
                column=table.header[currency_col],
            )
    placement = ":".join(
        table.cell(row, cols[k]).lower()
        for k in ("platform", "placement")
        if table.cell(row, cols[k])
    )
    name = table.cell(row, cols["ad_name"])
    names = (table.cell(row, cols[k]) for k in ("campaign", "ad_set", "ad_name"))
    spend = table.decimal(row, spent)
    revenue = table.decimal(row, cols["revenue"])
    assert spend is not None and revenue is not None
    return ReportRow(
        line=row.line,
        ad_name="" if is_blank(name) else name,
        utm_content=utm_content_of(table.cell(row, cols["url"])),
        period_start=start,
        period_end=end,
        placement=placement,
        ad_key=ad_key_of(*("" if is_blank(n) else n for n in names)),
        currency=currency,
        impressions=whole("impressions"),
        clicks=whole("clicks"),
        spend=spend,
        purchases=whole("purchases"),
        revenue=revenue,
        video_3s_plays=_video(table, row, cols["plays_3s"]),
        thruplays=_video(table, row, cols["thruplays"]),
    )


def _video(table: Table, row: Row, index: int | None) -> int | None:
    """A video count: None when the export has no such column (not measured), else the number,
    a blank or dash being zero (Ads Manager writes "—" for none; read as unknown, a day with
    impressions and no plays would drop out of the hook rate's base and inflate it)."""
    return None if index is None else table.integer(row, index)
