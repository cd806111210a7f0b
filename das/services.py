from __future__ import annotations

import datetime
import tomllib
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from das.models import Mandate, SeedRecord, StrategicArea
from members.models import Organisation, Person, organisation_name_key
from members.selectors import directory_changed

GOVERNANCE_FILE = Path(__file__).resolve().parent / "data" / "governance.toml"


def _member_organisation_id(names: list[str]) -> int | None:
    """The member organisation whose normalised name is one of `names` (None unless exactly one)."""
    for name in names:
        if not name:
            continue
        ids = list(Organisation.objects.filter(name_key=organisation_name_key(name)).values_list("pk", flat=True)[:2])
        if len(ids) == 1:
            return ids[0]
    return None


def _snapshot(row, fields: list[str]) -> dict:
    return {name: _plain(getattr(row, name)) for name in fields}


def _empty(value) -> bool:
    return value is None or value == "" or value is False


def _plain(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _seed_row(*, key: str, lookup, create, values: dict, counter: list) -> object | None:
    """Load one seed entry once; afterwards only fill what is still empty on a row nobody changed.

    - never loaded: the row matching the entry (`lookup()`) gets its empty fields filled, or
      is created (`create(values)`); the values are recorded;
    - loaded before and still as the loader left it: fields still empty are filled (a member
      organisation that joined since, a title the data file gained);
    - loaded before and changed or deleted since: staff did it, the row is left alone.
    Returns the row (None when staff deleted it).
    """
    fields = list(values)
    record = SeedRecord.objects.filter(key=key).first()
    if record is not None:
        row = lookup(pk=record.object_id)
        if row is None or _snapshot(row, fields) != {name: record.values.get(name) for name in fields}:
            return row
    else:
        row = lookup()
        if row is None:
            row = create(values)
            counter[0] += 1
            SeedRecord.objects.create(key=key, object_id=row.pk, values=_snapshot(row, fields))
            return row
    missing = [name for name in fields if _empty(getattr(row, name)) and not _empty(values[name])]
    for name in missing:
        setattr(row, name, values[name])
    if missing:
        row.full_clean()
        row.save(update_fields=missing)
    SeedRecord.objects.update_or_create(key=key, defaults={"object_id": row.pk, "values": _snapshot(row, fields)})
    return row


def governance_load(*, path: Path = GOVERNANCE_FILE) -> dict[str, int]:
    """Load the DAS and their governance from the reviewed data file, each entry once.

    Areas are matched by code, people by name, mandates by (person, area, role, start date).
    A later run adds entries that are new in the file and fills fields still empty on rows
    nobody changed; it never changes a row staff have touched (see `_seed_row`). Each
    mandate's affiliation is linked to the member organisation of that name, when there is
    one. Returns counts of created rows.
    """
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    start: datetime.date = data["mandate_start"]
    areas, people, mandates = [0], [0], [0]

    def first(queryset):
        def lookup(pk=None):
            return (queryset.filter(pk=pk) if pk is not None else queryset).first()

        return lookup

    with transaction.atomic():
        for area_data in data["areas"]:
            code = area_data["code"]
            area_values = {name: area_data[name] for name in AREA_FIELDS}
            area = _seed_row(
                key=f"area:{code}",
                lookup=first(StrategicArea.objects.filter(code=code)),
                create=lambda values, code=code: _created(StrategicArea(code=code, **values)),
                values=area_values,
                counter=areas,
            )
            if area is None:
                continue  # staff deleted the area: its board is not brought back either
            for seat in area_data["board"]:
                first_name, last_name = seat["first_name"], seat["last_name"]
                affiliation = seat.get("affiliation", "")
                organisation_id = _member_organisation_id([seat.get("member", ""), affiliation])
                person = _seed_row(
                    key=f"person:{first_name} {last_name}",
                    lookup=first(
                        Person.objects.filter(first_name=first_name, last_name=last_name, anonymised_at__isnull=True)
                    ),
                    create=lambda values, f=first_name, la=last_name: _created(
                        Person(first_name=f, last_name=la, **values)
                    ),
                    values={
                        "civility": seat.get("civility", ""),
                        "position": seat.get("position", ""),
                        "affiliation": affiliation,
                        "organisation_id": organisation_id,
                    },
                    counter=people,
                )
                if person is None:
                    continue
                role = seat["role"]
                _seed_row(
                    key=f"mandate:{code}:{role}:{first_name} {last_name}:{start.isoformat()}",
                    lookup=first(Mandate.objects.filter(person=person, area=area, role=role, start_date=start)),
                    create=lambda values, p=person, a=area, r=role: _created(
                        Mandate(person=p, area=a, role=r, start_date=start, **values)
                    ),
                    values={
                        "position_en": seat.get("position", ""),
                        "position_fr": seat.get("position_fr", ""),
                        "affiliation": affiliation,
                        "organisation_id": organisation_id,
                        "feminine_title": bool(seat.get("feminine", False)),
                    },
                    counter=mandates,
                )
        directory_changed()  # the member directory names the areas (members.selectors.directory_facts)
    return {"areas": areas[0], "people": people[0], "mandates": mandates[0]}


AREA_FIELDS = ["name_fr", "name_en", "description_fr", "description_en", "position"]


def _created(row):
    row.full_clean()
    row.save()
    return row


def personal_data_erase(*, person, now: datetime.datetime) -> None:
    """Anonymisation, das side: the titles published on the person's mandates go.

    Mandates stay (past boards, committee figures); their job title and affiliation as
    published, which would name the person again, go. Refused (ValidationError) while the
    person holds a current mandate: staff end it first. Runs inside person_anonymise()'s
    transaction, before the erasers of later apps (settings.PERSONAL_DATA_ERASERS).
    """
    if Mandate.objects.as_of(timezone.localdate(now)).filter(person=person).exists():
        raise ValidationError(
            _("%(person)s holds a current governance mandate: end it before anonymising them."),
            code="current_mandate",
            params={"person": person},
        )
    # A past board keeps the seat (role, dates, member organisation) but not the job title
    # and affiliation as published, which would name the person again.
    Mandate.objects.filter(person=person).update(position_fr="", position_en="", affiliation="")


def personal_data_audit_scrub(*, person) -> None:
    """Anonymisation, das side, once the person is scrubbed: the audit entries of their mandates are
    named after them ("President — DAS — Dr X") and now carry the anonymised name.

    Runs inside person_anonymise()'s transaction (settings.PERSONAL_DATA_AUDIT_SCRUBBERS).
    """
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    mandate_type = ContentType.objects.get_for_model(Mandate)
    for mandate in Mandate.objects.filter(person=person).select_related("area", "person"):
        LogEntry.objects.filter(content_type=mandate_type, object_pk=str(mandate.pk)).update(object_repr=str(mandate))
