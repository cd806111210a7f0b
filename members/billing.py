"""Writes of membership billing: invoices numbered without gaps, credit notes, payments, fee calls.

French rules followed here (Code de commerce L441-9, CGI art. 242 nonies A):
- one chronological sequence of numbers per year, `2027-0001`, shared by invoices and credit
  notes, never reused and without gaps: the number is taken from a per-year counter row locked
  (SELECT … FOR UPDATE) inside the issuing transaction, so concurrent issuers queue on it and a
  rolled-back issue gives its number back;
- what is printed is copied into the invoice at issue (seller, buyer, lines, VAT, totals) and
  never edited; corrections are credit notes that refer to the invoice;
- the payment status (open, partly paid, paid, cancelled) is the only thing that moves.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import formats, timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from members import services
from members.models import (
    BillingProfile,
    FeeCall,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    MembershipYear,
    Organisation,
    Payment,
    User,
)

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def euros(value: Decimal) -> str:
    """An amount as the reader's language writes it: "1 234,56 €" in French."""
    return f"{number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)}\u00a0€"


@dataclass(frozen=True)
class LineSpec:
    label: str
    unit_price: Decimal
    quantity: Decimal = Decimal("1")

    @property
    def amount(self) -> Decimal:
        return money(self.unit_price * self.quantity)


# --- Numbering --------------------------------------------------------------------------------


def invoice_number_take(*, issued_on: datetime.date) -> tuple[int, str]:
    """The next number of the issue year's sequence. Must run inside the issuing transaction: the
    counter row stays locked until it commits (the next issuer waits) or rolls back (the number is
    free again). Numbers follow dates: a document cannot be dated before the last one numbered."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("invoice_number_take() must run inside the issuing transaction.")
    year = issued_on.year
    # The row may not exist yet: insert it without a race (ON CONFLICT DO NOTHING), then lock it.
    InvoiceCounter.objects.bulk_create([InvoiceCounter(year=year, last_number=0)], ignore_conflicts=True)
    counter = InvoiceCounter.objects.select_for_update().get(year=year)
    latest = Invoice.objects.filter(year=year).order_by("-sequence").values_list("issued_on", flat=True).first()
    if latest is not None and issued_on < latest:
        raise ValidationError(
            _("Invoices are numbered in date order: the last one is dated %(date)s.")
            % {"date": formats.date_format(latest, "SHORT_DATE_FORMAT")},
            code="date_order",
        )
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number, f"{year}-{counter.last_number:04d}"


# --- Who is invoiced ----------------------------------------------------------------------------


def billing_profile_of(organisation: Organisation) -> BillingProfile:
    """The organisation's billing details (an empty, unsaved one if never filled in)."""
    try:
        return organisation.billing_profile
    except BillingProfile.DoesNotExist:
        return BillingProfile(organisation=organisation)


def seller_details() -> dict:
    """The cluster's legal details as configured (settings.MEMBERS_INVOICE_SELLER)."""
    return dict(settings.MEMBERS_INVOICE_SELLER)


def _buyer_fields(organisation: Organisation) -> dict:
    profile = billing_profile_of(organisation)
    use_billing_address = bool(profile.address)
    return {
        "buyer_name": organisation.name,
        "buyer_address": profile.address if use_billing_address else organisation.address,
        "buyer_postcode": profile.postcode if use_billing_address else organisation.postcode,
        "buyer_city": profile.city if use_billing_address else organisation.city,
        "buyer_siren": organisation.siren,
        "buyer_siret": profile.siret,
        "buyer_vat_number": profile.vat_number,
        "purchase_order": profile.purchase_order,
        "service_code": profile.service_code if profile.public_body else "",
    }


def vat_category(*, vat_rate: Decimal, seller: dict) -> str:
    """EN 16931 VAT category: S (standard rate), E (exempt, seller registered for VAT) or
    O (outside the scope of VAT: an association not registered for VAT)."""
    if vat_rate > 0:
        return "S"
    return "E" if seller.get("vat_number") else "O"


# --- Issuing ----------------------------------------------------------------------------------


def _totals(lines: Sequence[LineSpec], vat_rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    excl = sum((line.amount for line in lines), ZERO)
    vat = money(excl * vat_rate / 100)
    return excl, vat, excl + vat


@transaction.atomic
def invoice_issue(
    *,
    organisation: Organisation,
    lines: Sequence[LineSpec],
    by: User | None,
    issued_on: datetime.date | None = None,
    membership_year: MembershipYear | None = None,
) -> Invoice:
    """Issue an invoice: take the year's next number and copy every printed detail into it."""
    if not lines:
        raise ValidationError(_("An invoice needs at least one line."), code="no_lines")
    if any(line.amount <= 0 for line in lines):
        raise ValidationError(_("Every invoice line must have a positive amount."), code="line_amount")
    issued_on = issued_on or timezone.localdate()
    vat_rate = settings.MEMBERS_INVOICE_VAT_RATE
    excl, vat, incl = _totals(lines, vat_rate)
    sequence, number = invoice_number_take(issued_on=issued_on)
    invoice = Invoice(
        kind=Invoice.Kind.INVOICE,
        number=number,
        year=issued_on.year,
        sequence=sequence,
        organisation=organisation,
        membership_year=membership_year,
        status=Invoice.Status.OPEN,
        issued_on=issued_on,
        due_on=issued_on + datetime.timedelta(days=settings.MEMBERS_INVOICE_PAYMENT_DAYS),
        seller=seller_details(),
        vat_rate=vat_rate,
        vat_exemption="" if vat_rate > 0 else settings.MEMBERS_INVOICE_VAT_EXEMPTION,
        total_excl_vat=excl,
        total_vat=vat,
        total_incl_vat=incl,
        issued_by=by,
        **_buyer_fields(organisation),
    )
    invoice.full_clean(exclude=["pdf"])
    invoice.save()
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            label=line.label,
            quantity=line.quantity,
            unit_price=money(line.unit_price),
            amount=line.amount,
        )
        for position, line in enumerate(lines, start=1)
    )
    logger.info("%s issued invoice %s to %s", by, number, organisation)
    return invoice


def membership_fee_label(membership_year: MembershipYear) -> str:
    """The line of a fee invoice, in French like the rest of the invoice."""
    with translation.override("fr"):
        return _("Membership fee %(year)s — %(category)s") % {
            "year": membership_year.year,
            "category": membership_year.organisation.get_category_display(),
        }


@transaction.atomic
def invoice_issue_for_membership(
    *, membership_year: MembershipYear, by: User | None, issued_on: datetime.date | None = None
) -> tuple[Invoice, bool]:
    """The invoice of a membership year's fee, issued once: (invoice, True) when issued now,
    (the live one, False) when it already has one. Two callers at once: the membership row is
    locked first, so the second one finds the first one's invoice."""
    membership_year = (
        MembershipYear.objects.select_for_update().select_related("organisation").get(pk=membership_year.pk)
    )
    live = membership_year.invoices.filter(kind=Invoice.Kind.INVOICE).exclude(status=Invoice.Status.CANCELLED).first()
    if live is not None:
        return live, False
    if membership_year.status == MembershipYear.Status.RESIGNED:
        raise ValidationError(_("A resigned membership year is not invoiced."), code="resigned")
    if membership_year.fee <= 0:
        raise ValidationError(_("This membership year has no fee to invoice."), code="no_fee")
    invoice = invoice_issue(
        organisation=membership_year.organisation,
        lines=[LineSpec(label=membership_fee_label(membership_year), unit_price=membership_year.fee)],
        by=by,
        issued_on=issued_on,
        membership_year=membership_year,
    )
    MembershipYear.objects.filter(pk=membership_year.pk).update(invoice_reference=invoice.number)
    return invoice, True


@transaction.atomic
def credit_note_issue(
    *,
    invoice: Invoice,
    by: User | None,
    reason: str,
    amount_excl_vat: Decimal | None = None,
    issued_on: datetime.date | None = None,
) -> Invoice:
    """A credit note (avoir) on `invoice`, for its whole unpaid balance or `amount_excl_vat`.

    The invoice itself is never changed, except its payment status: credited in full, it is
    cancelled (and its membership year may be invoiced again). Only the unpaid part can be
    credited: money received is refunded outside the portal.
    """
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.is_credit_note:
        raise ValidationError(_("A credit note cannot itself be credited."), code="credit_of_credit")
    if not reason.strip():
        raise ValidationError(_("Say why the credit note is issued."), code="reason")
    balance = invoice.amount_due
    if balance <= 0:
        raise ValidationError(_("Nothing is left to credit on %(number)s.") % {"number": invoice.number}, code="none")
    if amount_excl_vat is None:
        incl = balance
        if balance == invoice.total_incl_vat:
            excl = invoice.total_excl_vat
        else:
            excl = money(balance * 100 / (100 + invoice.vat_rate))
        vat = incl - excl
    else:
        excl = money(amount_excl_vat)
        if excl <= 0:
            raise ValidationError(_("The amount of a credit note must be positive."), code="amount")
        vat = money(excl * invoice.vat_rate / 100)
        incl = excl + vat
        if incl > balance:
            raise ValidationError(
                _("A credit note cannot exceed what is left to pay (%(balance)s).") % {"balance": euros(balance)},
                code="too_much",
            )
    issued_on = issued_on or timezone.localdate()
    sequence, number = invoice_number_take(issued_on=issued_on)
    credit = Invoice(
        kind=Invoice.Kind.CREDIT_NOTE,
        number=number,
        year=issued_on.year,
        sequence=sequence,
        organisation_id=invoice.organisation_id,
        membership_year_id=invoice.membership_year_id,
        credited_invoice=invoice,
        status=Invoice.Status.ISSUED,
        issued_on=issued_on,
        due_on=issued_on,
        reason=reason.strip(),
        seller=seller_details(),
        buyer_name=invoice.buyer_name,
        buyer_address=invoice.buyer_address,
        buyer_postcode=invoice.buyer_postcode,
        buyer_city=invoice.buyer_city,
        buyer_siren=invoice.buyer_siren,
        buyer_siret=invoice.buyer_siret,
        buyer_vat_number=invoice.buyer_vat_number,
        purchase_order=invoice.purchase_order,
        service_code=invoice.service_code,
        vat_rate=invoice.vat_rate,
        vat_exemption=invoice.vat_exemption,
        total_excl_vat=excl,
        total_vat=vat,
        total_incl_vat=incl,
        issued_by=by,
    )
    credit.full_clean(exclude=["pdf"])
    credit.save()
    with translation.override("fr"):
        label = _("Credit on invoice %(number)s: %(reason)s") % {"number": invoice.number, "reason": reason.strip()}
    InvoiceLine.objects.create(
        invoice=credit,
        position=1,
        label=label,
        quantity=Decimal("1"),
        unit_price=excl,
        amount=excl,
    )
    Invoice.objects.filter(pk=invoice.pk).update(amount_credited=invoice.amount_credited + incl)
    invoice.amount_credited += incl
    _status_sync(invoice)
    logger.info("%s issued credit note %s on %s", by, number, invoice.number)
    return credit


# --- Payments ---------------------------------------------------------------------------------


def _status_for(invoice: Invoice) -> str:
    if invoice.amount_credited >= invoice.total_incl_vat:
        return Invoice.Status.CANCELLED
    if invoice.amount_paid + invoice.amount_credited >= invoice.total_incl_vat:
        return Invoice.Status.PAID
    if invoice.amount_paid > 0:
        return Invoice.Status.PARTLY_PAID
    return Invoice.Status.OPEN


def _status_sync(invoice: Invoice) -> None:
    status = _status_for(invoice)
    if status != invoice.status:
        Invoice.objects.filter(pk=invoice.pk).update(status=status)
        invoice.status = status


def payment_check(*, invoice: Invoice, amount: Decimal, received_on: datetime.date) -> None:
    """Refuse a payment the invoice cannot take (the admin form asks the same before saving)."""
    if invoice.is_credit_note:
        raise ValidationError(_("Payments are recorded on invoices, not on credit notes."), code="credit_note")
    if invoice.status in (Invoice.Status.CANCELLED, Invoice.Status.PAID):
        raise ValidationError(
            _("Invoice %(number)s is %(status)s: no payment is due.")
            % {"number": invoice.number, "status": invoice.get_status_display().lower()},
            code="not_due",
        )
    if amount <= 0:
        raise ValidationError(_("The amount must be positive."), code="amount")
    if amount > invoice.amount_due:
        raise ValidationError(
            _("%(amount)s is more than the %(due)s due on %(number)s.")
            % {"amount": euros(amount), "due": euros(invoice.amount_due), "number": invoice.number},
            code="overpayment",
        )
    if received_on > timezone.localdate():
        raise ValidationError(_("A payment cannot be received in the future."), code="future")


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    amount: Decimal,
    received_on: datetime.date,
    method: str,
    reference: str = "",
    by: User | None,
) -> Payment:
    """Record a transfer or cheque for an invoice, in full or in part. Paid in full, the invoice's
    membership year becomes active (paid on the date of the last payment).

    The invoice row is locked, so two staff recording at once cannot both overpay it.
    """
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    amount = money(amount)
    payment_check(invoice=invoice, amount=amount, received_on=received_on)
    payment = Payment(
        invoice=invoice, amount=amount, received_on=received_on, method=method, reference=reference, recorded_by=by
    )
    payment.full_clean()
    payment.save()
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=invoice.amount_paid + amount)
    invoice.amount_paid += amount
    _status_sync(invoice)
    if invoice.status == Invoice.Status.PAID and invoice.membership_year_id:
        _activate_membership(invoice, paid_on=received_on)
    logger.info("%s recorded %s € on %s", by, amount, invoice.number)
    return payment


def _activate_membership(invoice: Invoice, *, paid_on: datetime.date) -> None:
    membership = MembershipYear.objects.select_related("organisation").get(pk=invoice.membership_year_id)
    if membership.status in (MembershipYear.Status.ACTIVE, MembershipYear.Status.RESIGNED):
        return
    services.membership_record_payment(
        organisation=membership.organisation, year=membership.year, paid_on=paid_on, invoice_reference=invoice.number
    )


# --- Fee calls --------------------------------------------------------------------------------


@dataclass
class FeeCallReport:
    issued: list[Invoice] = field(default_factory=list)
    already_invoiced: int = 0
    skipped: list[str] = field(default_factory=list)


def organisations_due(*, year: int) -> Iterable[Organisation]:
    """Who the call for `year` invoices: organisations with a membership year `year` not resigned
    and not yet invoiced, after opening `year` for last year's members (as the renewal does)."""
    services.membership_years_open_for_members_of(year=year - 1, new_year=year)
    live_invoice = Invoice.objects.filter(membership_year=OuterRef("pk"), kind=Invoice.Kind.INVOICE).exclude(
        status=Invoice.Status.CANCELLED
    )
    memberships = MembershipYear.objects.filter(year=year).exclude(status=MembershipYear.Status.RESIGNED)
    return Organisation.objects.filter(
        pk__in=memberships.filter(~Exists(live_invoice)).values("organisation_id")
    ).order_by("name")


def fee_call_run(
    *,
    year: int,
    by: User | None,
    organisations: Iterable[Organisation] | None = None,
    issued_on: datetime.date | None = None,
    fee_call: FeeCall | None = None,
) -> FeeCallReport:
    """Invoice year `year`'s fee to every organisation due, or to those selected. Run it any number
    of times: a membership year that has a live invoice is never invoiced again.

    Each invoice is issued in its own transaction, so one organisation the grid has no fee for
    does not hold back the others; it is reported in `skipped`.
    """
    report = FeeCallReport()
    chosen = list(organisations) if organisations is not None else list(organisations_due(year=year))
    for organisation in chosen:
        try:
            with transaction.atomic():
                membership = services.membership_year_open(organisation=organisation, year=year)
                invoice, created = invoice_issue_for_membership(membership_year=membership, by=by, issued_on=issued_on)
        except ValidationError as error:
            report.skipped.append(f"{organisation}: {' '.join(error.messages)}")
            continue
        if created:
            report.issued.append(invoice)
            # The PDF is rendered and the e-mail enqueued by a worker, after commit (the call
            # itself stays quick); the daily scan catches a task the broker lost. The task is
            # looked up by name: members.tasks imports this module.
            current_app.tasks["members.send_invoice_email"].delay_on_commit(invoice.pk)
        else:
            report.already_invoiced += 1
    if fee_call is not None:
        FeeCall.objects.filter(pk=fee_call.pk).update(
            issued=len(report.issued), already_invoiced=report.already_invoiced, skipped="\n".join(report.skipped)
        )
    return report


# --- Members' own details ---------------------------------------------------------------------

BILLING_PROFILE_MEMBER_FIELDS = ("address", "postcode", "city", "purchase_order")


@transaction.atomic
def billing_profile_update(*, organisation: Organisation, by: User, **fields) -> BillingProfile:
    """Update an organisation's billing details; they apply to invoices issued from now on
    (issued ones keep what they say)."""
    profile = billing_profile_of(organisation)
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    logger.info("%s updated the billing details of %s", by, organisation)
    return profile


def amounts_due(organisation: Organisation) -> Decimal:
    """What the organisation owes on its unpaid invoices."""
    return sum((invoice.amount_due for invoice in organisation.invoices.unpaid()), ZERO)


def overdue_invoices(*, today: datetime.date):
    """Unpaid invoices past their due date, oldest first, for staff."""
    return Invoice.objects.overdue(today).select_related("organisation").order_by("due_on", "number")
