"""Members serving themselves: invoices and what is due, billing details, colleagues.

Three users each time (the root conftest's vocabulary): the owner (primary contact of A), a colleague of A
without the role (scientific contact), and an outsider (primary contact of B)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from members import billing
from members.models import BillingProfile, Invoice, MembershipYear, Person
from members.tests.factories import MembershipYearFactory, contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(organisation) -> Invoice:
    membership = MembershipYearFactory(
        organisation=organisation, year=2027, fee=Decimal("1500.00"), status=MembershipYear.Status.PENDING
    )
    return billing.invoice_issue_for_membership(membership_year=membership, by=None)[0]


@pytest.mark.usefixtures("colleague", "outsider")
def test_the_primary_contact_sees_the_invoices_and_what_is_due(client, owner, invoice):
    client.force_login(owner)

    page = client.get(reverse("members:billing", args=["biosense"])).content.decode()

    assert invoice.number in page
    assert "1\u202f500,00" in page
    assert reverse("members:invoice_pdf", args=["biosense", invoice.number]) in page


@pytest.mark.usefixtures("owner", "colleague", "outsider")
def test_a_billing_contact_downloads_the_invoice_pdf(client, organisation, invoice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    billing_user = contact(organisation, email="compta@biosense.example", is_billing_contact=True)
    client.force_login(billing_user)

    response = client.get(reverse("members:invoice_pdf", args=["biosense", invoice.number]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f"facture-{invoice.number}.pdf" in response["Content-Disposition"]


@pytest.mark.usefixtures("owner", "outsider")
def test_a_colleague_without_the_role_sees_no_amounts_and_gets_403_on_invoices(client, colleague, invoice):
    client.force_login(colleague)

    membership_page = client.get(reverse("members:membership", args=["biosense"])).content.decode()

    assert "1\u202f500,00" not in membership_page
    assert client.get(reverse("members:billing", args=["biosense"])).status_code == 403
    assert client.get(reverse("members:invoice_pdf", args=["biosense", invoice.number])).status_code == 403


@pytest.mark.usefixtures("owner", "colleague")
def test_an_outsider_cannot_learn_that_an_invoice_exists(client, outsider, invoice):
    client.force_login(outsider)

    assert client.get(reverse("members:billing", args=["biosense"])).status_code == 404
    assert client.get(reverse("members:invoice_pdf", args=["biosense", invoice.number])).status_code == 404
    # Their own organisation's URL with A's invoice number: not found either.
    assert client.get(reverse("members:invoice_pdf", args=["neurowave", invoice.number])).status_code == 404


@pytest.mark.usefixtures("owner", "colleague", "outsider")
def test_the_billing_contact_updates_the_billing_address_and_purchase_order_for_the_next_invoices(
    client, organisation, invoice
):
    billing_user = contact(organisation, email="compta@biosense.example", is_billing_contact=True)
    client.force_login(billing_user)

    response = client.post(
        reverse("members:billing_edit", args=["biosense"]),
        {"address": "12 rue de la Paix", "postcode": "75002", "city": "Paris", "purchase_order": "BC-2028-7"},
    )

    assert response.status_code == 302
    profile = BillingProfile.objects.get(organisation=organisation)
    assert (profile.address, profile.purchase_order) == ("12 rue de la Paix", "BC-2028-7")
    invoice.refresh_from_db()
    assert invoice.purchase_order == ""  # issued invoices keep what they say
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(BillingProfile))
    assert entry.actor == billing_user


@pytest.mark.usefixtures("colleague", "outsider")
def test_an_incomplete_billing_address_is_refused_with_a_message(client, owner):
    client.force_login(owner)

    response = client.post(
        reverse("members:billing_edit", args=["biosense"]), {"address": "12 rue de la Paix", "postcode": "", "city": ""}
    )

    assert response.status_code == 200
    assert not BillingProfile.objects.exists()


@pytest.mark.usefixtures("colleague", "outsider")
def test_the_primary_contact_invites_a_colleague_who_gets_an_account_invitation(
    client, owner, organisation, django_capture_on_commit_callbacks, mailoutbox
):
    from medicen_portal.celery import app

    client.force_login(owner)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("members:contacts", args=["biosense"]),
                {
                    "first_name": "Léa",
                    "last_name": "Martin",
                    "email": "lea@biosense.example",
                    "is_billing_contact": "on",
                },
            )
    finally:
        app.conf.task_always_eager = False

    assert response.status_code == 302
    person = Person.objects.get(email="lea@biosense.example")
    assert person.organisation == organisation and person.is_billing_contact
    assert person.user is not None and not person.user.has_usable_password()
    assert [message.to for message in mailoutbox] == [["lea@biosense.example"]]
    assert LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Person), object_pk=str(person.pk), actor=owner
    ).exists()


@pytest.mark.usefixtures("outsider")
def test_the_primary_contact_changes_a_colleagues_roles_and_it_is_audited(client, owner, colleague):
    colleague_person = colleague.person
    client.force_login(owner)

    client.post(
        reverse("members:contact_roles", args=["biosense", colleague_person.pk]),
        {f"p{colleague_person.pk}-is_billing_contact": "on"},
    )

    colleague_person.refresh_from_db()
    assert colleague_person.is_billing_contact and not colleague_person.is_scientific_contact
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Person), object_pk=str(colleague_person.pk)
    ).latest("timestamp")
    assert entry.actor == owner
    assert "is_billing_contact" in entry.changes_dict


@pytest.mark.usefixtures("colleague", "outsider")
def test_the_last_primary_contact_can_neither_be_removed_nor_lose_the_role(client, owner, organisation):
    owner_person = owner.person
    client.force_login(owner)

    client.post(reverse("members:contact_remove", args=["biosense", owner_person.pk]))
    client.post(
        reverse("members:contact_roles", args=["biosense", owner_person.pk]),
        {f"p{owner_person.pk}-is_billing_contact": "on"},
    )

    owner_person.refresh_from_db()
    assert owner_person.organisation == organisation and owner_person.is_primary_contact


@pytest.mark.usefixtures("outsider")
def test_the_primary_contact_removes_a_colleague_who_then_loses_access(client, owner, colleague):
    colleague_person = colleague.person
    client.force_login(owner)

    response = client.post(reverse("members:contact_remove", args=["biosense", colleague_person.pk]))

    assert response.status_code == 302
    colleague_person.refresh_from_db()
    assert colleague_person.organisation is None and not colleague_person.roles
    client.force_login(colleague)
    assert client.get(reverse("members:membership", args=["biosense"])).status_code == 404


def test_colleagues_and_outsiders_cannot_manage_contacts(client, owner, colleague, outsider, organisation):
    owner_person = owner.person
    client.force_login(colleague)
    assert client.post(reverse("members:contact_remove", args=["biosense", owner_person.pk])).status_code == 403
    client.force_login(outsider)
    assert client.post(reverse("members:contact_remove", args=["biosense", owner_person.pk])).status_code == 404
    # An outsider's own organisation in the URL with A's person: not found.
    assert client.post(reverse("members:contact_remove", args=["neurowave", owner_person.pk])).status_code == 404

    owner_person.refresh_from_db()
    assert owner_person.organisation == organisation
