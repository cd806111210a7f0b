from __future__ import annotations

import hashlib
import tempfile

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from common.cache import cached, generation
from members import services
from members.forms import ExportForm, ImportForm, OrganisationAdminForm
from members.imports import (
    ImportReport,
    export_csv_stream,
    export_xlsx_file,
    import_job_create,
    members_import,
)
from members.models import (
    FeeRate,
    ImportJob,
    MembershipYear,
    Organisation,
    Person,
    User,
    search_term_key,
    strategic_areas,
)
from members.resources import OrganisationResource
from members.selectors import DIRECTORY, IdsFirst, directory_changed
from members.tasks import run_import_job

IMPORT_PHASES = {
    "read": _("reading the file"),
    "check": _("checking the rows"),
    "write": _("writing"),
    "done": _("finished"),
}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class DasFilter(admin.SimpleListFilter):
    title = _("strategic area (DAS)")
    parameter_name = "das"

    def lookups(self, request, model_admin):
        areas = strategic_areas()
        return [(area.code, area.name) for area in areas]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(das_interests__code=self.value())
        return queryset


class DepartementFilter(admin.SimpleListFilter):
    title = _("département")
    parameter_name = "departement"
    ILE_DE_FRANCE = ["75", "77", "78", "91", "92", "93", "94", "95"]

    def lookups(self, request, model_admin):
        return [(code, code) for code in self.ILE_DE_FRANCE] + [("other", _("outside Île-de-France"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "other":
            condition = Q()
            for code in self.ILE_DE_FRANCE:
                condition |= Q(postcode__startswith=code)
            return queryset.exclude(condition)
        if value:
            return queryset.filter(postcode__startswith=value)
        return queryset


class ContactInline(admin.TabularInline):
    model = Person
    fk_name = "organisation"
    extra = 0
    fields = [
        "civility",
        "first_name",
        "last_name",
        "position",
        "email",
        "is_primary_contact",
        "is_billing_contact",
        "is_scientific_contact",
        "is_communication_contact",
        "user",
    ]
    autocomplete_fields = ["user"]
    show_change_link = True
    verbose_name = _("contact")
    verbose_name_plural = _("contacts")


class MembershipYearInline(admin.TabularInline):
    model = MembershipYear
    extra = 0
    fields = ["year", "fee", "status", "invoice_reference", "paid_on", "reminder_status", "reminder_sent_at"]
    # Status changes go through the workflow on the membership year's own page.
    readonly_fields = ["status", "reminder_status", "reminder_sent_at"]
    show_change_link = True
    ordering = ["-year"]


class CachedCountPaginator(Paginator):
    """The changelist's paginator: a page's ids first (members.selectors.IdsFirst), and a COUNT kept a minute.

    At 100,000 organisations the COUNT of the unfiltered changelist is its one costly query
    (an index-only scan of every row, 10 ms on a quiet machine, 39 ms under load; the page
    itself is 0.3 ms): staff paging through a list do not need it recounted at every click.
    Every write path of organisations calls `directory_changed()`, which moves the generation.

    A search reads every matching id at once from the trigram index, in order, and counts them
    (no COUNT): for a term whose matches cluster under one letter ("neuro": 5,816 names, most
    starting with "Neuro"), PostgreSQL otherwise walked the name index and tested 59,186 rows
    before it had 50 (211 ms; 12 ms now). A far page reads its ids from the (name, id) index
    alone, then its rows by primary key, instead of reading and skipping every row before it.
    """

    COUNT_SECONDS = 60

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, search: bool = False):
        if not isinstance(object_list, IdsFirst):
            object_list = IdsFirst(object_list, search=search)
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)

    @cached_property
    def count(self) -> int:
        ids_first = self.object_list
        known = ids_first.known_count()
        if known is not None:
            return known
        sql, params = ids_first.queryset.query.sql_with_params()
        digest = hashlib.sha256(repr((sql, params)).encode()).hexdigest()[:32]
        key = f"{DIRECTORY}:{generation(DIRECTORY)}:admin-count:{digest}"
        return cached(key, ids_first.queryset.count, seconds=self.COUNT_SECONDS)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    paginator = CachedCountPaginator
    form = OrganisationAdminForm
    list_display = ["name", "category", "status", "siren", "postcode", "city", "member_since"]
    LIST_COLUMNS = {field.name for field in Organisation._meta.concrete_fields}
    list_filter = ["status", "category", DasFilter, DepartementFilter, "directory_opt_in"]
    # Read by get_search_results below, which picks an indexed lookup for each kind of term.
    search_fields = ["name", "siren", "city", "people__email"]
    search_help_text = _("Name, SIREN, city, or a contact's e-mail address (type an @).")
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["das_interests"]
    inlines = [ContactInline, MembershipYearInline]
    list_per_page = 50
    # Facet counts would run one COUNT per filter option over 100,000 rows.
    show_facets = admin.ShowFacets.NEVER
    # The paginator's count is enough; a second count of the whole table is not worth it at 100,000 rows.
    show_full_result_count = False
    actions = ["mark_renewed", "send_renewal_reminder_now", "export_selected_csv", "export_selected_xlsx"]
    change_list_template = "admin/members/organisation/change_list.html"
    fieldsets = (
        (None, {"fields": ("name", "slug", "category", "siren", "headcount", "status", "member_since")}),
        (_("Address"), {"fields": ("address", "postcode", "city")}),
        (
            _("Public profile"),
            {"fields": ("description", "website", "das_interests", "logo", "directory_opt_in")},
        ),
        (_("Duplicates"), {"fields": ("confirm_not_duplicate",)}),
    )

    # A constant of our own, as Django's ModelAdmin.action_checkbox does.
    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))  # nosec B308
    def action_checkbox(self, obj):
        # Same markup as Django's, without rendering a form widget through the template engine
        # for each of the 50 rows (a third of the changelist's rendering time).
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if obj is None else fieldsets[:-1]

    def get_search_results(self, request, queryset, search_term):
        """Each kind of term gets a lookup an index serves (see docs/members.md for the EXPLAIN)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term:
            people = Person.objects.filter(email__icontains=term).values("organisation_id")
            return queryset.filter(pk__in=people), False
        digits = "".join(term.split())
        if digits.isdigit() and len(digits) >= 3:
            if len(digits) == 9:
                return queryset.filter(siren=digits), False
            return queryset.filter(siren__startswith=digits), False
        key = search_term_key(term)
        if not key:
            return queryset.none(), False
        return queryset.filter(search_key__contains=key), False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # Only the columns the list shows are read for a page (the description, address and keys are not).
        shown = [name for name in self.list_display if name in self.LIST_COLUMNS]
        return self.paginator(
            queryset.only("pk", *shown),
            per_page,
            orphans,
            allow_empty_first_page,
            search=bool(request.GET.get(SEARCH_VAR, "").strip()),
        )

    # --- import / export ---------------------------------------------------------------------
    def get_urls(self):
        extra = [
            path("import/", self.admin_site.admin_view(self.import_view), name="members_organisation_import"),
            path(
                "import/<int:job_id>/",
                self.admin_site.admin_view(self.import_job_view),
                name="members_organisation_import_job",
            ),
            path("export/", self.admin_site.admin_view(self.export_view), name="members_organisation_export"),
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > settings.MEMBERS_IMPORT_ASYNC_BYTES:
                # A large file: a worker imports it; the progress page follows it and keeps its report.
                job = import_job_create(
                    content=upload.read(), filename=upload.name, dry_run=form.cleaned_data["dry_run"], by=request.user
                )
                run_import_job.delay_on_commit(job.pk)
                return redirect("admin:members_organisation_import_job", job_id=job.pk)
            report = members_import(content=upload.read(), dry_run=form.cleaned_data["dry_run"], by=request.user)
            if report.written:
                self.message_user(
                    request,
                    _("Imported: %(new)s new, %(updated)s updated, %(unchanged)s unchanged.")
                    % {"new": report.new, "updated": report.updated, "unchanged": report.unchanged},
                    messages.SUCCESS,
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import organisations"),
            "form": form,
            "report": report,
            "columns": ", ".join(OrganisationResource.column_names()),
        }
        return TemplateResponse(request, "admin/members/organisation/import.html", context)

    def import_job_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        """An import run by a worker: its progress while it runs (the page reloads itself), then its report."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        job = get_object_or_404(ImportJob.objects.defer("content"), pk=job_id)
        report = ImportReport.from_dict(job.report) if job.report else None
        rate = None
        if job.started_at and job.rows_done:
            elapsed = ((job.finished_at or timezone.now()) - job.started_at).total_seconds()
            rate = round(job.rows_done / elapsed) if elapsed > 0 else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import of %(file)s") % {"file": job.filename},
            "job": job,
            "report": report,
            "rate": rate,
            "phase": IMPORT_PHASES.get(job.phase, ""),
        }
        return TemplateResponse(request, "admin/members/organisation/import_job.html", context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ExportForm(request.GET or None)
        if form.is_valid():
            return self._export(
                Organisation.objects.all(), form.cleaned_data["file_format"], kind=form.cleaned_data["kind"]
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Export organisations"),
            "form": form,
        }
        return TemplateResponse(request, "admin/members/organisation/export.html", context)

    @staticmethod
    def _export(queryset, file_format: str, kind: str = "organisations") -> HttpResponse:
        """Streamed: the CSV goes out a chunk of rows at a time; the XLSX is built in a temporary file."""
        name = {"organisations": "members", "contacts": "contacts", "years": "membership-years"}[kind]
        filename = f"medicen-{name}-{timezone.localtime():%Y%m%d-%H%M}.{file_format}"
        if file_format == "xlsx":
            target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
            export_xlsx_file(target, queryset, kind=kind)
            target.seek(0)
            return FileResponse(
                target,
                as_attachment=True,
                filename=filename,
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        response = StreamingHttpResponse(export_csv_stream(queryset, kind=kind), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def save_model(self, request, obj, form, change):
        # The row still names the file being replaced or cleared (the form put the new one on obj).
        previous = Organisation.objects.filter(pk=obj.pk).values_list("logo", flat=True).first() if change else ""
        super().save_model(request, obj, form, change)
        services.logo_file_release(previous=previous or "", kept=obj.logo.name)

    # The public directory caches its pages: every change made here drops them.
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        directory_changed()

    def delete_model(self, request, obj):
        logo = obj.logo.name
        super().delete_model(request, obj)
        services.logo_file_release(previous=logo)
        directory_changed()

    def delete_queryset(self, request, queryset):
        logos = list(queryset.exclude(logo="").values_list("logo", flat=True))
        super().delete_queryset(request, queryset)
        for logo in logos:
            services.logo_file_release(previous=logo)
        directory_changed()

    # --- bulk actions ----------------------------------------------------------------------------
    @admin.action(description=_("Mark as renewed (fee received today)"), permissions=["change"])
    def mark_renewed(self, request, queryset):
        try:
            outcome = services.membership_renew(organisations=queryset, today=timezone.localdate())
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        count = len(outcome.renewed)
        if count:
            self.message_user(
                request,
                ngettext("%d organisation renewed.", "%d organisations renewed.", count) % count,
                messages.SUCCESS,
            )
        if outcome.refused:
            shown = outcome.refused[:5]
            more = len(outcome.refused) - len(shown)
            text = " ".join(shown)
            if more:
                text += " " + ngettext("And %d other.", "And %d others.", more) % more
            self.message_user(request, text, messages.WARNING)

    @admin.action(description=_("Send the renewal reminder now"), permissions=["change"])
    def send_renewal_reminder_now(self, request, queryset):
        try:
            ids, already = services.renewal_reminders_request(organisations=queryset, today=timezone.localdate())
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        self.message_user(
            request,
            _("%(sent)s reminder(s) queued; %(already)s already sent this year (never sent twice).")
            % {"sent": len(ids), "already": already},
            messages.SUCCESS,
        )

    @admin.action(description=_("Export the selection (CSV)"), permissions=["view"])
    def export_selected_csv(self, request, queryset):
        return self._export(queryset, "csv")

    @admin.action(description=_("Export the selection (XLSX)"), permissions=["view"])
    def export_selected_xlsx(self, request, queryset):
        return self._export(queryset, "xlsx")


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = [
        "last_name",
        "first_name",
        "civility",
        "position",
        "organisation",
        "email",
        "is_primary_contact",
        "is_billing_contact",
        "invited_at",
    ]
    list_filter = [
        "civility",
        "is_primary_contact",
        "is_billing_contact",
        "is_scientific_contact",
        "is_communication_contact",
        "organisation__category",
    ]
    search_fields = ["last_name", "first_name", "email", "affiliation", "organisation__name"]
    autocomplete_fields = ["organisation", "user"]
    list_select_related = ["organisation"]
    readonly_fields = ["invited_at", "invitation_sent_at", "anonymised_at"]
    show_full_result_count = False
    actions = ["invite", "anonymise"]

    @admin.action(
        description=_("Anonymise (a person who left: keep the records, remove the identity)"), permissions=["change"]
    )
    def anonymise(self, request, queryset):
        """Ask for confirmation on an intermediate page, then anonymise each selected person."""
        people = list(queryset.select_related("organisation", "user"))
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": _("Anonymise people"),
                "opts": self.model._meta,
                "people": people,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/members/person/anonymise_confirmation.html", context)
        done = 0
        for person in people:
            try:
                services.person_anonymise(person=person, by=request.user)
                done += 1
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.WARNING)
        if done:
            self.message_user(
                request, ngettext("%d person anonymised.", "%d people anonymised.", done) % done, messages.SUCCESS
            )
        return None

    @admin.action(description=_("Invite to an account (e-mail with a link to set a password)"), permissions=["change"])
    def invite(self, request, queryset):
        invited = 0
        for person in queryset:
            try:
                services.person_invite(person=person, by=request.user)
                invited += 1
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.WARNING)
        if invited:
            self.message_user(
                request, ngettext("%d invitation sent.", "%d invitations sent.", invited) % invited, messages.SUCCESS
            )


class MembershipYearAdminForm(forms.ModelForm):
    class Meta:
        model = MembershipYear
        fields = [
            "organisation",
            "year",
            "fee",
            "status",
            "invoice_reference",
            "paid_on",
            "resigned_on",
            "resignation_reason",
        ]

    def clean(self):
        data = super().clean()
        if self.instance.pk and "status" in self.changed_data:
            current, to = self.initial["status"], data.get("status")
            if to not in services.ALLOWED[MembershipYear.Status(current)]:
                raise forms.ValidationError(services.InvalidTransition(current, to))
            if to == MembershipYear.Status.ACTIVE and not data.get("paid_on"):
                self.add_error("paid_on", _("A payment date is needed to activate a membership year."))
            if to == MembershipYear.Status.RESIGNED:
                if not data.get("resigned_on"):
                    self.add_error("resigned_on", _("A resignation needs its date and reason."))
                if not (data.get("resignation_reason") or "").strip():
                    self.add_error("resignation_reason", _("A resignation needs its date and reason."))
        return data


@admin.register(MembershipYear)
class MembershipYearAdmin(admin.ModelAdmin):
    form = MembershipYearAdminForm
    list_display = ["organisation", "year", "fee", "status", "paid_on", "invoice_reference", "reminder_status"]
    list_filter = ["status", ("reminder_message__status", admin.AllValuesFieldListFilter), "year"]
    search_fields = ["organisation__name", "invoice_reference"]
    search_help_text = _("Organisation name or city, or an invoice reference.")
    autocomplete_fields = ["organisation"]
    list_select_related = ["organisation", "reminder_message"]
    readonly_fields = ["reminder_status", "reminder_sent_at", "reminder_attempts", "reminder_error"]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # The organisation's normalised search key (trigram-indexed), not an unindexed join on its name.
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(invoice_reference__iexact=term)
        key = search_term_key(term)
        if key:
            match |= Q(organisation__search_key__contains=key)
        return queryset.filter(match), False

    def save_model(self, request, obj, form, change):
        if change and "status" in form.changed_data:
            # Other fields first, then the status through the workflow's one transition service.
            to = obj.status
            obj.status = form.initial["status"]
            obj.save()
            services.membership_year_transition(
                membership_year=obj,
                to=to,
                paid_on=obj.paid_on,
                invoice_reference=obj.invoice_reference,
                resigned_on=obj.resigned_on,
                resignation_reason=obj.resignation_reason,
            )
            return
        super().save_model(request, obj, form, change)


@admin.register(FeeRate)
class FeeRateAdmin(admin.ModelAdmin):
    list_display = ["category", "headcount_min", "headcount_max", "amount"]
    list_editable = ["amount"]
    list_filter = ["category"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Imports run by a worker: each links to its progress page and report. Created only by the import page."""

    list_display = ["filename", "status", "dry_run", "rows_total", "created_by", "created_at", "report_link"]
    list_filter = ["status", "dry_run"]
    list_select_related = ["created_by"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content", "report")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("progress and report"))
    def report_link(self, job: ImportJob) -> str:
        url = reverse("admin:members_organisation_import_job", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Open"))


# The billing and the applications admins are registered in their modules.
from members import applications_admin, billing_admin  # noqa: E402, F401
