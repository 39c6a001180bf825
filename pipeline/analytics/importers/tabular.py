"""Reading exported report files: bytes to text (byte-order marks, UTF-16), text to rows with their
line numbers, header lookup, and the numbers and dates of spreadsheet exports.

Numbers: thousands separators ("1,234"), currency signs, blanks shown as "", "-", "--" or "—".
The decimal mark is "." unless the file shows otherwise ("1.234,56" or "12,5" and never "12.50"):
it is decided once per file, never per cell.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pipeline.analytics.importers.base import BadReport

__all__ = [
    "Row",
    "Table",
    "decimal_mark",
    "decode",
    "is_blank",
    "normalize",
    "parse_date",
    "read_rows",
]

BLANKS = frozenset({"", "-", "--", "—", "–", "n/a", "N/A"})
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y")
_SIGNS = str.maketrans("", "", "$€£¥ \u00a0\u202f")


@dataclass(frozen=True)
class Row:
    """One record of the file and the line it starts on (1-based)."""

    line: int
    cells: list[str]


def decode(data: bytes, file: str) -> str:
    """The text of an export: UTF-8 (with or without a BOM) or UTF-16 with a BOM; else BadReport."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    else:
        encoding, body = "utf-8", data
        if body[:200].count(b"\x00") > 10:
            raise BadReport(
                file, "looks like UTF-16 without a byte-order mark; export it as UTF-8 CSV", line=1
            )
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding == "utf-16":
            line = body[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        else:
            line = body[: exc.start].count(b"\n") + 1
        bad = body[exc.start : exc.start + 1].hex()
        raise BadReport(
            file,
            f"is not {encoding.upper()} text (byte 0x{bad}); export the report as UTF-8 CSV",
            line=line,
        ) from None


def _delimiter(text: str) -> str:
    head = [line for line in text.splitlines()[:8] if line.strip()]
    counts = {d: max((line.count(d) for line in head), default=0) for d in ("\t", ",", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_rows(text: str, file: str) -> list[Row]:
    """Every non-empty record with its first line; the delimiter (tab, comma, semicolon) is sniffed."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows: list[Row] = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append(Row(start, [c.strip() for c in cells]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise BadReport(file, f"is not valid CSV: {exc}", line=start) from None
    return rows


def normalize(header: str) -> str:
    """A header compared loosely: lower case, single spaces."""
    return " ".join(header.replace("\u00a0", " ").split()).lower()


def is_blank(cell: str) -> bool:
    return cell.strip() in BLANKS


def decimal_mark(cells: Iterable[str]) -> str:
    """ "," if the file's numbers use a decimal comma, else "."."""
    comma = dot = False
    for raw in cells:
        cell = raw.translate(_SIGNS).rstrip("%")
        if not re.fullmatch(r"-?[\d.,]*\d", cell):
            continue
        if "," in cell and "." in cell:
            return "," if cell.rfind(",") > cell.rfind(".") else "."
        # Two decimals or one ("12,5", "12.50") give the mark away; three digits are ambiguous.
        comma |= bool(re.search(r",\d{1,2}$", cell))
        dot |= bool(re.search(r"\.\d{1,2}$", cell))
    return "," if comma and not dot else "."


@dataclass(frozen=True)
class Table:
    """A header row and the records after it, with the file's decimal mark."""

    file: str
    header_line: int
    header: list[str]
    rows: list[Row]
    mark: str = "."

    def find(self, *names: str) -> int | None:
        """The index of the first column called any of ``names`` (loosely), or None."""
        wanted = [normalize(n) for n in names]
        found = [normalize(h) for h in self.header]
        for name in wanted:
            if name in found:
                return found.index(name)
        return None

    def require(self, *names: str) -> int:
        """The index of the column called any of ``names``; BadReport naming the first if none."""
        index = self.find(*names)
        if index is None:
            raise BadReport(
                self.file, "required column is missing", line=self.header_line, column=names[0]
            )
        return index

    def cell(self, row: Row, index: int | None) -> str:
        if index is None or index >= len(row.cells):
            return ""
        return row.cells[index]

    def decimal(
        self, row: Row, index: int | None, *, blank: Decimal | None = Decimal(0)
    ) -> Decimal | None:
        """The number in a cell; ``blank`` for an empty one; BadReport naming column and line."""
        raw = self.cell(row, index)
        if is_blank(raw):
            return blank
        assert index is not None
        cell = raw.translate(_SIGNS)
        thousands = "." if self.mark == "," else ","
        cell = cell.replace(thousands, "").replace(self.mark, ".")
        try:
            value = Decimal(cell)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise self._bad(row, index, f"{raw!r} is not a number")
        if value < 0:
            raise self._bad(row, index, f"{raw!r} is negative")
        return value

    def integer(
        self, row: Row, index: int | None, *, blank: int | None = 0, rounding: bool = False
    ) -> int | None:
        """A whole number; ``rounding`` accepts fractions (modelled conversions) and rounds them."""
        value = self.decimal(row, index, blank=None)
        if value is None:
            return blank
        assert index is not None
        if value != value.to_integral_value():
            if not rounding:
                raise self._bad(row, index, f"{self.cell(row, index)!r} is not a whole number")
            value = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return int(value)

    def date(self, row: Row, index: int) -> date:
        raw = self.cell(row, index)
        parsed = parse_date(raw)
        if parsed is None:
            raise self._bad(row, index, f"{raw!r} is not a date (expected e.g. 2024-05-31)")
        return parsed

    def _bad(self, row: Row, index: int, problem: str) -> BadReport:
        return BadReport(self.file, problem, line=row.line, column=self.header[index])


def parse_date(text: str) -> date | None:
    """A date written as exports write them (ISO first), or None."""
    text = " ".join(text.split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def numeric_cells(rows: Sequence[Row], columns: Iterable[int | None]) -> list[str]:
    """The cells of the given columns, for deciding the decimal mark."""
    wanted = [c for c in columns if c is not None]
    return [r.cells[c] for r in rows for c in wanted if c < len(r.cells)]
