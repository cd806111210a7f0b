"""Staff admin of membership billing: invoices and credit notes (read only once issued), payments,
fee calls, billing details, the overdue list and the accountant's export.

Registered from members/admin.py (one import line), kept apart so billing and the rest of the
members admin change independently.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members import billing
from members.billing_export import accounting_csv
from members.invoice_pdf import invoice_pdf, pdf_filename
from members.models import BillingProfile, FeeCall, Invoice, InvoiceLine, Payment


class OverdueFilter(admin.SimpleListFilter):
    title = _("payment")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("unpaid", _("unpaid")), ("overdue", _("overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "unpaid":
            return queryset.unpaid()
        if self.value() == "overdue":
            return queryset.overdue(timezone.localdate())
        return queryset


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ["position", "label", "quantity", "unit_price", "amount"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    fields = ["received_on", "amount", "method", "reference", "recorded_by", "recorded_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CreditNoteForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500)
    amount_excl_vat = forms.DecimalField(
        label=_("Amount excl. VAT (€)"),
        required=False,
        min_value=Decimal("0.01"),
        decimal_places=2,
        localize=True,
        help_text=_("Empty: the whole unpaid balance (the invoice is then cancelled)."),
    )


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The period must end after it starts."))
        return data


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "kind",
        "buyer_name",
        "issued_on",
        "due_on",
        "total_incl_vat",
        "due_display",
        "status",
    ]
    list_filter = ["kind", "status", OverdueFilter, "year"]
    search_fields = ["number", "buyer_name", "buyer_siren"]
    search_help_text = _("Number, organisation name or SIREN.")
    list_select_related = ["organisation"]
    date_hierarchy = "issued_on"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    inlines = [InvoiceLineInline, PaymentInline]
    change_form_template = "admin/members/invoice/change_form.html"
    change_list_template = "admin/members/invoice/change_list.html"
    fieldsets = (
        (None, {"fields": ("number", "kind", "status", "organisation", "membership_year", "credited_invoice")}),
        (_("Dates"), {"fields": ("issued_on", "due_on", "reason")}),
        (
            _("Buyer (as printed)"),
            {
                "fields": (
                    "buyer_name",
                    "buyer_address",
                    "buyer_postcode",
                    "buyer_city",
                    "buyer_siren",
                    "buyer_siret",
                    "buyer_vat_number",
                    "purchase_order",
                    "service_code",
                )
            },
        ),
        (
            _("Amounts"),
            {
                "fields": (
                    "total_excl_vat",
                    "vat_rate",
                    "vat_exemption",
                    "total_vat",
                    "total_incl_vat",
                    "amount_paid",
                    "amount_credited",
                    "due_display",
                )
            },
        ),
        (_("Issue"), {"fields": ("issued_by", "created_at")}),
    )

    @admin.display(description=_("due"))
    def due_display(self, obj: Invoice) -> str:
        return obj.amount_due

    # An issued invoice is never edited or deleted: corrections are credit notes.
    def get_readonly_fields(self, request, obj=None):
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/pdf/", view(self.pdf_view), name="members_invoice_pdf"),
            path("<int:pk>/credit-note/", view(self.credit_note_view), name="members_invoice_credit_note"),
            path("overdue/", view(self.overdue_view), name="members_invoice_overdue"),
            path("accounting-export/", view(self.accounting_export_view), name="members_invoice_accounting_export"),
            *super().get_urls(),
        ]

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice, pk=pk)
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{pdf_filename(invoice)}"'
        return response

    def credit_note_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request) or not request.user.has_perm("members.add_invoice"):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice, pk=pk, kind=Invoice.Kind.INVOICE)
        form = CreditNoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                credit = billing.credit_note_issue(
                    invoice=invoice,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    amount_excl_vat=form.cleaned_data["amount_excl_vat"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    gettext("Credit note %(credit)s issued on invoice %(number)s.")
                    % {"credit": credit.number, "number": invoice.number},
                    messages.SUCCESS,
                )
                return redirect("admin:members_invoice_change", credit.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Credit note on invoice %(number)s") % {"number": invoice.number},
            "invoice": invoice,
            "form": form,
        }
        return TemplateResponse(request, "admin/members/invoice/credit_note.html", context)

    def overdue_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        invoices = list(billing.overdue_invoices(today=today)[:500])
        for invoice in invoices:
            invoice.days_late = (today - invoice.due_on).days
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Overdue invoices"),
            "invoices": invoices,
            "total_due": sum((invoice.amount_due for invoice in invoices), Decimal("0.00")),
            "count": billing.overdue_invoices(today=today).count(),
        }
        return TemplateResponse(request, "admin/members/invoice/overdue.html", context)

    def accounting_export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request) or not request.user.has_perm("members.view_payment"):
            raise PermissionDenied
        today = timezone.localdate()
        initial = {"start": today.replace(day=1), "end": today}
        form = PeriodForm(request.GET or None, initial=initial)
        if request.GET and form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            response = HttpResponse(accounting_csv(start=start, end=end), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="medicen-comptabilite-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
            )
            return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Export for the accountant"),
            "form": form,
        }
        return TemplateResponse(request, "admin/members/invoice/accounting_export.html", context)


class PaymentAdminForm(forms.ModelForm):
    class Meta:
        model = Payment
        fields = ["invoice", "amount", "received_on", "method", "reference"]
        localized_fields = ["amount"]  # "600,00" as French staff type it

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "received_on" in self.fields:
            self.fields["received_on"].initial = timezone.localdate

    def clean(self):
        data = super().clean()
        invoice, amount, received_on = data.get("invoice"), data.get("amount"), data.get("received_on")
        if invoice and amount is not None and received_on:
            try:
                billing.payment_check(invoice=invoice, amount=billing.money(amount), received_on=received_on)
            except ValidationError as error:
                raise forms.ValidationError(error.messages) from None
        return data


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    form = PaymentAdminForm
    list_display = ["received_on", "invoice", "organisation_display", "amount", "method", "reference", "recorded_by"]
    list_filter = ["method"]
    search_fields = ["invoice__number", "invoice__buyer_name", "reference"]
    list_select_related = ["invoice", "recorded_by"]
    autocomplete_fields = ["invoice"]
    date_hierarchy = "received_on"
    show_full_result_count = False

    @admin.display(description=_("organisation"))
    def organisation_display(self, obj: Payment) -> str:
        return obj.invoice.buyer_name

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        invoice = Invoice.objects.filter(pk=request.GET.get("invoice") or 0).first()
        if invoice is not None:
            initial["amount"] = invoice.amount_due
        return initial

    def get_readonly_fields(self, request, obj=None):
        # Recorded payments are kept as they are; a mistake is corrected with a credit note.
        return [*PaymentAdminForm.Meta.fields, "recorded_by", "recorded_at"] if obj else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        payment = billing.payment_record(
            invoice=obj.invoice,
            amount=obj.amount,
            received_on=obj.received_on,
            method=obj.method,
            reference=obj.reference,
            by=request.user,
        )
        obj.pk, obj.recorded_by, obj.recorded_at = payment.pk, payment.recorded_by, payment.recorded_at
        obj._state.adding = False
        obj.invoice.refresh_from_db()
        if obj.invoice.status == Invoice.Status.PAID:
            self.message_user(
                request, gettext("Invoice %(number)s is paid.") % {"number": obj.invoice.number}, messages.SUCCESS
            )

    def response_add(self, request, obj, post_url_continue=None):
        return redirect("admin:members_invoice_change", obj.invoice_id)


class FeeCallForm(forms.ModelForm):
    class Meta:
        model = FeeCall
        fields = ["year", "organisations"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        # From October, the call staff prepare is next year's.
        self.fields["year"].initial = today.year + 1 if today.month >= 10 else today.year

    def clean_year(self):
        year = self.cleaned_data["year"]
        this_year = timezone.localdate().year
        if not this_year - 1 <= year <= this_year + 1:
            raise forms.ValidationError(
                _("A fee call is for last year, this year or next year (%(first)s to %(last)s).")
                % {"first": this_year - 1, "last": this_year + 1}
            )
        return year


@admin.register(FeeCall)
class FeeCallAdmin(admin.ModelAdmin):
    form = FeeCallForm
    list_display = ["year", "launched_at", "launched_by", "issued", "already_invoiced"]
    autocomplete_fields = ["organisations"]
    readonly_fields = ["launched_by", "launched_at", "issued", "already_invoiced", "skipped"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "year", "organisations"] if obj else []

    def get_fields(self, request, obj=None):
        return ["year", "organisations", *self.readonly_fields] if obj else ["year", "organisations"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.launched_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        call = form.instance
        selection = list(call.organisations.all()) or None
        report = billing.fee_call_run(year=call.year, by=request.user, organisations=selection, fee_call=call)
        self.message_user(
            request,
            ngettext(
                "Fee call %(year)s: %(count)d invoice issued, %(already)d already invoiced.",
                "Fee call %(year)s: %(count)d invoices issued, %(already)d already invoiced.",
                len(report.issued),
            )
            % {"year": call.year, "count": len(report.issued), "already": report.already_invoiced},
            messages.SUCCESS,
        )
        for line in report.skipped[:20]:
            self.message_user(request, line, messages.WARNING)


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin):
    list_display = ["organisation", "siret", "vat_number", "public_body", "purchase_order", "updated_at"]
    list_filter = ["public_body"]
    search_fields = ["organisation__name", "siret", "vat_number", "purchase_order"]
    autocomplete_fields = ["organisation"]
    list_select_related = ["organisation"]
