"""The accountant's export of a period: invoices and credit notes issued, payments received,
as CSV the way a French office suite reads it (`;`, UTF-8 with a BOM, decimal comma), every
cell through common.spreadsheet.neutralise. Amounts are all positive; the kind of document says
which way they go, and the totals at the end tie to the rows above them."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from common.spreadsheet import neutralise
from members.models import Invoice, Payment

ZERO = Decimal("0.00")


def amount_text(value: Decimal | None) -> str:
    """1234.5 → "1234,50": no thousands separator, so spreadsheets read it as a number."""
    return "" if value is None else f"{value:.2f}".replace(".", ",")


@dataclass
class PeriodTotals:
    invoices: list[Decimal] = field(default_factory=lambda: [ZERO, ZERO, ZERO])
    credit_notes: list[Decimal] = field(default_factory=lambda: [ZERO, ZERO, ZERO])
    payments: Decimal = ZERO

    @property
    def net(self) -> list[Decimal]:
        return [a - b for a, b in zip(self.invoices, self.credit_notes, strict=True)]


def accounting_rows(*, start: datetime.date, end: datetime.date) -> tuple[list[list], PeriodTotals]:
    """One row per invoice or credit note issued and per payment received from `start` to `end`
    (inclusive), by date; and the period's totals."""
    totals = PeriodTotals()
    rows: list[tuple] = []
    documents = (
        Invoice.objects.filter(issued_on__range=(start, end))
        .select_related("credited_invoice")
        .order_by("issued_on", "year", "sequence")
    )
    for document in documents:
        amounts = [document.total_excl_vat, document.total_vat, document.total_incl_vat]
        bucket = totals.credit_notes if document.is_credit_note else totals.invoices
        for index, value in enumerate(amounts):
            bucket[index] += value
        rows.append(
            (
                document.issued_on,
                0,
                [
                    document.issued_on.strftime("%d/%m/%Y"),
                    str(document.get_kind_display()),
                    document.number,
                    document.credited_invoice.number if document.credited_invoice_id else "",
                    document.buyer_name,
                    document.buyer_siren,
                    *(amount_text(value) for value in amounts),
                    "",
                    "",
                    "",
                ],
            )
        )
    payments = (
        Payment.objects.filter(received_on__range=(start, end)).select_related("invoice").order_by("received_on", "pk")
    )
    for payment in payments:
        totals.payments += payment.amount
        rows.append(
            (
                payment.received_on,
                1,
                [
                    payment.received_on.strftime("%d/%m/%Y"),
                    _("Payment"),
                    "",
                    payment.invoice.number,
                    payment.invoice.buyer_name,
                    payment.invoice.buyer_siren,
                    "",
                    "",
                    "",
                    amount_text(payment.amount),
                    str(payment.get_method_display()),
                    payment.reference,
                ],
            )
        )
    rows.sort(key=lambda row: (row[0], row[1]))
    return [row for _date, _order, row in rows], totals


def accounting_csv(*, start: datetime.date, end: datetime.date) -> bytes:
    """The period as a CSV file (bytes, UTF-8 with a BOM)."""
    rows, totals = accounting_rows(start=start, end=end)
    header = [
        _("Date"),
        _("Document"),
        _("Number"),
        _("Invoice referred to"),
        _("Organisation"),
        _("SIREN"),
        _("Excl. VAT"),
        _("VAT"),
        _("Incl. VAT"),
        _("Payment received"),
        _("Method"),
        _("Reference"),
    ]
    blank = [""] * 5

    def total_row(label: str, amounts: list[Decimal]) -> list[str]:
        return [label, *blank, *(amount_text(value) for value in amounts), "", "", ""]

    footer = [
        [],
        total_row(_("Total invoices"), totals.invoices),
        total_row(_("Total credit notes"), totals.credit_notes),
        total_row(_("Net invoiced (invoices less credit notes)"), totals.net),
        [_("Total payments received"), *blank, "", "", "", amount_text(totals.payments), "", ""],
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in [header, *rows, *footer]:
        writer.writerow([neutralise(cell) for cell in row])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
