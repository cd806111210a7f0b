"""The people and organisations the journeys start from, created in the stack's database.

Run inside the stack's environment: `python manage.py shell -c "from tests.e2e.cast import create; create()"`.
Everything else (the imported members, the invited contact's account, the proposal, the
meeting) is made by the journeys themselves, through the pages.
"""

from __future__ import annotations

import json
import os

PASSWORD = os.environ.get("E2E_PASSWORD", "e2e-correct-horse-2026")
STAFF_EMAIL = "staff@medicen.example"
KOL_EMAIL = "jerome.sallette@cerba.example"
CONTACT_EMAIL = "claire.durand@oncox.example"


def _organisation(name: str, slug: str, category: str, **fields):
    from members.models import Organisation

    organisation = Organisation(name=name, slug=slug, category=category, status="active", **fields)
    organisation.full_clean()
    organisation.save()
    return organisation


def create() -> None:
    from django.db import transaction

    with transaction.atomic():
        _create()


def _create() -> None:
    # Imported here: the pytest process imports this module for its constants only.
    from das.models import Mandate, StrategicArea
    from members.models import Person, User

    staff = User.objects.create_user(email=STAFF_EMAIL, password=PASSWORD, first_name="Sophie", last_name="Martin")
    staff.is_staff = staff.is_superuser = True
    staff.save()

    # The seeded president of the Biological diagnostics board gets an address and a login:
    # meeting invitations go to mandate holders with an address, reviews to those with a login.
    area = StrategicArea.objects.get(code="biological-diagnostics")
    mandate = Mandate.objects.current().get(area=area, role="president")
    kol_person = mandate.person
    kol = User.objects.create_user(
        email=KOL_EMAIL, password=PASSWORD, first_name=kol_person.first_name, last_name=kol_person.last_name
    )
    kol_person.email, kol_person.user = KOL_EMAIL, kol
    kol_person.save()

    oncox = _organisation("Oncox Devices SAS", "oncox-devices", "startup", city="Paris", postcode="75013")
    Person.objects.create(
        organisation=oncox, first_name="Claire", last_name="Durand", civility="Mme", position="CEO",
        email=CONTACT_EMAIL, is_primary_contact=True,
    )  # fmt: skip
    # Listed in the directory: the partner picker offers member contacts the listed members.
    partner = _organisation(
        "Imaging Partner SA", "imaging-partner", "large", city="Buc", postcode="78530", directory_opt_in=True
    )
    hospital = _organisation(
        "Hôpital Saint-Louis (AP-HP)", "hopital-saint-louis", "hospital", city="Paris", directory_opt_in=True
    )
    print(json.dumps({
        "area": area.pk, "kol_person": kol_person.pk, "oncox": oncox.pk, "partner": partner.pk,
        "hospital": hospital.pk,
    }))  # fmt: skip
