"""Reading import files and the pieces every members import shares (organisations, contacts, years).

members/imports.py (organisations) and members/related_imports.py (contacts and membership years)
both build on this module: reading a CSV or XLSX file as a French office suite writes it into a
`Table`, the `ImportReport` and its `RowProblem`s, the header check, the field check, the bulk
helpers and the audit-trail entries. It imports neither of them, so the two import modules do
not import each other in a circle.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Lookup, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from common.bulk import bulk_insert
from members.models import Organisation

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
UTF8_BOM = b"\xef\xbb\xbf"
# The csv module's own field limit; no column of the import comes near it (description: 4,000).
MAX_CELL_CHARS = 131_072
# An XLSX sheet whose used range reaches further is refused before a cell is read: openpyxl
# would otherwise hand over every empty cell up to XFD1048576 (17 billion of them).
MAX_XLSX_COLUMNS = 100
MAX_XLSX_ROWS = 200_000

ProgressCallback = Callable[[str, int, int], None]  # (phase, rows done, rows in all)


class UnreadableFile(Exception):
    """The file is not a CSV or XLSX file the import understands."""

    def __init__(self, message: str, *, line: int = 1, column: str = "") -> None:
        super().__init__(message)
        self.line = line
        self.column = column


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

    def as_dict(self) -> dict:
        """JSON-ready, for the import job that keeps the report of an import run by a worker."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ImportReport:
        data = dict(data)
        data["errors"] = [RowProblem(**problem) for problem in data.get("errors", [])]
        data["warnings"] = [RowProblem(**problem) for problem in data.get("warnings", [])]
        return cls(**data)


# --- Reading ------------------------------------------------------------------------------


def _field_index(prefix: str, delimiter: str) -> int:
    """Which field of a CSV line `prefix` ends in (delimiters inside quotes do not count)."""
    index, quoted = 0, False
    for char in prefix:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            index += 1
    return index


def _lenient_headers(content: bytes) -> tuple[list[str], str]:
    first = content[: content.find(b"\n")] if b"\n" in content else content
    text = first.removeprefix(UTF8_BOM).decode("cp1252", errors="replace").rstrip("\r")
    delimiter = max((";", ",", "\t"), key=text.count)
    return [header.strip().strip('"').strip().lower() for header in text.split(delimiter)], delimiter


def _locate_byte(content: bytes, offset: int) -> tuple[int, str]:
    """The line and column name (from the header) of the byte at `offset` of a CSV file."""
    headers, delimiter = _lenient_headers(content)
    line = content.count(b"\n", 0, offset) + 1
    line_start = content.rfind(b"\n", 0, offset) + 1
    prefix = content[line_start:offset].decode("cp1252", errors="replace")
    index = _field_index(prefix, delimiter)
    column = (
        headers[index] if index < len(headers) and headers[index] else _("column %(number)s") % {"number": index + 1}
    )
    return line, column


def _decode(content: bytes) -> tuple[str, str]:
    if content.startswith(UTF8_BOM):
        try:
            return content[3:].decode("utf-8"), "UTF-8 (BOM)"
        except UnicodeDecodeError as error:
            # Excel never writes this; a file edited by two tools does. Guessing would garble names.
            line, column = _locate_byte(content, error.start + 3)
            raise UnreadableFile(
                _(
                    "The file starts with a UTF-8 mark (BOM) but byte 0x%(byte)02X here is not UTF-8 "
                    "(Windows-1252?): save the file again as “CSV UTF-8”."
                )
                % {"byte": content[error.start + 3]},
                line=line,
                column=column,
            ) from None
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        # Not UTF-8: what Excel for Windows writes by default for "CSV (séparateur: point-virgule)".
        return content.decode("cp1252", errors="replace"), "Windows-1252"


def _tracked_lines(text: str, seen: list[str]) -> Iterator[str]:
    """The lines the csv reader reads, remembered so an error can be placed in its record."""
    for line in io.StringIO(text, newline=""):
        seen.append(line)
        yield line


def read_table(content: bytes) -> Table:
    """A CSV (`;`, `,` or tab separated; UTF-8 with or without BOM, or Windows-1252) or an XLSX file."""
    if content.startswith(OLE_MAGIC):
        raise UnreadableFile(_("Old .xls files are not supported: save the file as .xlsx or CSV."))
    if content.startswith(ZIP_MAGIC):
        return _read_xlsx(content)
    nul = content.find(b"\x00")
    if 0 <= nul < 4096:
        # Checked by content, whatever the file is called: text files have no NUL bytes.
        raise UnreadableFile(_("This is neither a CSV nor an XLSX file."))
    if nul >= 0:
        line, column = _locate_byte(content, nul)
        raise UnreadableFile(
            _("A NUL byte (0x00) here: the file is damaged or is not a text file. Nothing was imported."),
            line=line,
            column=column,
        )
    text, encoding = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    seen: list[str] = []
    reader = csv.reader(_tracked_lines(text, seen), delimiter=delimiter)
    headers: list[str] | None = None
    rows, lines = [], []
    while True:
        record_start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raw = "".join(seen[record_start - 1 : reader.line_num])
            fields = _split_raw(raw, delimiter)
            index = next((i for i, cell in enumerate(fields) if len(cell) > MAX_CELL_CHARS), len(fields) - 1)
            names = headers or []
            column = names[index] if 0 <= index < len(names) and names[index] else str(index + 1)
            if "field larger than field limit" in str(error):
                message = _("This cell is longer than %(limit)s characters.") % {"limit": _figure(MAX_CELL_CHARS)}
            else:
                message = _("This line cannot be read as CSV (%(error)s).") % {"error": error}
            raise UnreadableFile(message, line=reader.line_num, column=column) from None
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


def _split_raw(raw: str, delimiter: str) -> list[str]:
    """A record's fields without the csv module (used only to place its error)."""
    fields, current, quoted = [], [], False
    for char in raw:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            fields.append("".join(current))
            current = []
            continue
        current.append(char)
    fields.append("".join(current))
    return fields


def _figure(number: int) -> str:
    """A figure grouped as the reader writes it: 131 072 in French ("131,072" reads as 131), 131,072 in English."""
    return number_format(number, force_grouping=True)


def _column_letter(number: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(max(1, min(number, 16384)))


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        max_row, max_column = sheet.max_row or 0, sheet.max_column or 0
    except Exception as error:  # openpyxl raises many kinds for a broken zip
        raise UnreadableFile(_("This is not a readable XLSX file (%(error)s).") % {"error": error}) from error
    if max_column > MAX_XLSX_COLUMNS or max_row > MAX_XLSX_ROWS + 1:
        workbook.close()
        raise UnreadableFile(
            _(
                "The sheet's used range reaches cell %(cell)s; the import reads at most %(rows)s rows and "
                "%(columns)s columns. Delete the cells outside the table (or copy the table to a new sheet)."
            )
            % {
                "cell": f"{_column_letter(max_column)}{max_row}",
                "rows": _figure(MAX_XLSX_ROWS),
                "columns": MAX_XLSX_COLUMNS,
            },
            line=max_row,
            column=_column_letter(max_column),
        )
    headers: list[str] | None = None
    rows, lines = [], []
    # max_col bounds each row even when the sheet's recorded dimension lies about its size.
    for number, record in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_XLSX_COLUMNS), start=1):
        if number > MAX_XLSX_ROWS + 1:
            workbook.close()
            raise UnreadableFile(
                _("The sheet has more than %(rows)s rows.") % {"rows": _figure(MAX_XLSX_ROWS)}, line=number
            )
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


# --- Importing ----------------------------------------------------------------------------


def _chunks(values: Iterable, size: int) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


class InArray(Lookup):
    """`column = ANY(%s)` with the whole list as one array parameter (PostgreSQL): one query for any
    number of values, and none of the per-value preparation Django's `__in` does."""

    lookup_name = "in_array"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*params, list(self.rhs)]


def _filter_in(queryset: QuerySet, expression, values: Iterable) -> Iterator[QuerySet]:
    """`queryset` restricted to rows whose `expression` is one of `values`: one query on PostgreSQL,
    chunks of 900 values elsewhere (old SQLite builds take 999 parameters)."""
    values = list(values)
    if not values:
        return
    if isinstance(expression, str):
        expression = F(expression)
    if connection.vendor == "postgresql":
        yield queryset.filter(InArray(expression, values))
        return
    for part in _chunks(values, 900):
        yield queryset.alias(_wanted=expression).filter(_wanted__in=part)


WRITE_BATCH = 1000


@dataclass
class _Row:
    line: int
    values: dict  # attribute -> cleaned value, for the columns in the file (DAS apart)
    das: list[str] | None  # the DAS codes, if the file has the column
    errors: dict[str, list[str]] = field(default_factory=dict)  # attribute ("" for the row) -> messages
    instance: Organisation | None = None
    kind: str = ""  # "new", "update", "skip"
    key: str = ""
    changes: dict = field(default_factory=dict)  # attribute -> (old, new), for the audit trail

    def error(self, attribute: str, message: str) -> None:
        self.errors.setdefault(attribute, []).append(str(message))


def check_header(table: Table, *, known, required, report: ImportReport) -> None:
    """Header errors on line 1: a column twice, an unknown column, a required column missing."""
    first_seen: dict[str, int] = {}
    for position, column in enumerate(table.headers):
        if not column:
            continue
        if column in first_seen:
            report.errors.append(
                RowProblem(
                    line=1,
                    column=column,
                    message=_("This column appears twice (columns %(first)s and %(second)s): keep one.")
                    % {"first": _column_letter(first_seen[column] + 1), "second": _column_letter(position + 1)},
                )
            )
            continue
        first_seen[column] = position
        if column not in known:
            report.errors.append(
                RowProblem(
                    line=1,
                    column=column,
                    message=_("Unknown column. The columns are: %(columns)s.") % {"columns": ", ".join(known)},
                )
            )
    for column in required:
        if column not in table.headers:
            report.errors.append(RowProblem(line=1, column=column, message=_("This column is required.")))


def field_errors(instance, names: Iterable[str], memo: dict) -> dict[str, list[str]]:
    """`Model.clean_fields` for `names`, remembering each (model, field, value)'s verdict: a file repeats
    its categories, statuses, postcodes and cities thousands of times, and no check here depends on the row."""
    errors = {}
    for name in names:
        field = instance._meta.get_field(name)
        value = getattr(instance, field.attname)
        if field.blank and value in field.empty_values:
            continue
        key = (instance.__class__, name, value)
        if key not in memo:
            try:
                field.clean(value, instance)
                memo[key] = None
            except ValidationError as error:
                memo[key] = error.messages
        if memo[key]:
            errors[name] = memo[key]
    return errors


def _audit(new: list[_Row], updated: list[_Row], *, by, model=Organisation) -> None:
    """One audit-trail entry per row created or changed (organisations, or contacts and membership years of
    their files), as django-auditlog writes them on save()."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(model)
    now = timezone.now()
    actor = by if getattr(by, "pk", None) else None

    def entry(row: _Row, action: int) -> tuple:
        changes = {name: [_plain(old), _plain(value)] for name, (old, value) in row.changes.items()}
        return (
            content_type.pk,
            str(row.instance.pk),
            row.instance.pk,
            str(row.instance)[:2000],
            action,
            json.dumps(changes, ensure_ascii=False),
            "",
            actor.pk if actor else None,
            now,
            json.dumps({"source": "import"}),
        )

    entries = [entry(row, LogEntry.Action.CREATE) for row in new] + [
        entry(row, LogEntry.Action.UPDATE) for row in updated
    ]
    fields = ["content_type_id", "object_pk", "object_id", "object_repr", "action", "changes", "changes_text",
              "actor_id", "timestamp", "additional_data"]  # fmt: skip
    if connection.vendor != "postgresql":  # bulk_create wants the JSON as Python values
        entries = [(*entry[:5], json.loads(entry[5]), *entry[6:9], json.loads(entry[9])) for entry in entries]
    bulk_insert(LogEntry, fields, entries)


def _plain(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
