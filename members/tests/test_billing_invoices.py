"""Invoices as French law wants them: one unbroken sequence per year, frozen once issued,
corrected by credit notes, delivered as Factur-X (EN 16931) PDF/A-3."""

from __future__ import annotations

import datetime
import io
import re
import threading
from decimal import Decimal

import facturx
import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from lxml import etree
from pypdf import PdfReader

from members import billing
from members.invoice_pdf import NS, invoice_pdf
from members.models import BillingProfile, Invoice, InvoiceCounter, MembershipYear
from members.tests.factories import MembershipYearFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2027, 1, 15)


def pending_year(organisation=None, *, fee="1500.00", year=2027) -> MembershipYear:
    return MembershipYearFactory(
        organisation=organisation or OrganisationFactory(),
        year=year,
        fee=Decimal(fee),
        status=MembershipYear.Status.PENDING,
    )


def issue(membership=None, **kwargs) -> Invoice:
    invoice, _created = billing.invoice_issue_for_membership(
        membership_year=membership or pending_year(), by=None, issued_on=kwargs.pop("issued_on", DAY), **kwargs
    )
    return invoice


def test_invoices_are_numbered_in_one_sequence_per_year_starting_at_one():
    first, second = issue(), issue()
    next_year = issue(pending_year(year=2028), issued_on=datetime.date(2028, 1, 2))

    assert [first.number, second.number, next_year.number] == ["2027-0001", "2027-0002", "2028-0001"]


def test_an_issue_that_rolls_back_gives_its_number_back():
    issue()
    with pytest.raises(RuntimeError), transaction.atomic():
        issue()
        raise RuntimeError("the issuing transaction fails after the number was taken")

    assert issue().number == "2027-0002"
    assert InvoiceCounter.objects.get(year=2027).last_number == 2


def test_an_invoice_cannot_be_dated_before_the_last_one_numbered():
    issue(issued_on=DAY)

    with pytest.raises(ValidationError):
        issue(issued_on=DAY - datetime.timedelta(days=1))
    assert Invoice.objects.count() == 1


def test_a_membership_year_is_invoiced_once_and_its_reference_is_the_invoice_number():
    membership = pending_year()

    first, created = billing.invoice_issue_for_membership(membership_year=membership, by=None, issued_on=DAY)
    again, created_again = billing.invoice_issue_for_membership(membership_year=membership, by=None, issued_on=DAY)

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Invoice.objects.count() == 1
    membership.refresh_from_db()
    assert membership.invoice_reference == first.number


def test_an_invoice_carries_the_legal_details_of_both_parties_and_the_dates(settings):
    settings.MEMBERS_INVOICE_PAYMENT_DAYS = 30
    organisation = OrganisationFactory(name="Hôpital Test", siren="800123457", address="1 rue A", postcode="75013")
    BillingProfile.objects.create(
        organisation=organisation,
        siret="80012345700015",
        vat_number="FR41800123457",
        purchase_order="PO-2027-42",
        public_body=True,
        service_code="SERVICE-FACT",
    )

    invoice = issue(pending_year(organisation))

    assert invoice.due_on == datetime.date(2027, 2, 14)
    assert (invoice.buyer_name, invoice.buyer_siren, invoice.buyer_siret) == (
        "Hôpital Test",
        "800123457",
        "80012345700015",
    )
    assert (invoice.buyer_vat_number, invoice.purchase_order, invoice.service_code) == (
        "FR41800123457",
        "PO-2027-42",
        "SERVICE-FACT",
    )
    assert invoice.seller["siren"] == settings.MEMBERS_INVOICE_SELLER["siren"]
    assert invoice.seller["iban"] == settings.MEMBERS_INVOICE_SELLER["iban"]
    assert [line.label for line in invoice.lines.all()] == ["Cotisation 2027 — Start-up"]


def test_what_an_issued_invoice_says_does_not_follow_later_changes():
    organisation = OrganisationFactory(name="Old Name SAS", city="Paris")
    invoice = issue(pending_year(organisation))

    organisation.name, organisation.city = "New Name SAS", "Lyon"
    organisation.save()
    BillingProfile.objects.create(organisation=organisation, purchase_order="PO-NEW")
    invoice.refresh_from_db()

    assert (invoice.buyer_name, invoice.buyer_city, invoice.purchase_order) == ("Old Name SAS", "Paris", "")


def test_vat_follows_the_setting_a_rate_or_the_exemption_mention(settings):
    settings.MEMBERS_INVOICE_VAT_RATE = Decimal("20")
    settings.MEMBERS_INVOICE_SELLER = {**settings.MEMBERS_INVOICE_SELLER, "vat_number": "FR41800123457"}
    taxed = issue(pending_year(fee="1234.56"))
    settings.MEMBERS_INVOICE_VAT_RATE = Decimal("0")
    exempt = issue(pending_year(fee="1234.56"))

    assert (taxed.total_excl_vat, taxed.total_vat, taxed.total_incl_vat) == (
        Decimal("1234.56"),
        Decimal("246.91"),
        Decimal("1481.47"),
    )
    assert taxed.vat_exemption == ""
    assert (exempt.total_vat, exempt.total_incl_vat) == (Decimal("0.00"), Decimal("1234.56"))
    assert exempt.vat_exemption == settings.MEMBERS_INVOICE_VAT_EXEMPTION


def test_a_credit_note_refers_to_the_invoice_and_leaves_it_untouched(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    invoice = issue()
    pdf_before = invoice_pdf(invoice)
    printed = {
        name: getattr(invoice, name)
        for name in ("number", "issued_on", "due_on", "buyer_name", "total_excl_vat", "total_vat", "total_incl_vat")
    }
    lines_before = list(invoice.lines.values_list("label", "amount"))

    credit = billing.credit_note_issue(invoice=invoice, by=None, reason="Adhésion annulée", issued_on=DAY)

    invoice.refresh_from_db()
    assert credit.number == "2027-0002"
    assert credit.kind == Invoice.Kind.CREDIT_NOTE
    assert credit.credited_invoice == invoice
    assert credit.total_incl_vat == invoice.total_incl_vat
    assert {name: getattr(invoice, name) for name in printed} == printed
    assert list(invoice.lines.values_list("label", "amount")) == lines_before
    assert invoice_pdf(invoice) == pdf_before
    assert invoice.status == Invoice.Status.CANCELLED
    assert invoice.amount_due == 0


def test_a_partial_credit_note_reduces_what_is_due_and_cannot_exceed_it():
    invoice = issue(pending_year(fee="1500.00"))

    billing.credit_note_issue(invoice=invoice, by=None, reason="Remise", amount_excl_vat=Decimal("500"), issued_on=DAY)
    invoice.refresh_from_db()

    assert invoice.status == Invoice.Status.OPEN
    assert invoice.amount_due == Decimal("1000.00")
    with pytest.raises(ValidationError):
        billing.credit_note_issue(
            invoice=invoice, by=None, reason="Trop", amount_excl_vat=Decimal("1000.01"), issued_on=DAY
        )


def test_a_cancelled_membership_invoice_can_be_issued_again_with_a_new_number():
    membership = pending_year()
    first = issue(membership)
    billing.credit_note_issue(invoice=first, by=None, reason="Mauvaise catégorie", issued_on=DAY)

    second, created = billing.invoice_issue_for_membership(membership_year=membership, by=None, issued_on=DAY)

    assert created
    assert second.number == "2027-0003"


# --- Factur-X ------------------------------------------------------------------------------------


def _xml_of(pdf: bytes) -> etree._Element:
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    return etree.fromstring(xml)


def _text(root, path: str) -> str:
    return root.xpath(path, namespaces=NS)[0].text


def _amount(root, path: str) -> Decimal:
    return Decimal(_text(root, path))


SUMMATION = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"


def test_the_pdf_is_a_factur_x_pdf_a_3_whose_xml_validates_and_states_the_totals_and_the_siren(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    organisation = OrganisationFactory(name="Cardio Imaging SAS", siren="800123457")
    invoice = issue(pending_year(organisation, fee="2500.00"))

    pdf = invoice_pdf(invoice)
    root = _xml_of(pdf)

    assert pdf.startswith(b"%PDF-")
    xmp = PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Metadata"].get_object().get_data()
    assert re.search(rb"pdfaid:part(>|=\")3", xmp)  # PDF/A-3
    assert b"fx:ConformanceLevel>EN 16931<" in xmp
    assert facturx.get_level(root) == "en16931"
    assert _text(root, "//rsm:ExchangedDocument/ram:ID") == invoice.number
    assert _text(root, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert _text(root, "//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == "800123457"
    assert (
        _text(root, "//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID")
        == (settings.MEMBERS_INVOICE_SELLER["siren"])
    )
    lines = sum(Decimal(node.text) for node in root.xpath("//ram:LineTotalAmount", namespaces=NS)[:-1])
    assert _amount(root, f"{SUMMATION}/ram:LineTotalAmount") == lines == Decimal("2500.00")  # BR-CO-10
    assert _amount(root, f"{SUMMATION}/ram:TaxBasisTotalAmount") == invoice.total_excl_vat  # BR-CO-13
    assert _amount(root, f"{SUMMATION}/ram:GrandTotalAmount") == (
        _amount(root, f"{SUMMATION}/ram:TaxBasisTotalAmount") + _amount(root, f"{SUMMATION}/ram:TaxTotalAmount")
    )  # BR-CO-15
    assert _amount(root, f"{SUMMATION}/ram:DuePayableAmount") == Decimal("2500.00")
    assert _text(root, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == "20270214"
    assert _text(root, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == settings.MEMBERS_INVOICE_SELLER["iban"]
    # Outside the scope of VAT: category O, its reason, and no VAT identifier (BR-O-2, BR-O-10)
    assert _text(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == "O"
    assert _text(root, "//ram:ApplicableTradeTax/ram:ExemptionReason") == settings.MEMBERS_INVOICE_VAT_EXEMPTION
    assert not root.xpath("//ram:SpecifiedTaxRegistration", namespaces=NS)
    notes = {
        _text(note, "ram:SubjectCode"): _text(note, "ram:Content")
        for note in root.xpath("//ram:IncludedNote", namespaces=NS)
    }
    assert "40 €" in notes["PMT"] and "pénalités de retard" in notes["PMD"]


def test_with_vat_the_xml_has_the_standard_rate_and_both_vat_numbers(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MEMBERS_INVOICE_VAT_RATE = Decimal("20")
    settings.MEMBERS_INVOICE_SELLER = {**settings.MEMBERS_INVOICE_SELLER, "vat_number": "FR41800123457"}
    organisation = OrganisationFactory()
    BillingProfile.objects.create(organisation=organisation, vat_number="FR41800123457", purchase_order="BC-77")
    invoice = issue(pending_year(organisation, fee="1000.00"))

    root = _xml_of(invoice_pdf(invoice))

    assert _amount(root, f"{SUMMATION}/ram:TaxTotalAmount") == Decimal("200.00")
    assert _amount(root, f"{SUMMATION}/ram:GrandTotalAmount") == Decimal("1200.00")
    assert _text(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == "S"
    assert len(root.xpath("//ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS)) == 2
    assert _text(root, "//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == "BC-77"


def test_a_credit_note_is_a_factur_x_381_that_names_the_invoice_it_corrects(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    invoice = issue()
    credit = billing.credit_note_issue(invoice=invoice, by=None, reason="Doublon", issued_on=DAY)

    root = _xml_of(invoice_pdf(credit))

    assert _text(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert _text(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == invoice.number
    assert _amount(root, f"{SUMMATION}/ram:GrandTotalAmount") == invoice.total_incl_vat


def test_the_pdf_is_rendered_once_and_then_always_the_same_file(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    invoice = issue()

    first = invoice_pdf(invoice)
    second = invoice_pdf(Invoice.objects.get(pk=invoice.pk))

    assert first == second
    assert Invoice.objects.get(pk=invoice.pk).pdf.name.endswith(".pdf")


# --- Two issuers at once (PostgreSQL: the counter row is locked by SELECT ... FOR UPDATE) ---------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_issuers_leave_no_gap_and_no_duplicate_in_the_sequence():
    memberships = [pending_year() for _ in range(24)]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def issuer(mine: list[MembershipYear], fail_every: int) -> None:
        try:
            start.wait()
            for index, membership in enumerate(mine):
                try:
                    with transaction.atomic():
                        billing.invoice_issue_for_membership(membership_year=membership, by=None, issued_on=DAY)
                        if fail_every and index % fail_every == 0:
                            raise RuntimeError("rolled back after taking a number")
                except RuntimeError:
                    pass
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=issuer, args=(memberships[i::4], 3 if i == 0 else 0)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    sequences = sorted(Invoice.objects.filter(year=2027).values_list("sequence", flat=True))
    rolled_back = len(range(0, 6, 3))  # the first issuer's 1st and 4th memberships
    assert len(sequences) == 24 - rolled_back
    assert sequences == list(range(1, len(sequences) + 1))
    assert InvoiceCounter.objects.get(year=2027).last_number == len(sequences)
