"""The atomic import / export services of the organisations' file (reading a file: members/import_files.py).

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
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from common.bulk import bulk_insert
from common.spreadsheet import neutralise
from members import related_imports
from members.import_files import (
    WRITE_BATCH,
    ImportReport,
    ProgressCallback,
    RowProblem,
    Table,
    UnreadableFile,
    _audit,
    _chunks,
    _filter_in,
    _Row,
    check_header,
    field_errors,
    read_table,
)
from members.models import ImportJob, Organisation, organisation_name_key, organisation_search_key, strategic_areas
from members.resources import OrganisationResource
from members.selectors import directory_changed

DUPLICATE_LIMIT = 10
SIMILAR_NAME_RATIO = 0.9


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
    areas = dict(strategic_areas().values_list("code", "pk"))
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


def _db_value(value):
    """A value as the COPY loader takes it (a date stays a date; a lazy string becomes text)."""
    return value if value is None or isinstance(value, str | int | bool | datetime.date) else str(value)


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
    code_of = dict(strategic_areas().values_list("pk", "code"))
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
