"""Reading spreadsheets as a French office suite writes them, and the atomic import / export services."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field

import tablib
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils.translation import gettext as _

from members.resources import OrganisationResource
from members.selectors import directory_changed

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


class UnreadableFile(Exception):
    """The file is not a CSV or XLSX file the import understands."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list]
    lines: list[int]  # the file line (or sheet row) of each data row
    encoding: str = ""


@dataclass
class RowProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("line %(line)s, column %(column)s: %(message)s") % {
            "line": self.line,
            "column": self.column or "—",
            "message": self.message,
        }


@dataclass
class ImportReport:
    dry_run: bool
    encoding: str = ""
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run


def _decode(content: bytes) -> tuple[str, str]:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8"), "UTF-8 (BOM)"
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        # Not UTF-8: what Excel for Windows writes by default for "CSV (séparateur: point-virgule)".
        return content.decode("cp1252", errors="replace"), "Windows-1252"


def read_table(content: bytes) -> Table:
    """A CSV (`;`, `,` or tab separated; UTF-8 with or without BOM, or Windows-1252) or an XLSX file."""
    if content.startswith(OLE_MAGIC):
        raise UnreadableFile(_("Old .xls files are not supported: save the file as .xlsx or CSV."))
    if content.startswith(ZIP_MAGIC):
        return _read_xlsx(content)
    if b"\x00" in content[:4096]:
        # Checked by content, whatever the file is called: text files have no NUL bytes.
        raise UnreadableFile(_("This is neither a CSV nor an XLSX file."))
    text, encoding = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: list[str] | None = None
    rows, lines = [], []
    for record in reader:
        if headers is None:
            headers = [cell.strip().lower() for cell in record]
            continue
        if not any(cell.strip() for cell in record):
            continue
        rows.append(record)
        lines.append(reader.line_num)
    if not headers:
        raise UnreadableFile(_("The file is empty."))
    return Table(headers=headers, rows=rows, lines=lines, encoding=encoding)


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken zip
        raise UnreadableFile(_("This is not a readable XLSX file (%(error)s).") % {"error": error}) from error
    sheet = workbook.worksheets[0]
    headers: list[str] | None = None
    rows, lines = [], []
    for number, record in enumerate(sheet.iter_rows(values_only=True), start=1):
        values = ["" if value is None else value for value in record]
        if headers is None:
            headers = [str(value).strip().lower() for value in values]
            continue
        if not any(str(value).strip() for value in values):
            continue
        rows.append([value.date() if isinstance(value, datetime.datetime) else value for value in values])
        lines.append(number)
    workbook.close()
    if not headers:
        raise UnreadableFile(_("The file is empty."))
    while headers and not headers[-1]:
        headers.pop()
    return Table(headers=headers, rows=[row[: len(headers)] for row in rows], lines=lines, encoding="XLSX")


def members_import(*, content: bytes, dry_run: bool = False) -> ImportReport:
    """Import organisations from a CSV or XLSX file, all or nothing.

    One invalid row writes nothing; every invalid row is reported with its line, column and
    reason. New organisations that look like existing ones are reported as warnings.
    """
    report = ImportReport(dry_run=dry_run)
    try:
        table = read_table(content)
    except UnreadableFile as error:
        report.errors.append(RowProblem(line=1, column="", message=str(error)))
        return report
    report.encoding = table.encoding
    resource = OrganisationResource()
    known = resource.column_names()
    for column in table.headers:
        if column and column not in known:
            report.errors.append(
                RowProblem(
                    line=1,
                    column=column,
                    message=_("Unknown column. The columns are: %(columns)s.") % {"columns": ", ".join(known)},
                )
            )
    for column in OrganisationResource.REQUIRED_COLUMNS:
        if column not in table.headers:
            report.errors.append(RowProblem(line=1, column=column, message=_("This column is required.")))
    if report.errors:
        return report

    dataset = tablib.Dataset(headers=table.headers)
    for row in table.rows:
        dataset.append(list(row) + [""] * (len(table.headers) - len(row)))
    column_of = {name: resource.fields[name].column_name for name in resource.fields}

    with transaction.atomic():
        result = resource.import_data(
            dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True, raise_errors=False
        )
        for invalid in result.invalid_rows:
            for name, messages in invalid.error_dict.items():
                if name == "slug" and "name" in invalid.error_dict:
                    continue  # the slug is made from the name: its error is the name's
                column = "" if name == NON_FIELD_ERRORS else column_of.get(name, name)
                for message in messages:
                    report.errors.append(
                        RowProblem(line=table.lines[invalid.number - 1], column=column, message=message)
                    )
        for number, row_errors in result.row_errors():
            for error in row_errors:
                report.errors.append(RowProblem(line=table.lines[number - 1], column="", message=str(error.error)))
        for number, name, duplicates in resource.duplicate_warnings:
            report.warnings.append(
                RowProblem(
                    line=table.lines[number - 1],
                    column="nom",
                    message=_("“%(name)s” is probably a duplicate of: %(others)s.")
                    % {"name": name, "others": "; ".join(f"{o.name} ({o.siren or '—'})" for o in duplicates)},
                )
            )
        report.new = result.totals.get("new", 0)
        report.updated = result.totals.get("update", 0)
        report.unchanged = result.totals.get("skip", 0)
        if not report.written:
            # Belt and braces: whatever import-export did, nothing of a failed or dry run stays.
            transaction.set_rollback(True)
        elif report.new or report.updated:
            directory_changed()
    report.errors.sort(key=lambda problem: problem.line)
    return report


def members_export(*, queryset=None, file_format: str = "csv") -> bytes:
    """Export organisations as CSV (semicolons, UTF-8 with BOM, as Excel opens it) or XLSX."""
    resource = OrganisationResource()
    if queryset is not None:
        queryset = queryset.prefetch_related("das_interests").order_by("name", "pk")
    dataset = resource.export(queryset=queryset)
    if file_format == "xlsx":
        return dataset.export("xlsx")
    if file_format != "csv":
        raise ValueError(f"Unknown export format {file_format!r}")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(dataset.headers)
    writer.writerows(dataset)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
