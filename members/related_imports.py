"""The contacts and membership-years files of the import and export, each keyed by the organisation's SIREN.

Separate files rather than extra columns of the organisations' file: a person may have several
roles and an organisation several years, one row each here (docs/members.md, "Contacts and
membership years"). Same rules as the organisations' import (members/imports.py): the whole
file is checked in memory, all or nothing, every problem named by line and column; the rows it
may match are loaded in one query each, so the number of queries does not grow with the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.spreadsheet import neutralise
from members.import_files import (
    WRITE_BATCH,
    ImportReport,
    ProgressCallback,
    RowProblem,
    Table,
    _audit,
    _chunks,
    _filter_in,
    _Row,
    check_header,
    field_errors,
)
from members.models import MembershipYear, Organisation, Person
from members.resources import ChoiceWidget, FrenchDateWidget, SirenWidget, TextWidget, _text

CONTACT_COLUMNS = ("siren", "civilite", "prenom", "nom", "fonction", "email", "roles")
YEAR_COLUMNS = ("siren", "annee", "cotisation", "statut", "date_paiement", "date_demission", "motif_demission")
REQUIRED = {
    "contacts": ("siren", "prenom", "nom", "email"),
    "years": ("siren", "annee", "cotisation"),
}
COLUMNS = {"contacts": CONTACT_COLUMNS, "years": YEAR_COLUMNS}
# Column -> model attribute.
CONTACT_ATTRIBUTES = {"civilite": "civility", "prenom": "first_name", "nom": "last_name", "fonction": "position",
                      "email": "email"}  # fmt: skip
YEAR_ATTRIBUTES = {"annee": "year", "cotisation": "fee", "statut": "status", "date_paiement": "paid_on",
                   "date_demission": "resigned_on", "motif_demission": "resignation_reason"}  # fmt: skip
# Roles as written in the file (French, English accepted) -> the Person flag.
ROLES = {
    "principal": "is_primary_contact",
    "facturation": "is_billing_contact",
    "scientifique": "is_scientific_contact",
    "communication": "is_communication_contact",
}
ROLE_ALIASES = {**ROLES, "primary": "is_primary_contact", "billing": "is_billing_contact",
                "scientific": "is_scientific_contact"}  # fmt: skip
ROLE_SEPARATOR = "|"
FEE_MAX = Decimal("99999999.99")  # MembershipYear.fee: 10 digits, 2 decimals


def table_kind(headers: list[str]) -> str:
    """Which file this is, from its header: "contacts", "years" or "organisations"."""
    names = set(headers)
    if {"email", "roles"} <= names or {"email", "prenom"} <= names:
        return "contacts"
    if {"annee", "cotisation"} <= names:
        return "years"
    return "organisations"


# --- Cells ---------------------------------------------------------------------------------


def parse_fee(value) -> Decimal:
    """An amount as a French spreadsheet writes it: 1 500,00 (spaces of any kind), 1500.5, or a number cell."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        text = _text(value)
        cleaned = text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace("€", "")
        cleaned = cleaned.replace(",", ".")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(_("“%(value)s” is not an amount: write it as 1500,00.") % {"value": text}) from None
        if not amount.is_finite():
            raise ValueError(_("“%(value)s” is not an amount: write it as 1500,00.") % {"value": text})
    if amount < 0:
        raise ValueError(_("A fee cannot be negative."))
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("A fee has at most 2 decimals (cents)."))
    if amount > FEE_MAX:
        raise ValueError(_("This fee is too large."))
    return amount.quantize(Decimal("0.01"))


def parse_year(value) -> int:
    text = _text(value)
    if not (len(text) == 4 and text.isdigit() and 1990 <= int(text) <= 2100):
        raise ValueError(_("“%(value)s” is not a year (four digits, e.g. 2027).") % {"value": text})
    return int(text)


def parse_roles(value) -> dict[str, bool]:
    words = [word.strip().casefold() for word in _text(value).split(ROLE_SEPARATOR) if word.strip()]
    unknown = [word for word in words if word not in ROLE_ALIASES]
    if unknown:
        raise ValueError(
            _("Unknown role(s): %(roles)s. The roles are: %(known)s, separated by |.")
            % {"roles": ", ".join(unknown), "known": ", ".join(ROLES)}
        )
    chosen = {ROLE_ALIASES[word] for word in words}
    return {flag: flag in chosen for flag in ROLES.values()}


def render_fee(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def render_roles(person: dict) -> str:
    return ROLE_SEPARATOR.join(word for word, flag in ROLES.items() if person[flag])


TEXT, SIREN, DATE = TextWidget(), SirenWidget(), FrenchDateWidget()
CIVILITY, YEAR_STATUS = ChoiceWidget(Person.Civility), ChoiceWidget(MembershipYear.Status)
CELL = {
    "siren": SIREN.clean,
    "civilite": CIVILITY.clean,
    "prenom": TEXT.clean,
    "nom": TEXT.clean,
    "fonction": TEXT.clean,
    "email": lambda value: TEXT.clean(value).lower(),
    "roles": parse_roles,
    "annee": parse_year,
    "cotisation": parse_fee,
    "statut": YEAR_STATUS.clean,
    "date_paiement": DATE.clean,
    "date_demission": DATE.clean,
    "motif_demission": TEXT.clean,
}


# --- Import --------------------------------------------------------------------------------


def _parse(table: Table, kind: str) -> list[_Row]:
    """Each cell through its column's parser; a cell's error is kept with its row and column (the column's name)."""
    present = [(index, header) for index, header in enumerate(table.headers) if header in COLUMNS[kind]]
    width = len(table.headers)
    rows = []
    for raw, line in zip(table.rows, table.lines, strict=True):
        row = _Row(line=line, values={}, das=None)
        for index, column in present:
            cell = raw[index] if index < len(raw) else ""
            if column in REQUIRED[kind] and not _text(cell):
                row.error(column, _("This field is required."))
                continue
            try:
                row.values[column] = CELL[column](cell)
            except ValidationError as error:
                row.errors[column] = [str(message) for message in error.messages]
            except ValueError as error:
                row.errors[column] = [str(error)]
        if len(raw) > width and any(str(cell).strip() for cell in raw[width:]):
            row.error("", _("This line has more cells than the header has columns."))
        rows.append(row)
    return rows


def _organisations_by_siren(rows: list[_Row]) -> dict[str, Organisation]:
    sirens = {row.values["siren"] for row in rows if row.values.get("siren")}
    found: dict[str, Organisation] = {}
    for queryset in _filter_in(Organisation.objects.only("pk", "name", "siren"), "siren", sirens):
        found.update((organisation.siren, organisation) for organisation in queryset)
    for row in rows:
        siren = row.values.get("siren")
        if siren and siren not in found and "siren" not in row.errors:
            row.error("siren", _("No organisation has this SIREN: import the organisations first."))
    return found


def _set(row: _Row, instance, attribute: str, value) -> None:
    old = getattr(instance, attribute)
    if old != value:
        setattr(instance, attribute, value)
        row.changes[attribute] = (old, value)


def _name_key(first_name: str, last_name: str) -> tuple[str, str]:
    return first_name.strip().casefold(), last_name.strip().casefold()


def _match_contacts(rows: list[_Row], organisations: dict[str, Organisation]) -> None:
    """Each row's person: the organisation's contact with this e-mail and name, else its only contact with this
    e-mail (a name corrected), else a new one. The organisations' people are loaded in one query for the file.

    Two people of one organisation may share an address (a team mailbox): the name tells them apart.
    """
    by_name: dict[tuple, Person] = {}
    by_email: dict[tuple[int, str], list[Person]] = defaultdict(list)
    people = Person.objects.filter(anonymised_at__isnull=True).order_by("pk")
    for queryset in _filter_in(people, "organisation_id", [o.pk for o in organisations.values()]):
        for person in queryset:
            email = person.email.lower()
            by_name.setdefault((person.organisation_id, email, *_name_key(person.first_name, person.last_name)), person)
            by_email[(person.organisation_id, email)].append(person)
    first_line: dict[tuple, int] = {}
    taken: set[int] = set()
    memo: dict = {}
    for row in rows:
        organisation = organisations.get(row.values.get("siren", ""))
        email = row.values.get("email", "")
        if organisation is None or not email:
            continue
        names = _name_key(row.values.get("prenom", ""), row.values.get("nom", ""))
        key = (organisation.siren, email, *names)
        if key in first_line:
            row.error("email", _("This contact is already on line %(line)s: each person once per organisation.")
                      % {"line": first_line[key]})  # fmt: skip
            continue
        first_line[key] = row.line
        person = by_name.get((organisation.pk, email, *names))
        if person is None:
            same_address = by_email.get((organisation.pk, email), [])
            person = same_address[0] if len(same_address) == 1 and same_address[0].pk not in taken else None
        if person is not None:
            taken.add(person.pk)
        row.kind = "update" if person is not None else "new"
        row.instance = person or Person()
        row.instance.organisation = organisation
        for column, attribute in CONTACT_ATTRIBUTES.items():
            if column in row.values and column not in row.errors:
                if row.kind == "update" and column == "email":
                    continue  # matched on it, whatever its case in the database
                _set(row, row.instance, attribute, row.values[column])
        roles = row.values.get("roles")  # an empty cell: no role; no column: roles left as they are
        if roles is not None and "roles" not in row.errors:
            for attribute, value in roles.items():
                _set(row, row.instance, attribute, value)
        if row.kind == "update" and not row.changes:
            row.kind = "skip"
        names = [a for a in CONTACT_ATTRIBUTES.values() if a in row.changes or row.kind == "new"]
        for attribute, messages in field_errors(row.instance, names, memo).items():
            column = next(c for c, a in CONTACT_ATTRIBUTES.items() if a == attribute)
            if column not in row.errors:  # an empty required cell is reported once, by the parser
                for message in messages:
                    row.error(column, message)


def _match_years(rows: list[_Row], organisations: dict[str, Organisation]) -> None:
    """Each row's membership year: the organisation's year (one query for the whole file), else new."""
    existing: dict[tuple[int, int], MembershipYear] = {}
    for queryset in _filter_in(MembershipYear.objects.all(), "organisation_id", [o.pk for o in organisations.values()]):
        for membership in queryset:
            existing[(membership.organisation_id, membership.year)] = membership
    first_line: dict[tuple[str, int], int] = {}
    memo: dict = {}
    for row in rows:
        organisation = organisations.get(row.values.get("siren", ""))
        year = row.values.get("annee")
        if organisation is None or year is None:
            continue
        key = (organisation.siren, year)
        if key in first_line:
            row.error("annee", _("This year is already on line %(line)s: each year once per organisation.")
                      % {"line": first_line[key]})  # fmt: skip
            continue
        first_line[key] = row.line
        membership = existing.get((organisation.pk, year))
        row.kind = "update" if membership is not None else "new"
        row.instance = membership or MembershipYear(year=year)
        row.instance.organisation = organisation  # loaded already: str() of the year (audit trail) needs it
        for column in ("cotisation", "statut", "date_paiement", "date_demission", "motif_demission"):
            if column not in row.values or column in row.errors:
                continue
            value = row.values[column]
            if column == "statut" and not value:
                if row.kind == "update":
                    continue  # a blank cell never changes a year's status
                value = MembershipYear.Status.PENDING
            _set(row, row.instance, YEAR_ATTRIBUTES[column], value)
        if row.kind == "update" and not row.changes:
            row.kind = "skip"
            continue
        for messages in field_errors(row.instance, ["status"], memo).values():
            row.errors.setdefault("statut", []).extend(messages)
        # The model's check constraints, without their query per row.
        instance = row.instance
        if instance.status == MembershipYear.Status.ACTIVE and instance.paid_on is None:
            row.error("date_paiement", _("An active membership year needs its payment date."))
        if instance.status == MembershipYear.Status.RESIGNED and instance.resigned_on is None:
            row.error("date_demission", _("A resignation needs its date."))


def related_import(
    *, kind: str, table: Table, report: ImportReport, by=None, progress: ProgressCallback | None = None
) -> ImportReport:
    """Import a contacts or membership-years file already read (members_import hands it over)."""
    notify = progress or (lambda phase, done, total: None)
    total = len(table.rows)
    check_header(table, known=COLUMNS[kind], required=REQUIRED[kind], report=report)
    if report.errors:
        return report
    rows = _parse(table, kind)
    notify("check", 0, total)
    organisations = _organisations_by_siren(rows)
    if kind == "contacts":
        _match_contacts(rows, organisations)
    else:
        _match_years(rows, organisations)
    for row in rows:
        for column, messages in row.errors.items():
            for message in messages:
                report.errors.append(RowProblem(line=row.line, column=column, message=message))
    report.errors.sort(key=lambda problem: problem.line)
    valid = [row for row in rows if not row.errors and row.kind]
    report.new = sum(row.kind == "new" for row in valid)
    report.updated = sum(row.kind == "update" for row in valid)
    report.unchanged = sum(row.kind == "skip" for row in valid)
    if report.written and (report.new or report.updated):
        _write(kind, valid, by=by, notify=notify)
    notify("done", total, total)
    return report


def _write(kind: str, rows: list[_Row], *, by, notify: ProgressCallback) -> None:
    """Bulk inserts and updates in one transaction: all or nothing; one audit entry per row written."""
    from members.selectors import directory_changed
    from members.services import organisation_status_sync

    model = Person if kind == "contacts" else MembershipYear
    new = [row for row in rows if row.kind == "new"]
    updated = [row for row in rows if row.kind == "update"]
    now = timezone.now()
    if kind == "years":
        for row in updated:
            row.instance.updated_at = now
    with transaction.atomic():
        done = 0
        for part in _chunks(new, WRITE_BATCH):
            model.objects.bulk_create([row.instance for row in part])
            done += len(part)
            notify("write", done, len(new) + len(updated))
        fields = {name for row in updated for name in row.changes}
        if kind == "years":
            fields.add("updated_at")
        for part in _chunks(updated, WRITE_BATCH):
            model.objects.bulk_update([row.instance for row in part], sorted(fields))
            done += len(part)
            notify("write", done, len(new) + len(updated))
        _audit(new, updated, by=by, model=model)
        if kind == "years":
            # Each organisation's status follows its membership year of this year, as after any change.
            organisation_status_sync(
                today=timezone.localdate(), organisation_ids={row.instance.organisation_id for row in rows}
            )
        directory_changed()


# --- Export --------------------------------------------------------------------------------


def contact_rows(organisations=None, *, progress: Callable[[int], None] | None = None) -> Iterator[list[str]]:
    """The header, then one row per contact of an organisation that has a SIREN (by organisation, name).

    People without an e-mail, anonymised people and people of an organisation without a SIREN
    cannot be keyed in the file: they are left out (and an import leaves them as they are).
    """
    people = Person.objects.filter(anonymised_at__isnull=True, organisation__isnull=False).exclude(email="")
    people = people.exclude(organisation__siren="")
    if organisations is not None:
        people = people.filter(organisation__in=organisations)
    yield list(CONTACT_COLUMNS)
    values = people.order_by("organisation__name", "organisation_id", "last_name", "first_name", "pk").values(
        "organisation_id", "organisation__siren", "civility", "first_name", "last_name", "position", "email",
        *ROLES.values(),
    )  # fmt: skip
    previous = None
    for done, person in enumerate(values.iterator(chunk_size=2000), start=1):
        # The same person entered twice (same address and name) is one row: the file cannot tell them apart.
        key = (
            person["organisation_id"],
            person["email"].lower(),
            *_name_key(person["first_name"], person["last_name"]),
        )
        if key == previous:
            continue
        previous = key
        cells = [person["organisation__siren"], person["civility"], person["first_name"], person["last_name"],
                 person["position"], person["email"].lower(), render_roles(person)]  # fmt: skip
        yield [neutralise(cell) for cell in cells]
        if progress and done % 2000 == 0:
            progress(done)


def year_rows(organisations=None, *, progress: Callable[[int], None] | None = None) -> Iterator[list[str]]:
    """The header, then one row per membership year of an organisation that has a SIREN (by organisation, year)."""
    years = MembershipYear.objects.exclude(organisation__siren="")
    if organisations is not None:
        years = years.filter(organisation__in=organisations)
    yield list(YEAR_COLUMNS)
    values = years.order_by("organisation__name", "organisation_id", "year").values_list(
        "organisation__siren", "year", "fee", "status", "paid_on", "resigned_on", "resignation_reason"
    )
    rows = values.iterator(chunk_size=2000)
    for done, (siren, year, fee, status, paid_on, resigned_on, reason) in enumerate(rows, start=1):
        yield [siren, str(year), render_fee(fee), status, _date(paid_on), _date(resigned_on), neutralise(reason)]
        if progress and done % 2000 == 0:
            progress(done)


def related_rows(kind: str, organisations=None, *, progress=None) -> Iterator[list[str]]:
    return (contact_rows if kind == "contacts" else year_rows)(organisations, progress=progress)
