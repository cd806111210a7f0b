import pytest
from auditlog.models import LogEntry
from django.test import Client

from members.models import Organisation
from members.tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_staff_change_to_an_organisation_is_recorded_with_who_and_what(client: Client):
    staff = UserFactory(email="staff@medicen.example", is_staff=True, is_superuser=True)
    organisation = OrganisationFactory(name="BioNova", city="Paris")
    client.force_login(staff)

    client.post(
        f"/admin/members/organisation/{organisation.pk}/change/",
        {
            "name": "BioNova",
            "slug": organisation.slug,
            "category": organisation.category,
            "siren": organisation.siren,
            "postcode": "91400",
            "city": "Orsay",
            "status": organisation.status,
            "people-TOTAL_FORMS": "0",
            "people-INITIAL_FORMS": "0",
        },
    )

    entry = LogEntry.objects.get_for_object(Organisation.objects.get(pk=organisation.pk)).latest("timestamp")
    assert entry.actor == staff
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.changes_dict["city"] == ["Paris", "Orsay"]


def test_the_audit_trail_is_visible_in_the_admin(client: Client):
    staff = UserFactory(email="staff@medicen.example", is_staff=True, is_superuser=True)
    OrganisationFactory(name="BioNova")
    client.force_login(staff)

    response = client.get("/admin/auditlog/logentry/")

    assert response.status_code == 200
    assert "BioNova" in response.content.decode()
