import pytest
from auditlog.models import LogEntry
from django.forms import FileField
from django.test import Client

from members.models import Organisation
from members.tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _admin_form_data(response) -> dict:
    """What a browser would post back from an admin change form, as rendered."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
        forms.extend(inline.formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or value is False or isinstance(field, FileField):
                continue
            key = form.add_prefix(name)
            data[key] = [v.pk if hasattr(v, "pk") else v for v in value] if isinstance(value, list | tuple) else value
    return data


def test_a_staff_change_to_an_organisation_is_recorded_with_who_and_what(client: Client):
    staff = UserFactory(email="staff@medicen.example", is_staff=True, is_superuser=True)
    organisation = OrganisationFactory(name="BioNova", city="Paris")
    client.force_login(staff)
    url = f"/admin/members/organisation/{organisation.pk}/change/"
    data = _admin_form_data(client.get(url))
    data.update(city="Orsay", postcode="91400")

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
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
