"""Writing the reports' exports: a dashboard's tables, or a stream of rows, as XLSX or CSV.

XLSX (openpyxl in write-only mode: each row goes to the file as it comes, strings inline, so
memory does not grow with the rows): a first sheet saying what the file is, then one sheet per
table with a frozen header row, typed cells (counts as whole numbers, rates as percentages,
money with two decimals, days as dates) and widths that fit the labels. A stream of rows moves
on to a new sheet before Excel's limit of 1,048,576 rows a sheet.

CSV: what opens in Excel as it is: UTF-8 with a byte-order mark (so Excel reads Chinese),
numbers without grouping (so Excel reads them as numbers), rates in percent with "(%)" in the
header. A dashboard's tables have different columns each, so they go one CSV per table in a
ZIP (a finance person opens the one they need as a clean table); a stream of rows is one CSV.

Text that a spreadsheet would take for a formula (a member who calls themselves ``=1+2``) is
written as text: in XLSX as a string cell, in CSV behind a leading apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .selectors import Change
from .tables import Column, Kind, Table, show

FORMATS = {
    Kind.COUNT: "#,##0",
    Kind.PERCENT: "0.0%",
    Kind.MONEY: "#,##0.00",
    Kind.MINUTES: "0.0",
    Kind.DATE: "yyyy-mm-dd",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)


@dataclass(frozen=True)
class Cover:
    """What the first sheet says: a title and (label, value) lines."""

    title: str
    lines: list[tuple[str, str]]


def _clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _display_width(text: str) -> int:
    """Excel column width for ``text``: CJK characters take two columns."""
    return sum(2 if ord(char) >= 0x2E80 else 1 for char in text)


def _sheet_name(title: str, taken: set[str]) -> str:
    base = SHEET_NAME_BAD.sub(" ", title).strip()[:31] or "Sheet"
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name = base[: 31 - len(suffix)] + suffix
        number += 1
    taken.add(name.lower())
    return name


class XlsxBook:
    """A write-only workbook whose sheets take typed rows."""

    def __init__(self) -> None:
        self.book = Workbook(write_only=True)
        self.taken: set[str] = set()

    def text(self, sheet, value: str, font: Font | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=_clean(value))
        cell.data_type = "s"  # never a formula, whatever the text begins with
        if font is not None:
            cell.font = font
        return cell

    def cell(self, sheet, value: object, kind: Kind) -> object:
        if value is None or value == "":
            return None
        if kind == Kind.TEXT or isinstance(value, str):
            return self.text(sheet, str(value))
        if kind == Kind.PERCENT:
            value = Decimal(value) / 100
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = FORMATS[kind]
        return cell

    def sheet(self, title: str, columns: tuple[Column, ...], widths: list[int] | None = None):
        """A new sheet with ``columns`` as its frozen, filterable header row."""
        sheet = self.book.create_sheet(_sheet_name(title, self.taken))
        widths = widths or [0] * len(columns)
        for index, column in enumerate(columns, start=1):
            width = max(_display_width(column.label), widths[index - 1], 8) + 2
            if column.kind == Kind.DATE:
                width = max(width, 12)
            sheet.column_dimensions[get_column_letter(index)].width = min(width, 48)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"
        sheet.append([self.text(sheet, column.label, BOLD) for column in columns])
        return sheet

    def row(self, sheet, values: Iterable[object], columns: tuple[Column, ...]) -> None:
        sheet.append(
            [
                self.cell(sheet, value, column.kind)
                for value, column in zip(values, columns, strict=True)
            ]
        )

    def cover(self, cover: Cover, contents: list[str]) -> None:
        sheet = self.book.create_sheet(_sheet_name(_("About this file"), self.taken))
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 60
        sheet.append([self.text(sheet, cover.title, TITLE)])
        sheet.append([])
        for label, value in cover.lines:
            sheet.append([self.text(sheet, label, BOLD), self.text(sheet, value)])
        if contents:
            sheet.append([])
            sheet.append([self.text(sheet, _("Sheets"), BOLD)])
            for title in contents:
                sheet.append([None, self.text(sheet, title)])

    def save(self, path: Path) -> None:
        self.book.save(path)


def _table_widths(table: Table) -> list[int]:
    widths = [0] * len(table.columns)
    for row in table.rows[:200]:
        for index, (value, column) in enumerate(zip(row, table.columns, strict=True)):
            widths[index] = max(widths[index], _display_width(show(value, column.kind)))
    return widths


def _headline_table(headline: list[Change]) -> tuple[tuple[Column, ...], list[tuple]]:
    """The headline figures as a table: this period, the one before, the change (points for
    rates); rates as percentages."""
    columns = (
        Column(_("Figure"), Kind.TEXT),
        Column(_("This period")),
        Column(_("Previous period")),
        Column(_("Change")),
    )
    rows = [
        (item.label, item.current, item.previous, item.delta, item.is_percent) for item in headline
    ]
    return columns, rows


def tables_xlsx(
    path: Path,
    *,
    cover: Cover,
    headline: list[Change],
    tables: list[Table],
    progress: Callable[[float], None],
) -> int:
    """The cover, the headline figures and each table on a sheet of its own; returns the
    number of data rows written."""
    book = XlsxBook()
    contents = [_("Headline figures"), *(table.title for table in tables)]
    book.cover(cover, contents)
    columns, rows = _headline_table(headline)
    label_width = max((_display_width(row[0]) for row in rows), default=0)
    sheet = book.sheet(_("Headline figures"), columns, [label_width, 12, 12, 12])
    points = f'+0.0" {_("pts")}";-0.0" {_("pts")}";0.0" {_("pts")}"'
    for label, current, previous, delta, is_percent in rows:
        kind = Kind.PERCENT if is_percent else Kind.COUNT
        change = book.cell(sheet, delta, Kind.MINUTES if is_percent else Kind.COUNT)
        if change is not None:
            change.number_format = points if is_percent else "+#,##0;-#,##0;0"
        current_cell = book.cell(sheet, current, kind)
        previous_cell = book.cell(sheet, previous, kind)
        sheet.append([book.text(sheet, label), current_cell, previous_cell, change])
    written = len(rows)
    for index, table in enumerate(tables, start=1):
        sheet = book.sheet(table.title, table.columns, _table_widths(table))
        for row in table.rows:
            book.row(sheet, row, table.columns)
        written += len(table.rows)
        progress(index / len(tables))
    book.save(path)
    return written


def rows_xlsx(
    path: Path,
    *,
    cover: Cover,
    title: str,
    columns: tuple[Column, ...],
    chunks: Iterator[list[tuple]],
    sheet_rows: int,
    progress: Callable[[int], None],
) -> int:
    """The cover, then the rows on sheets of at most ``sheet_rows`` rows each (``title``,
    ``title (2)`` …); ``progress`` hears the rows written so far after each chunk."""
    book = XlsxBook()
    book.cover(cover, [title])
    widths = [0] * len(columns)
    sheet, on_sheet, written = None, 0, 0
    for chunk in chunks:
        for row in chunk:
            if sheet is None or on_sheet == sheet_rows:
                sheet = book.sheet(title, columns, widths)
                on_sheet = 0
            book.row(sheet, row, columns)
            on_sheet += 1
        written += len(chunk)
        progress(written)
    if sheet is None:
        book.sheet(title, columns, widths)
    book.save(path)
    return written


def _csv_value(value: object, kind: Kind) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        text = _clean(value)
        return "'" + text if text.startswith(FORMULA_START) else text
    if isinstance(value, dt.date):
        return value.isoformat()
    if kind == Kind.MONEY:
        return f"{Decimal(value):.2f}"
    return str(value)


def _csv_header(columns: tuple[Column, ...]) -> list[str]:
    return [
        f"{column.label} (%)" if column.kind == Kind.PERCENT else column.label for column in columns
    ]


def _write_csv(out: io.TextIOBase, columns: tuple[Column, ...], rows: Iterable[tuple]) -> int:
    writer = csv.writer(out)
    writer.writerow(_csv_header(columns))
    count = 0
    for row in rows:
        writer.writerow(
            [_csv_value(value, column.kind) for value, column in zip(row, columns, strict=True)]
        )
        count += 1
    return count


def _file_name(number: int, title: str) -> str:
    return f"{number:02d} {SHEET_NAME_BAD.sub(' ', title).strip()}.csv"


def tables_csv_zip(
    path: Path,
    *,
    cover: Cover,
    headline: list[Change],
    tables: list[Table],
    progress: Callable[[float], None],
) -> int:
    """A ZIP of CSVs: what the file is, the headline figures, then one CSV per table."""
    written = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, columns: tuple[Column, ...], rows: Iterable[tuple]) -> int:
            with (
                archive.open(name, "w") as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as out,
            ):
                return _write_csv(out, columns, rows)

        about = (Column(cover.title, Kind.TEXT), Column("", Kind.TEXT))
        add(_file_name(0, _("About this file")), about, cover.lines)
        columns, rows = _headline_table(headline)
        written += add(
            _file_name(1, _("Headline figures")),
            columns,
            (
                (f"{label} (%)" if is_percent else label, current, previous, delta)
                for label, current, previous, delta, is_percent in rows
            ),
        )
        for index, table in enumerate(tables, start=1):
            written += add(_file_name(index + 1, table.title), table.columns, table.rows)
            progress(index / len(tables))
    return written


def rows_csv(
    path: Path,
    *,
    columns: tuple[Column, ...],
    chunks: Iterator[list[tuple]],
    progress: Callable[[int], None],
) -> int:
    """One CSV of every row, written a chunk at a time."""
    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(_csv_header(columns))
        for chunk in chunks:
            writer.writerows(
                [_csv_value(value, column.kind) for value, column in zip(row, columns, strict=True)]
                for row in chunk
            )
            written += len(chunk)
            progress(written)
    return written
