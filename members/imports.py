"""Reading spreadsheets as a French office suite writes them, and the atomic import / export services.

The import works on the whole file at once (docs/members.md, "Import"): every row is parsed
and validated in memory, the organisations it may match are loaded in a handful of queries
(by SIREN, by normalised name, and by name prefix for the probable duplicates), and the
writes are bulk inserts and updates in one transaction. The number of queries does not grow
with the number of rows (beyond one per few thousand rows of a batch).
"""

from __future__ import annotations

import bisect
import csv
import datetime
import difflib
import io
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.db.models import F, Lookup, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from common.bulk import bulk_insert
from common.spreadsheet import neutralise
from members.models import ImportJob, Organisation, organisation_name_key, organisation_search_key
from members.resources import OrganisationResource
from members.selectors import directory_changed

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
UTF8_BOM = b"\xef\xbb\xbf"
# The csv module's own field limit; no column of the import comes near it (description: 4,000).
MAX_CELL_CHARS = 131_072
# An XLSX sheet whose used range reaches further is refused before a cell is read: openpyxl
# would otherwise hand over every empty cell up to XFD1048576 (17 billion of them).
MAX_XLSX_COLUMNS = 100
MAX_XLSX_ROWS = 200_000
DUPLICATE_LIMIT = 10
SIMILAR_NAME_RATIO = 0.9

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


class _Similar:
    """Near-identical normalised names (difflib ratio ≥ 0.9), computed once per pair of distinct keys.

    difflib's own bounds first, cheaply: the lengths (real_quick_ratio), then the characters in
    common counted from one Counter per key (quick_ratio) — most pairs stop there.
    """

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], bool] = {}
        self.counts: dict[str, Counter] = {}

    def __call__(self, key: str, other: str) -> bool:
        total = len(key) + len(other)
        if 2 * min(len(key), len(other)) < SIMILAR_NAME_RATIO * total:
            return False
        pair = (key, other) if key < other else (other, key)
        verdict = self.cache.get(pair)
        if verdict is None:
            counts = self.counts
            mine = counts.get(key) or counts.setdefault(key, Counter(key))
            theirs = counts.get(other) or counts.setdefault(other, Counter(other))
            common = sum((mine & theirs).values())
            verdict = 2 * common >= SIMILAR_NAME_RATIO * total and (
                difflib.SequenceMatcher(None, key, other).ratio() >= SIMILAR_NAME_RATIO
            )
            self.cache[pair] = verdict
        return verdict


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


def members_import(
    *, content: bytes, dry_run: bool = False, by=None, progress: ProgressCallback | None = None
) -> ImportReport:
    """Import organisations from a CSV or XLSX file, all or nothing.

    One invalid row writes nothing; every invalid row is reported with its line, column and
    reason. New organisations that look like existing ones (or like an earlier row) are
    reported as warnings. `progress(phase, done, total)` is called as rows are checked and written.
    """
    report = ImportReport(dry_run=dry_run)
    try:
        table = read_table(content)
    except UnreadableFile as error:
        report.errors.append(RowProblem(line=error.line, column=error.column, message=str(error)))
        return report
    report.encoding = table.encoding
    # Imported here: related_imports builds on this module's reading and writing helpers.
    from members import related_imports

    kind = related_imports.table_kind(table.headers)
    if kind != "organisations":  # a contacts or membership-years file, keyed by SIREN
        return related_imports.related_import(kind=kind, table=table, report=report, by=by, progress=progress)
    resource = OrganisationResource()
    known = resource.column_names()
    check_header(table, known=known, required=OrganisationResource.REQUIRED_COLUMNS, report=report)
    if report.errors:
        return report

    total = len(table.rows)
    notify = progress or (lambda phase, done, all_rows: None)
    column_of = {f.attribute: f.column_name for f in resource.fields.values()}
    rows = _parse(table, resource, notify)
    areas = dict(apps.get_model("das", "StrategicArea").objects.values_list("code", "pk"))
    by_siren, by_key = _match(rows)
    _apply_and_validate(rows, areas, by_siren, notify, total)
    _assign_slugs([row for row in rows if row.kind == "new" and not row.errors])
    report.warnings = _duplicate_warnings(rows, by_key)

    for row in rows:
        for attribute, messages in row.errors.items():
            if attribute == "slug" and "name" in row.errors:
                continue  # the slug is made from the name: its error is the name's
            column = "" if attribute in ("", NON_FIELD_ERRORS) else column_of.get(attribute, attribute)
            for message in messages:
                report.errors.append(RowProblem(line=row.line, column=column, message=message))
    valid = [row for row in rows if not row.errors]
    report.new = sum(row.kind == "new" for row in valid)
    report.updated = sum(row.kind == "update" for row in valid)
    report.unchanged = sum(row.kind == "skip" for row in valid)
    report.errors.sort(key=lambda problem: problem.line)
    if report.written and (report.new or report.updated):
        _write(valid, areas, by=by, notify=notify)
        directory_changed()
    notify("done", total, total)
    return report


def _parse(table: Table, resource: OrganisationResource, notify: ProgressCallback) -> list[_Row]:
    """Each cell through its column's widget; a cell's error is kept with its row and column."""
    by_column = {f.column_name: f for f in resource.fields.values()}
    present = [(index, by_column[header]) for index, header in enumerate(table.headers) if header in by_column]
    das_widget = resource.fields["das_interests"].widget
    rows = []
    width = len(table.headers)
    for number, (raw, line) in enumerate(zip(table.rows, table.lines, strict=True), start=1):
        row = _Row(line=line, values={}, das=None)
        for index, column in present:
            cell = raw[index] if index < len(raw) else ""
            if column.attribute == "das_interests":
                row.das = das_widget.codes(cell)
                continue
            try:
                row.values[column.attribute] = column.widget.clean(cell)
            except ValidationError as error:
                row.errors[column.attribute] = [str(message) for message in error.messages]
            except ValueError as error:
                row.errors[column.attribute] = [str(error)]
        if len(raw) > width and any(str(cell).strip() for cell in raw[width:]):
            row.error("", _("This line has more cells than the header has columns."))
        rows.append(row)
        if number % 1000 == 0:
            notify("read", number, len(table.rows))
    return rows


def _match(rows: list[_Row]) -> tuple[dict[str, Organisation], dict[str, list[Organisation]]]:
    """Each row's organisation: by SIREN, else by normalised name; loaded in a few queries for the whole file.

    A row matching an earlier row of the same file is an error: each organisation once per file.
    """
    sirens = {row.values.get("siren") for row in rows if row.values.get("siren")}
    keys = set()
    for row in rows:
        row.key = organisation_name_key(row.values.get("name", "") or "")
        if row.key:
            keys.add(row.key)
    loaded: dict[int, Organisation] = {}
    by_siren: dict[str, Organisation] = {}
    by_key: dict[str, list[Organisation]] = defaultdict(list)
    for queryset in _filter_in(Organisation.objects.all(), "siren", sirens):
        for organisation in queryset:
            organisation = loaded.setdefault(organisation.pk, organisation)
            by_siren[organisation.siren] = organisation
    for queryset in _filter_in(Organisation.objects.order_by("name", "pk"), "name_key", keys):
        for organisation in queryset:
            by_key[organisation.name_key].append(loaded.setdefault(organisation.pk, organisation))

    line_of_siren: dict[str, int] = {}
    rows_of_key: dict[str, list[_Row]] = defaultdict(list)
    matched: dict[int, int] = {}  # organisation pk -> line of the row that matched it
    siren_given: dict[int, str] = {}  # organisation pk -> the SIREN an earlier row gives it
    for row in rows:
        siren = row.values.get("siren") or ""
        if siren and siren in line_of_siren:
            row.error("siren", _("This SIREN is already on line %(line)s: each organisation once per file.")
                      % {"line": line_of_siren[siren]})  # fmt: skip
        earlier = [other for other in rows_of_key.get(row.key, []) if not (siren and other.values.get("siren"))]
        if earlier and not row.errors.get("siren"):
            row.error("name", _("This organisation is already on line %(line)s: each organisation once per file.")
                      % {"line": earlier[0].line})  # fmt: skip
        if siren:
            line_of_siren.setdefault(siren, row.line)
        if row.key:
            rows_of_key[row.key].append(row)
        instance = by_siren.get(siren) if siren else None
        if instance is None and row.key:
            # A namesake with another SIREN is another organisation (reported as a probable duplicate).
            same_name = [
                other for other in by_key.get(row.key, []) if not (siren and (other.siren or siren_given.get(other.pk)))
            ]
            if len(same_name) > 1:
                row.error(
                    "name",
                    _("Several organisations have this name (%(names)s): add their SIREN to tell them apart.")
                    % {"names": ", ".join(str(o) for o in same_name[:3])},
                )
            elif same_name:
                instance = same_name[0]
        if instance is not None:
            if instance.pk in matched and not row.errors:
                row.error("", _("This organisation is already on line %(line)s: each organisation once per file.")
                          % {"line": matched[instance.pk]})  # fmt: skip
            matched.setdefault(instance.pk, row.line)
            if siren and not instance.siren:
                siren_given[instance.pk] = siren  # as if saved: a later namesake with another SIREN is new
            row.instance, row.kind = instance, "update"
        else:
            row.instance, row.kind = Organisation(), "new"
    return by_siren, by_key


FIELD = {field.name: field for field in Organisation._meta.fields}
# Model.full_clean's field checks, minus the primary key, the derived keys (set before writing),
# the slug (made unique below) and the logo (never imported; its validator would open the file).
VALIDATED_FIELDS = [name for name in FIELD if name not in {"id", "slug", "logo", "name_key", "search_key"}]


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


def _apply_and_validate(
    rows: list[_Row],
    areas: dict[str, int],
    by_siren: dict[str, Organisation],
    notify: ProgressCallback,
    total: int,
) -> None:
    """Set each row's values on its organisation and validate the model, without a query per row."""
    Through = Organisation.das_interests.through
    existing_areas: dict[int, set[str]] = defaultdict(set)
    code_of = {pk: code for code, pk in areas.items()}
    updates = [row.instance.pk for row in rows if row.kind == "update" and row.das is not None]
    for queryset in _filter_in(Through.objects.all(), "organisation_id", updates):
        for organisation_id, area_id in queryset.values_list("organisation_id", "strategicarea_id"):
            existing_areas[organisation_id].add(code_of.get(area_id, ""))
    known_codes = ", ".join(sorted(areas))
    memo: dict = {}
    for number, row in enumerate(rows, start=1):
        instance = row.instance
        if row.das is not None:
            unknown = [code for code in row.das if code not in areas]
            if unknown:
                row.error(
                    "das_interests",
                    _("Unknown DAS code(s): %(codes)s. Known codes: %(known)s.")
                    % {"codes": ", ".join(unknown), "known": known_codes},
                )
        changed = False
        for attribute, value in row.values.items():
            if attribute in row.errors:
                continue
            old = getattr(instance, attribute)
            if row.kind == "update" and attribute in ("siren", "status") and not value:
                continue  # a blank cell never erases an organisation's SIREN or status
            if old != value:
                setattr(instance, attribute, value)
                row.changes[attribute] = (old, value)
                changed = True
        if row.kind == "new":
            if not instance.status:
                instance.status = Organisation.Status.PROSPECT
        elif row.das is not None and set(row.das) != existing_areas.get(instance.pk, set()):
            row.changes["das_interests"] = (
                "|".join(sorted(existing_areas.get(instance.pk, set()))),
                "|".join(sorted(row.das)),
            )
            changed = True
        if row.kind == "update" and not changed:
            row.kind = "skip"
        # What is written is validated: every field of a new organisation, the changed ones of an update.
        checked = VALIDATED_FIELDS if row.kind == "new" else [name for name in row.changes if name in FIELD]
        for attribute, messages in field_errors(instance, checked, memo).items():
            if attribute not in row.errors:
                for message in messages:
                    row.error(attribute, message)
        siren = instance.siren
        owner = by_siren.get(siren) if siren else None
        if owner is not None and owner.pk != instance.pk and "siren" not in row.errors:
            row.error("siren", _("Another organisation (%(name)s) already has this SIREN.") % {"name": owner.name})
        if number % 1000 == 0:
            notify("check", number, total)


def _assign_slugs(rows: list[_Row]) -> None:
    """Unique slugs for the new organisations, checked against the slugs already taken in two queries."""
    bases = [slugify(row.instance.name)[:240] or "organisation" for row in rows]
    wanted = set(bases)
    taken: set[str] = set()
    for queryset in _filter_in(Organisation.objects.all(), "slug", wanted):
        taken.update(queryset.values_list("slug", flat=True))
    clashing = sorted(wanted & taken)
    for part in _chunks(clashing, 200):
        condition = Q(pk__in=[])
        for base in part:
            condition |= Q(slug__startswith=f"{base}-")
        taken.update(Organisation.objects.filter(condition).values_list("slug", flat=True))
    suffix: dict[str, int] = {}
    for row, base in zip(rows, bases, strict=True):
        slug = base
        if slug in taken:
            number = suffix.get(base, 1)
            while slug in taken:
                number += 1
                slug = f"{base}-{number}"
            suffix[base] = number
        taken.add(slug)
        row.instance.slug = slug


NEAR_WINDOW = 30  # neighbours, in sorted order and in reversed-key order, compared with each new name


def _duplicate_warnings(rows: list[_Row], by_key: dict[str, list[Organisation]]) -> list[RowProblem]:
    """Probable duplicates of every valid new row in one pass: the same normalised name, or a near-identical
    one (difflib ratio ≥ 0.9 among names sharing its first five characters), in the database or on an
    earlier row of the file.

    Near-identical names are looked for among each name's neighbours when the names of its prefix are
    sorted, forwards and by their reversed spelling (a difference late in the name, or early), rather
    than against every name of the prefix: that is what keeps 10,000 rows in seconds.
    """
    new_rows = [row for row in rows if row.kind == "new" and not row.errors and row.key]
    if not new_rows:
        return []
    prefixes = {row.key[:5] for row in new_rows if len(row.key) >= 6}
    existing: dict[str, list] = defaultdict(list)  # normalised name -> organisations
    candidates = Organisation.objects.only("pk", "name", "siren", "name_key").order_by("pk")
    for queryset in _filter_in(candidates, Substr("name_key", 1, 5), prefixes):
        for organisation in queryset:
            existing[organisation.name_key].append(organisation)
    keys_of_prefix: dict[str, set[str]] = defaultdict(set)
    for key in [*existing, *(row.key for row in new_rows)]:
        if len(key) >= 6:
            keys_of_prefix[key[:5]].add(key)
    forward = {prefix: sorted(keys) for prefix, keys in keys_of_prefix.items()}
    backward = {prefix: sorted(key[::-1] for key in keys) for prefix, keys in keys_of_prefix.items()}
    similar = _Similar()
    near_keys: dict[str, list[str]] = {}

    def near(key: str) -> list[str]:
        if key not in near_keys:
            found: dict[str, None] = {}
            for ordered, probe, flip in ((forward[key[:5]], key, False), (backward[key[:5]], key[::-1], True)):
                at = bisect.bisect_left(ordered, probe)
                for candidate in ordered[max(0, at - NEAR_WINDOW) : at + NEAR_WINDOW + 1]:
                    other = candidate[::-1] if flip else candidate
                    if other != key and other not in found and similar(key, other):
                        found[other] = None
            near_keys[key] = list(found)
        return near_keys[key]

    earlier: dict[str, list] = defaultdict(list)  # normalised name -> new organisations of earlier rows
    warnings = []
    for row in new_rows:
        key = row.key
        found: list = [*by_key.get(key, []), *earlier[key]][:DUPLICATE_LIMIT]
        if len(key) >= 6:
            for other in near(key):
                if len(found) >= DUPLICATE_LIMIT:
                    break
                found.extend([*existing.get(other, []), *earlier.get(other, [])][: DUPLICATE_LIMIT - len(found)])
        if found:
            warnings.append(
                RowProblem(
                    line=row.line,
                    column="nom",
                    message=_("“%(name)s” is probably a duplicate of: %(others)s.")
                    % {"name": row.instance.name, "others": "; ".join(f"{o.name} ({o.siren or '—'})" for o in found)},
                )
            )
        earlier[key].append(row.instance)
    return warnings


def probable_duplicates_many(entries: Iterable[tuple], *, model=None) -> dict:
    """Probable duplicates of many (id, name, SIREN, own organisation id or None) at once, as the import
    finds them: the same SIREN, the same normalised name, or a near-identical one (difflib ratio ≥ 0.9
    among names sharing its first five characters). For a page of the admin (the applications to
    join): four queries whatever the page's size, not a search per row.

    Looks among organisations and, when given, among rows of `model` (the applications) but the entry
    itself. Returns {id: [organisations and `model` rows]}.
    """
    entries = [(pk, organisation_name_key(name or ""), siren or "", own) for pk, name, siren, own in entries]
    if not entries:
        return {}
    keys = {key for _pk, key, _siren, _own in entries if key}
    prefixes = {key[:5] for key in keys if len(key) >= 6}
    sirens = {siren for _pk, _key, siren, _own in entries if siren}
    exact = Q(pk__in=[])
    if sirens:
        exact |= Q(siren__in=sirens)
    if keys:
        exact |= Q(name_key__in=keys)
    sources = [Organisation.objects.only("pk", "name", "siren", "slug", "name_key")]
    if model is not None:
        sources.append(model.objects.only("pk", "organisation_name", "siren", "name_key", "status", "organisation_id"))
    candidates: dict = {}
    for queryset in sources:
        for candidate in queryset.filter(exact):
            candidates[(type(candidate), candidate.pk)] = candidate
        if prefixes:
            # Near-identical names share the first five characters; a broad prefix ("insti…") is capped.
            similar_names = queryset.alias(_prefix=Substr("name_key", 1, 5)).filter(_prefix__in=prefixes)
            for candidate in similar_names.order_by("name_key")[: 200 * len(prefixes)]:
                candidates.setdefault((type(candidate), candidate.pk), candidate)
    similar = _Similar()
    found: dict = {}
    for pk, key, siren, own in entries:
        matches = []
        for candidate in candidates.values():
            if isinstance(candidate, Organisation):
                if candidate.pk == own:
                    continue  # the organisation this application became
            elif candidate.pk == pk or candidate.organisation_id:
                continue  # itself, or an approved application (its organisation is a candidate already)
            other = candidate.name_key
            same = (siren and candidate.siren == siren) or (key and other == key)
            if same or (len(key) >= 6 and len(other) >= 6 and other[:5] == key[:5] and similar(key, other)):
                matches.append(candidate)
                if len(matches) >= DUPLICATE_LIMIT:
                    break
        if matches:
            found[pk] = matches
    return found


def _write(rows: list[_Row], areas: dict[str, int], *, by, notify: ProgressCallback) -> None:
    """Bulk inserts and updates in one transaction: all or nothing."""
    Through = Organisation.das_interests.through
    new = [row for row in rows if row.kind == "new"]
    updated = [row for row in rows if row.kind == "update"]
    total = len(new) + len(updated)
    for row in new + updated:
        # Derived columns that Organisation.save() keeps in step (bulk writes call no save()).
        row.instance.name_key = organisation_name_key(row.instance.name)
        row.instance.search_key = organisation_search_key(row.instance.name, row.instance.city)
    notify("write", 0, total)
    with transaction.atomic():
        done = 0
        # COPY on PostgreSQL (common.bulk): Django's bulk_create spent most of the write phase
        # escaping each value into arrays in Python.
        columns = [field.attname for field in Organisation._meta.concrete_fields if not field.primary_key]
        for part in _chunks(new, WRITE_BATCH * 5):
            ids = bulk_insert(
                Organisation,
                columns,
                [tuple(_db_value(getattr(row.instance, name)) for name in columns) for row in part],
                with_ids=True,
            )
            for row, pk in zip(part, ids, strict=True):
                row.instance.pk = pk
            done += len(part)
            notify("write", done, total)
        fields = sorted(
            {name for row in updated for name in row.changes if name != "das_interests"} | {"name_key", "search_key"}
        )
        for part in _chunks(updated, WRITE_BATCH):
            Organisation.objects.bulk_update([row.instance for row in part], fields)
            done += len(part)
            notify("write", done, total)
        replaced = [row.instance.pk for row in updated if "das_interests" in row.changes]
        for queryset in _filter_in(Through.objects.all(), "organisation_id", replaced):
            queryset.delete()
        links = [
            (row.instance.pk, areas[code])
            for row in new + [row for row in updated if "das_interests" in row.changes]
            for code in dict.fromkeys(row.das or [])
        ]
        bulk_insert(Through, ["organisation_id", "strategicarea_id"], links)
        _audit(new, updated, by=by)


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


def _db_value(value):
    """A value as the COPY loader takes it (a date stays a date; a lazy string becomes text)."""
    return value if value is None or isinstance(value, str | int | bool | datetime.date) else str(value)


def _plain(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


# --- Imports run by a worker ------------------------------------------------------------


def import_job_create(*, content: bytes, filename: str, dry_run: bool, by) -> ImportJob:
    """A queued import job holding the file; the caller enqueues `members.run_import_job` on commit."""
    job = ImportJob(content=content, filename=filename[:255], dry_run=dry_run, created_by=by)
    job.full_clean()
    job.save()
    return job


def import_job_run(*, job_id: int, stale_after: datetime.timedelta | None = None) -> ImportJob | None:
    """Run a queued import job and keep its report on the row; None if another run has it.

    Claim before acting: only the caller that moves the row from "queued" (or from a "running"
    left behind by a worker that died, after `stale_after`) runs it, so a task delivered twice
    imports once. The file is emptied from the row once read; the report stays.
    """
    now = timezone.now()
    claimable = Q(status=ImportJob.Status.QUEUED)
    if stale_after is not None:
        claimable |= Q(status=ImportJob.Status.RUNNING, started_at__lt=now - stale_after)
    if not ImportJob.objects.filter(claimable, pk=job_id).update(
        status=ImportJob.Status.RUNNING, started_at=now, phase="read", rows_done=0
    ):
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)

    def progress(phase: str, done: int, total: int) -> None:
        # Outside the import's transaction but for the write phase: the progress page sees it at once.
        ImportJob.objects.filter(pk=job_id).update(phase=phase, rows_done=done, rows_total=total)

    try:
        report = members_import(content=bytes(job.content), dry_run=job.dry_run, by=job.created_by, progress=progress)
    except Exception as error:
        # Recorded on the row for staff, then raised again so the worker logs the traceback.
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"
        )
        raise
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now(), report=report.as_dict(), content=b"", phase="done"
    )
    job.refresh_from_db()
    return job


# --- Exporting ----------------------------------------------------------------------------


EXPORT_CHUNK = 2000
EXPORT_FIELDS = (
    "pk",
    "siren",
    "name",
    "category",
    "status",
    "member_since",
    "headcount",
    "address",
    "postcode",
    "city",
    "website",
    "directory_opt_in",
    "description",
)


def _export_cells(values: tuple, das: str) -> list[str]:
    """One organisation's cells, as OrganisationResource renders them, every one neutralised."""
    (_pk, siren, name, category, status, member_since, headcount, address, postcode, city, website, opt_in,
     description) = values  # fmt: skip
    cells = [
        siren,
        name,
        category,
        status,
        member_since.strftime("%d/%m/%Y") if member_since else "",
        "" if headcount is None else str(headcount),
        address,
        postcode,
        city,
        website,
        das,
        "oui" if opt_in else "non",
        description,
    ]
    return [neutralise(cell) for cell in cells]


def export_rows(queryset=None, *, progress: Callable[[int], None] | None = None) -> Iterator[list[str]]:
    """The header, then one row per organisation (by name), read in chunks: memory does not grow with the table.

    Plain values, not model instances; the DAS codes of a chunk in one query.
    """
    queryset = Organisation.objects.all() if queryset is None else queryset
    Through = Organisation.das_interests.through
    code_of = dict(apps.get_model("das", "StrategicArea").objects.values_list("pk", "code"))
    yield OrganisationResource.column_names()
    chunk: list[tuple] = []
    done = 0

    def flush(chunk: list[tuple]) -> Iterator[list[str]]:
        codes: dict[int, list[str]] = defaultdict(list)
        links = Through.objects.filter(organisation_id__in=[values[0] for values in chunk]).values_list(
            "organisation_id", "strategicarea_id"
        )
        for organisation_id, area_id in links:
            codes[organisation_id].append(code_of[area_id])
        for values in chunk:
            yield _export_cells(values, "|".join(sorted(codes.get(values[0], ()))))

    rows = queryset.order_by("name", "pk").values_list(*EXPORT_FIELDS).iterator(chunk_size=EXPORT_CHUNK)
    for values in rows:
        chunk.append(values)
        if len(chunk) >= EXPORT_CHUNK:
            yield from flush(chunk)
            done += len(chunk)
            chunk = []
            if progress:
                progress(done)
    if chunk:
        yield from flush(chunk)
        done += len(chunk)
        if progress:
            progress(done)


class _Line:
    """A file-like object that hands back what the csv writer wrote."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


EXPORT_KINDS = ("organisations", "contacts", "years")


def _kind_rows(kind: str, queryset, progress) -> Iterator[list[str]]:
    """The rows of one of the three files: organisations, or the contacts or membership years of `queryset`'s."""
    if kind == "organisations":
        return export_rows(queryset, progress=progress)
    if kind not in EXPORT_KINDS:
        raise ValueError(f"Unknown export kind {kind!r}")
    from members import related_imports  # it builds on this module

    return related_imports.related_rows(kind, queryset, progress=progress)


def export_csv_stream(
    queryset=None, *, progress: Callable[[int], None] | None = None, kind: str = "organisations"
) -> Iterator[bytes]:
    """CSV as Excel opens it (semicolons, UTF-8 with BOM, CRLF), in pieces of a chunk of rows each."""
    buffer = _Line()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    yield "\ufeff".encode()
    pending = 0
    for cells in _kind_rows(kind, queryset, progress):
        writer.writerow(cells)
        pending += 1
        if pending >= EXPORT_CHUNK:
            yield buffer.take().encode("utf-8")
            pending = 0
    yield buffer.take().encode("utf-8")


def export_xlsx_file(
    target, queryset=None, *, progress: Callable[[int], None] | None = None, kind: str = "organisations"
) -> None:
    """XLSX written row by row (openpyxl's write-only mode keeps rows on disk, not in memory) into `target`."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for cells in _kind_rows(kind, queryset, progress):
        sheet.append(cells)
    workbook.save(target)


def members_export(*, queryset=None, file_format: str = "csv", kind: str = "organisations") -> bytes:
    """Export organisations (or their contacts, or membership years: `kind`) as CSV (semicolons, UTF-8
    with BOM, as Excel opens it) or XLSX, in memory."""
    if file_format == "xlsx":
        buffer = io.BytesIO()
        export_xlsx_file(buffer, queryset, kind=kind)
        return buffer.getvalue()
    if file_format != "csv":
        raise ValueError(f"Unknown export format {file_format!r}")
    return b"".join(export_csv_stream(queryset, kind=kind))
