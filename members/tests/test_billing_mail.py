"""Invoice e-mails through the outbox: each invoice once with its PDF, reminders once per offset."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from members import billing
from members.billing_mail import invoice_email_enqueue, invoice_reminders_enqueue, invoices_without_email
from members.models import Invoice, MembershipYear
from members.tasks import invoice_emails_daily
from members.tests.factories import MembershipYearFactory, OrganisationFactory, contact
from outbox.models import Message

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def eager_tasks():
    from medicen_portal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def members_due(fee_grid, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    organisations = []
    for index in range(2):
        organisation = OrganisationFactory(category="startup", headcount=3, name=f"Start {index}")
        contact(organisation, email=f"compta{index}@start.example", is_billing_contact=True)
        contact(organisation, email=f"boss{index}@start.example", is_primary_contact=True)
        MembershipYearFactory(organisation=organisation, year=TODAY.year - 1)
        organisations.append(organisation)
    return organisations


def test_a_fee_call_run_twice_emails_each_invoice_once_with_its_pdf(
    members_due, eager_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            billing.fee_call_run(year=TODAY.year, by=None)

    invoices = list(Invoice.objects.order_by("number"))
    assert len(invoices) == 2
    assert sorted(message.to[0] for message in mailoutbox) == ["compta0@start.example", "compta1@start.example"]
    for invoice in invoices:
        (message,) = [m for m in mailoutbox if invoice.number in m.subject]
        (attachment,) = message.attachments
        name, content, mimetype = attachment
        assert (name, mimetype) == (f"facture-{invoice.number}.pdf", "application/pdf")
        assert content.startswith(b"%PDF-")
    assert Message.objects.filter(kind="members.invoice").count() == 2


def test_asking_for_an_invoice_email_again_sends_nothing_more(
    members_due, eager_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    membership = MembershipYear.objects.filter(organisation=members_due[0]).first()
    invoice, _created = billing.invoice_issue_for_membership(membership_year=membership, by=None)

    with django_capture_on_commit_callbacks(execute=True):
        first = invoice_email_enqueue(invoice_id=invoice.pk)
    with django_capture_on_commit_callbacks(execute=True):
        second = invoice_email_enqueue(invoice_id=invoice.pk)

    assert first.pk == second.pk
    assert len(mailoutbox) == 1


def test_the_daily_scan_emails_an_invoice_whose_task_was_lost(
    members_due, eager_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    membership = MembershipYear.objects.filter(organisation=members_due[1]).first()
    invoice, _created = billing.invoice_issue_for_membership(membership_year=membership, by=None)
    assert list(invoices_without_email()) == [invoice]

    with django_capture_on_commit_callbacks(execute=True):
        invoice_emails_daily()

    assert [message.to for message in mailoutbox] == [["compta1@start.example"]]
    assert list(invoices_without_email()) == []


def test_overdue_reminders_go_once_at_each_offset_and_stop_when_paid(
    members_due, settings, eager_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    settings.MEMBERS_INVOICE_REMINDER_DAYS = [15, 45]
    settings.MEMBERS_INVOICE_PAYMENT_DAYS = 30
    issued_on = TODAY - datetime.timedelta(days=100)
    membership = MembershipYear.objects.filter(organisation=members_due[0]).first()
    invoice, _created = billing.invoice_issue_for_membership(membership_year=membership, by=None, issued_on=issued_on)
    due_on = invoice.due_on

    def scan(day: datetime.date) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            invoice_reminders_enqueue(today=day)

    scan(due_on + datetime.timedelta(days=14))  # not yet
    scan(due_on + datetime.timedelta(days=15))
    scan(due_on + datetime.timedelta(days=16))  # same offset: nothing more
    assert len(mailoutbox) == 1
    assert invoice.number in mailoutbox[0].subject
    scan(due_on + datetime.timedelta(days=45))
    scan(due_on + datetime.timedelta(days=46))
    assert len(mailoutbox) == 2
    assert sorted(Message.objects.filter(kind="members.invoice_reminder").values_list("key", flat=True)) == [
        f"member-invoice-reminder:{invoice.pk}:15",
        f"member-invoice-reminder:{invoice.pk}:45",
    ]
    assert invoice.number in mailoutbox[1].body and "600,00" in mailoutbox[1].body


def test_a_paid_invoice_gets_no_reminder_and_a_late_first_scan_sends_only_the_latest(
    members_due, settings, eager_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    settings.MEMBERS_INVOICE_REMINDER_DAYS = [15, 45]
    settings.MEMBERS_INVOICE_PAYMENT_DAYS = 30
    issued_on = TODAY - datetime.timedelta(days=120)
    paid, late = (
        billing.invoice_issue_for_membership(
            membership_year=MembershipYear.objects.filter(organisation=organisation).first(),
            by=None,
            issued_on=issued_on,
        )[0]
        for organisation in members_due
    )
    billing.payment_record(
        invoice=paid, amount=paid.total_incl_vat, received_on=TODAY, method="transfer", reference="VIR", by=None
    )

    with django_capture_on_commit_callbacks(execute=True):
        invoice_reminders_enqueue(today=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_reminders_enqueue(today=TODAY)

    assert [message.to for message in mailoutbox] == [["compta1@start.example"]]
    assert list(Message.objects.filter(kind="members.invoice_reminder").values_list("key", flat=True)) == [
        f"member-invoice-reminder:{late.pk}:45"
    ]
