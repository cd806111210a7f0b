"""Invoices as Factur-X files: a PDF/A-3 rendered by WeasyPrint with the invoice embedded as
UN/CEFACT CII XML (`factur-x.xml`), profile EN 16931 (the full European semantic model, which
Chorus Pro and French e-invoicing platforms accept).

The XML is checked against the EN 16931 XSD by the `factur-x` package when the PDF is made; a
file that does not validate is never stored. (The package's schematron check needs a Saxon
server, which the portal does not run: the business rules that matter here — totals adding up,
the VAT category's rules — are asserted by members/tests/test_billing_pdf.py.)

The PDF of an issued document is rendered once and kept (Invoice.pdf): what the member
downloads tomorrow is byte for byte what they downloaded today.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from lxml import etree

from members.billing import vat_category
from members.models import Invoice

PROFILE = "en16931"
GUIDELINE = "urn:cen.eu:en16931:2017"
XML_FILENAME = "factur-x.xml"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
TYPE_CODES = {Invoice.Kind.INVOICE: "380", Invoice.Kind.CREDIT_NOTE: "381"}
SCHEME_SIREN, SCHEME_SIRET = "0002", "0009"
SEPA_CREDIT_TRANSFER = "58"
LATE_PAYMENT_INDEMNITY = Decimal("40")


def _el(parent, tag: str, text: str | None = None, **attributes) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", **attributes)
    if text is not None:
        element.text = text
    return element


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _date(parent, tag: str, value: datetime.date, kind: str = "udt") -> None:
    holder = _el(parent, tag)
    _el(holder, f"{kind}:DateTimeString", value.strftime("%Y%m%d"), format="102")


def late_payment_mentions(invoice: Invoice) -> dict[str, str]:
    """The mentions the Code de commerce (L441-9, L441-10, D441-5) asks for, in French."""
    seller = invoice.seller
    return {
        "terms": (
            f"Paiement à {(invoice.due_on - invoice.issued_on).days} jours, au plus tard le "
            f"{invoice.due_on:%d/%m/%Y}, par virement (IBAN {seller.get('iban', '')}) ou par chèque "
            f"à l'ordre de {seller.get('name', '')}. Pas d'escompte pour paiement anticipé."
        ),
        "penalties": (
            f"En cas de retard de paiement, pénalités de retard au taux de {settings.MEMBERS_INVOICE_LATE_PENALTY}, "
            "exigibles dès le lendemain de la date d'échéance."
        ),
        "indemnity": (
            "Indemnité forfaitaire pour frais de recouvrement due par tout professionnel en "
            f"situation de retard de paiement\u202f: {LATE_PAYMENT_INDEMNITY:.0f} € "
            "(article D441-5 du Code de commerce)."
        ),
    }


def _party(parent, tag: str, *, name: str, siren: str, siret: str, address: str, postcode: str, city: str,
           email: str = "", vat_number: str = "") -> None:  # fmt: skip
    party = _el(parent, tag)
    _el(party, "ram:Name", name)
    if siret or siren:
        legal = _el(party, "ram:SpecifiedLegalOrganization")
        if siret:
            _el(legal, "ram:ID", siret, schemeID=SCHEME_SIRET)
        else:
            _el(legal, "ram:ID", siren, schemeID=SCHEME_SIREN)
    postal = _el(party, "ram:PostalTradeAddress")
    if postcode:
        _el(postal, "ram:PostcodeCode", postcode)
    if address:
        _el(postal, "ram:LineOne", address)
    if city:
        _el(postal, "ram:CityName", city)
    _el(postal, "ram:CountryID", "FR")
    if email:
        contact = _el(party, "ram:URIUniversalCommunication")
        _el(contact, "ram:URIID", email, schemeID="EM")
    if vat_number:
        registration = _el(party, "ram:SpecifiedTaxRegistration")
        _el(registration, "ram:ID", vat_number, schemeID="VA")


def invoice_xml(invoice: Invoice) -> bytes:
    """The invoice as Factur-X EN 16931 CII XML."""
    seller = invoice.seller
    category = vat_category(vat_rate=invoice.vat_rate, seller=seller)
    lines = list(invoice.lines.order_by("position"))
    mentions = late_payment_mentions(invoice)

    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)

    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", invoice.number)
    _el(document, "ram:TypeCode", TYPE_CODES[invoice.kind])
    _date(document, "ram:IssueDateTime", invoice.issued_on)
    for subject, text in (
        ("REG", f"{seller['name']}, {seller.get('legal_form', '')}, SIREN {seller['siren']}"),
        ("AAB", "Pas d'escompte pour paiement anticipé."),
        ("PMD", mentions["penalties"]),
        ("PMT", mentions["indemnity"]),
    ):
        note = _el(document, "ram:IncludedNote")
        _el(note, "ram:Content", text)
        _el(note, "ram:SubjectCode", subject)

    transaction_ = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in lines:
        item = _el(transaction_, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.label)
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _amount(line.unit_price))
        _el(_el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", f"{line.quantity:.2f}", unitCode="C62")
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", category)
        if category != "O":
            _el(tax, "ram:RateApplicablePercent", _amount(invoice.vat_rate))
        summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _el(summation, "ram:LineTotalAmount", _amount(line.amount))

    agreement = _el(transaction_, "ram:ApplicableHeaderTradeAgreement")
    if invoice.service_code:
        _el(agreement, "ram:BuyerReference", invoice.service_code)
    _party(
        agreement,
        "ram:SellerTradeParty",
        name=seller["name"],
        siren=seller["siren"],
        siret="",
        address=seller.get("address", ""),
        postcode=seller.get("postcode", ""),
        city=seller.get("city", ""),
        email=seller.get("email", ""),
        vat_number=seller.get("vat_number", "") if category != "O" else "",
    )
    _party(
        agreement,
        "ram:BuyerTradeParty",
        name=invoice.buyer_name,
        siren=invoice.buyer_siren,
        siret=invoice.buyer_siret,
        address=invoice.buyer_address,
        postcode=invoice.buyer_postcode,
        city=invoice.buyer_city,
        # Outside the scope of VAT (category O), EN 16931 forbids VAT identifiers (BR-O-2 to BR-O-4).
        vat_number=invoice.buyer_vat_number if category != "O" else "",
    )
    if invoice.purchase_order:
        _el(_el(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", invoice.purchase_order)

    _el(transaction_, "ram:ApplicableHeaderTradeDelivery")

    settlement = _el(transaction_, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:PaymentReference", invoice.number)
    _el(settlement, "ram:InvoiceCurrencyCode", "EUR")
    if not invoice.is_credit_note and seller.get("iban"):
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
        _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", seller["iban"])
        if seller.get("bic"):
            _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", seller["bic"])
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:CalculatedAmount", _amount(invoice.total_vat))
    _el(tax, "ram:TypeCode", "VAT")
    if category != "S":
        _el(tax, "ram:ExemptionReason", invoice.vat_exemption)
    _el(tax, "ram:BasisAmount", _amount(invoice.total_excl_vat))
    _el(tax, "ram:CategoryCode", category)
    if category != "O":
        _el(tax, "ram:RateApplicablePercent", _amount(invoice.vat_rate))
    if invoice.membership_year_id:
        period = _el(settlement, "ram:BillingSpecifiedPeriod")
        year = invoice.membership_year.year
        _date(period, "ram:StartDateTime", datetime.date(year, 1, 1))
        _date(period, "ram:EndDateTime", datetime.date(year, 12, 31))
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _el(terms, "ram:Description", mentions["terms"])
    if not invoice.is_credit_note:
        _date(terms, "ram:DueDateDateTime", invoice.due_on)
    summation = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summation, "ram:LineTotalAmount", _amount(sum((line.amount for line in lines), Decimal("0"))))
    _el(summation, "ram:TaxBasisTotalAmount", _amount(invoice.total_excl_vat))
    _el(summation, "ram:TaxTotalAmount", _amount(invoice.total_vat), currencyID="EUR")
    _el(summation, "ram:GrandTotalAmount", _amount(invoice.total_incl_vat))
    _el(summation, "ram:DuePayableAmount", _amount(invoice.total_incl_vat))
    if invoice.credited_invoice_id:
        original = invoice.credited_invoice
        referenced = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(referenced, "ram:IssuerAssignedID", original.number)
        _date(referenced, "ram:FormattedIssueDateTime", original.issued_on, kind="qdt")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def invoice_html(invoice: Invoice) -> str:
    """The printed invoice, always in French (the language of invoices in France)."""
    with translation.override("fr"):
        return render_to_string(
            "members/billing/invoice_pdf.html",
            {
                "invoice": invoice,
                "seller": invoice.seller,
                "lines": invoice.lines.order_by("position"),
                "mentions": late_payment_mentions(invoice),
                "category": vat_category(vat_rate=invoice.vat_rate, seller=invoice.seller),
            },
        )


def invoice_pdf_render(invoice: Invoice) -> bytes:
    """A new Factur-X PDF/A-3 of the invoice (the XML checked against the EN 16931 XSD)."""
    import facturx
    from weasyprint import HTML

    pdf = HTML(string=invoice_html(invoice)).write_pdf(pdf_variant="pdf/a-3b")
    kind = "Avoir" if invoice.is_credit_note else "Facture"
    metadata = {
        "author": invoice.seller["name"],
        "keywords": "Factur-X",
        "title": f"{kind} {invoice.number}",
        "subject": f"{kind} {invoice.number} — {invoice.buyer_name}",
    }
    return facturx.generate_from_binary(
        pdf, invoice_xml(invoice), flavor="factur-x", level=PROFILE, check_xsd=True, pdf_metadata=metadata, lang="fr-FR"
    )


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF: rendered and kept the first time it is asked for, then always the same file."""
    if invoice.pdf:
        with invoice.pdf.open("rb") as handle:
            return handle.read()
    content = invoice_pdf_render(invoice)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.pdf:  # rendered meanwhile by another request: keep theirs
            invoice.pdf = locked.pdf
            with locked.pdf.open("rb") as handle:
                return handle.read()
        locked.pdf.save(f"{invoice.number}.pdf", ContentFile(content), save=False)
        Invoice.objects.filter(pk=invoice.pk).update(pdf=locked.pdf.name)
        invoice.pdf = locked.pdf
    return content


def pdf_filename(invoice: Invoice) -> str:
    kind = "avoir" if invoice.is_credit_note else "facture"
    return f"{kind}-{invoice.number}.pdf"
