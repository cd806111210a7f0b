"""Payments, the invoice lifecycle, fee calls, the overdue list and the accountant's export."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from members import billing
from members.billing_export import accounting_csv
from members.models import FeeCall, FeeRate, Invoice, MembershipYear, Organisation, Payment
from members.tests.factories import MembershipYearFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = TODAY.year


def pending(fee="1500.00", organisation=None, year=YEAR) -> MembershipYear:
    return MembershipYearFactory(
        organisation=organisation or OrganisationFactory(status=Organisation.Status.PROSPECT),
        year=year,
        fee=Decimal(fee),
        status=MembershipYear.Status.PENDING,
    )


def issue(membership: MembershipYear, issued_on=None) -> Invoice:
    return billing.invoice_issue_for_membership(membership_year=membership, by=None, issued_on=issued_on or TODAY)[0]


def pay(invoice: Invoice, amount: str, *, on=None, method=Payment.Method.TRANSFER, reference="VIR-1") -> Payment:
    return billing.payment_record(
        invoice=invoice, amount=Decimal(amount), received_on=on or TODAY, method=method, reference=reference, by=None
    )


def test_from_issued_to_partly_paid_to_paid_the_membership_year_becomes_active():
    membership = pending("1500.00")
    invoice = issue(membership)
    assert invoice.status == Invoice.Status.OPEN

    pay(invoice, "500.00", on=TODAY - datetime.timedelta(days=3), method=Payment.Method.CHEQUE, reference="CHQ 0042")
    invoice.refresh_from_db()
    membership.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == (Invoice.Status.PARTLY_PAID, Decimal("1000.00"))
    assert membership.status == MembershipYear.Status.PENDING

    pay(invoice, "1000.00", on=TODAY - datetime.timedelta(days=1))
    invoice.refresh_from_db()
    membership.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == (Invoice.Status.PAID, Decimal("0.00"))
    assert membership.status == MembershipYear.Status.ACTIVE
    assert membership.paid_on == TODAY - datetime.timedelta(days=1)
    assert membership.invoice_reference == invoice.number
    membership.organisation.refresh_from_db()
    assert membership.organisation.status == Organisation.Status.ACTIVE
    assert membership.organisation.member_since == datetime.date(YEAR, 1, 1)


def test_a_payment_above_what_is_due_or_on_a_cancelled_invoice_is_refused():
    invoice = issue(pending("600.00"))

    with pytest.raises(ValidationError):
        pay(invoice, "600.01")
    billing.credit_note_issue(invoice=invoice, by=None, reason="Annulée")
    with pytest.raises(ValidationError):
        pay(invoice, "10.00")
    assert Payment.objects.count() == 0


def test_a_payment_cannot_be_received_in_the_future():
    invoice = issue(pending("600.00"))

    with pytest.raises(ValidationError):
        pay(invoice, "600.00", on=TODAY + datetime.timedelta(days=1))


def test_the_fee_call_invoices_each_member_due_once_even_when_run_twice(fee_grid):
    member = OrganisationFactory(category="sme", headcount=20)
    MembershipYearFactory(organisation=member, year=YEAR - 1, fee=Decimal("1500.00"))
    pending_one = pending("3000.00", organisation=OrganisationFactory(category="hospital"))
    resigned = OrganisationFactory()
    MembershipYearFactory(
        organisation=resigned,
        year=YEAR,
        status=MembershipYear.Status.RESIGNED,
        resigned_on=TODAY,
        resignation_reason="Départ",
    )

    first = billing.fee_call_run(year=YEAR, by=None)
    second = billing.fee_call_run(year=YEAR, by=None)

    assert sorted(invoice.organisation_id for invoice in first.issued) == sorted(
        [member.pk, pending_one.organisation_id]
    )
    assert second.issued == []
    assert Invoice.objects.count() == 2
    assert Invoice.objects.get(organisation=member).total_excl_vat == Decimal("1500.00")  # from the grid
    assert not Invoice.objects.filter(organisation=resigned).exists()


def test_a_fee_call_for_a_selection_invoices_only_the_selection_and_reports_who_has_no_rate(fee_grid):
    FeeRate.objects.filter(category="investor").delete()
    chosen = OrganisationFactory(category="startup", headcount=3)
    no_rate = OrganisationFactory(category="investor")
    OrganisationFactory(category="startup")  # not selected

    report = billing.fee_call_run(year=YEAR, by=None, organisations=[chosen, no_rate])

    assert [invoice.organisation for invoice in report.issued] == [chosen]
    assert report.issued[0].total_excl_vat == Decimal("600.00")
    assert len(report.skipped) == 1 and no_rate.name in report.skipped[0]
    assert Invoice.objects.count() == 1


def test_staff_launch_a_fee_call_from_the_admin_twice_and_get_each_invoice_once(client, superuser, fee_grid):
    member = OrganisationFactory(category="startup", headcount=2)
    MembershipYearFactory(organisation=member, year=YEAR - 1)
    client.force_login(superuser)

    for _ in range(2):
        response = client.post(reverse("admin:members_feecall_add"), {"year": YEAR, "organisations": []})
        assert response.status_code == 302

    assert Invoice.objects.filter(organisation=member).count() == 1
    assert list(FeeCall.objects.order_by("pk").values_list("issued", "already_invoiced")) == [(1, 0), (0, 0)]


def test_staff_record_a_cheque_in_the_admin_and_the_invoice_is_paid(client, superuser):
    invoice = issue(pending("600.00"))
    client.force_login(superuser)

    response = client.post(
        reverse("admin:members_payment_add"),
        {
            "invoice": invoice.pk,
            "amount": "600,00",
            "received_on": TODAY.strftime("%d/%m/%Y"),
            "method": "cheque",
            "reference": "CHQ 1234567",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.get().recorded_by == superuser


def test_the_admin_refuses_an_overpayment_with_a_message(client, superuser):
    invoice = issue(pending("600.00"))
    client.force_login(superuser)

    response = client.post(
        reverse("admin:members_payment_add"),
        {
            "invoice": invoice.pk,
            "amount": "700,00",
            "received_on": TODAY.strftime("%d/%m/%Y"),
            "method": "transfer",
        },
    )

    assert response.status_code == 200
    assert "600,00\u00a0€" in response.content.decode()
    assert Payment.objects.count() == 0


def test_staff_issue_a_credit_note_from_the_admin(client, superuser):
    invoice = issue(pending("600.00"))
    client.force_login(superuser)

    response = client.post(reverse("admin:members_invoice_credit_note", args=[invoice.pk]), {"reason": "Doublon"})

    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CANCELLED
    assert Invoice.objects.credit_notes().get().credited_invoice == invoice


def test_an_issued_invoice_cannot_be_edited_or_deleted_in_the_admin(client, superuser):
    invoice = issue(pending("600.00"))
    client.force_login(superuser)

    client.post(reverse("admin:members_invoice_change", args=[invoice.pk]), {"buyer_name": "Autre"})
    response = client.post(reverse("admin:members_invoice_delete", args=[invoice.pk]), {"post": "yes"})

    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.buyer_name != "Autre"


def test_overdue_invoices_are_listed_for_staff_with_the_amounts_due(client, superuser, settings):
    settings.MEMBERS_INVOICE_PAYMENT_DAYS = 30
    late = issue(
        pending("1500.00", organisation=OrganisationFactory(name="Retard SAS")), TODAY - datetime.timedelta(days=40)
    )
    pay(late, "500.00")
    issue(pending("900.00", organisation=OrganisationFactory(name="A jour SAS")), TODAY)
    client.force_login(superuser)

    response = client.get(reverse("admin:members_invoice_overdue"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Retard SAS" in page and "A jour SAS" not in page
    assert "1\u202f000,00" in page
    assert list(billing.overdue_invoices(today=TODAY)) == [late]


def _read(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ".")) if text else Decimal("0")


def test_the_accountants_export_lists_the_period_and_its_totals_tie():
    start = TODAY - datetime.timedelta(days=10)
    outside = issue(pending("300.00"), start - datetime.timedelta(days=1))
    pay(outside, "300.00", on=start - datetime.timedelta(days=1))
    a = issue(pending("1500.00"), start)
    b = issue(pending("900.00"), start + datetime.timedelta(days=1))
    billing.credit_note_issue(invoice=b, by=None, reason="Doublon", issued_on=start + datetime.timedelta(days=2))
    pay(a, "1000.00", on=start + datetime.timedelta(days=3))

    rows = _read(accounting_csv(start=start, end=TODAY))

    header, body = rows[0], rows[1:]
    documents = [row for row in body if row and row[2]]
    payments = [row for row in body if row and row[1] in ("Payment", "Règlement")]
    totals = {row[0]: row for row in body if row and not row[1] and row[0]}
    assert len(header) == 12
    assert [row[2] for row in documents] == [a.number, b.number, Invoice.objects.credit_notes().get().number]
    assert len(payments) == 1
    invoices_total = sum(_number(row[8]) for row in documents[:2])
    credits_total = _number(documents[2][8])
    payments_total = sum(_number(row[9]) for row in payments)
    by_label = list(totals.values())
    assert _number(by_label[0][8]) == invoices_total == Decimal("2400.00")
    assert _number(by_label[1][8]) == credits_total == Decimal("900.00")
    assert _number(by_label[2][8]) == invoices_total - credits_total
    assert _number(by_label[3][9]) == payments_total == Decimal("1000.00")


def test_the_accountants_export_neutralises_cells_a_spreadsheet_would_run():
    organisation = OrganisationFactory(name='=HYPERLINK("http://x")')
    issue(pending("100.00", organisation=organisation))

    rows = _read(accounting_csv(start=TODAY, end=TODAY))

    assert rows[1][4] == '\'=HYPERLINK("http://x")'


def test_staff_download_the_accountants_export_from_the_admin(client, superuser):
    issue(pending("100.00"))
    client.force_login(superuser)

    response = client.get(
        reverse("admin:members_invoice_accounting_export"),
        {"start": TODAY.isoformat(), "end": TODAY.isoformat()},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert len(_read(response.content)) == 7  # header, 1 invoice, blank, 4 totals
