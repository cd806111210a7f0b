from __future__ import annotations

import datetime
import tomllib
from pathlib import Path

from django.apps import apps
from django.db import transaction

from das.models import Mandate, StrategicArea

GOVERNANCE_FILE = Path(__file__).resolve().parent / "data" / "governance.toml"


def governance_load(*, path: Path = GOVERNANCE_FILE) -> dict[str, int]:
    """Create or update the DAS and their governance from the reviewed data file.

    Idempotent: areas are matched by code, people by name, mandates by (person, area,
    role, start date), so a second run changes nothing. Returns counts of created rows.
    """
    Person = apps.get_model("members", "Person")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    start: datetime.date = data["mandate_start"]
    created = {"areas": 0, "people": 0, "mandates": 0}
    with transaction.atomic():
        for area_data in data["areas"]:
            board = area_data.pop("board")
            area, was_created = StrategicArea.objects.update_or_create(code=area_data.pop("code"), defaults=area_data)
            created["areas"] += was_created
            for seat in board:
                role = seat.pop("role")
                person, was_created = Person.objects.update_or_create(
                    first_name=seat.pop("first_name"), last_name=seat.pop("last_name"), defaults=seat
                )
                created["people"] += was_created
                if not Mandate.objects.filter(person=person, area=area, role=role, start_date=start).exists():
                    mandate = Mandate(person=person, area=area, role=role, start_date=start)
                    mandate.full_clean()
                    mandate.save()
                    created["mandates"] += 1
    return created


def personal_data_erase(*, person, now: datetime.datetime) -> None:
    """Anonymisation, das side: revoke the calendar feed, skip pending e-mails, scrub addresses.

    Mandates, invitations, answers and attendance stay (past records, committee figures);
    only the person's address goes. Runs inside person_anonymise()'s transaction.
    """
    from das.meetings import engine
    from das.models import CalendarFeed, Delivery, Invitation

    CalendarFeed.objects.filter(person=person).delete()
    Delivery.objects.filter(invitation__person=person, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SKIPPED, reason=engine.REASON_ANONYMISED, updated_at=now
    )
    for invitation in Invitation.objects.filter(person=person).only("pk"):
        # Unique per meeting, like the real address was; ".invalid" can never be delivered.
        placeholder = f"anonymised-{invitation.pk}@anonymised.invalid"
        Invitation.objects.filter(pk=invitation.pk).update(email=placeholder)
        Delivery.objects.filter(invitation=invitation).update(email=placeholder)
