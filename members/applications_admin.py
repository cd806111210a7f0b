"""The admin of applications to join: probable duplicates flagged, approve and decline after a confirmation page."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members import applications
from members.models import MembershipApplication, Organisation

# Duplicates are looked for among this many latest applications for the list filter (one pass, two queries).
FILTER_SCAN_LIMIT = 2000


class DuplicateFilter(admin.SimpleListFilter):
    title = _("possible duplicate")
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        rows = list(
            queryset.order_by("-pk").only("pk", "organisation_name", "siren", "organisation_id")[:FILTER_SCAN_LIMIT]
        )
        flagged = list(applications.application_duplicates(rows))
        return queryset.filter(pk__in=flagged) if self.value() == "yes" else queryset.exclude(pk__in=flagged)


class ApplicationChangeList(ChangeList):
    def get_results(self, request) -> None:
        super().get_results(request)
        # The page's duplicates in two queries, whatever the page size (not one search per row).
        found = applications.application_duplicates(self.result_list)
        for application in self.result_list:
            application.duplicates = found.get(application.pk, [])


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Sent to the applicant in the e-mail that tells them; write it for them."),
        max_length=2000,
    )


def _duplicate_links(duplicates: list) -> str:
    """Links to the matching organisations and applications, as list items."""

    def link(match) -> tuple:
        if isinstance(match, Organisation):
            url = reverse("admin:members_organisation_change", args=[match.pk])
            return url, match.name, gettext("organisation")
        url = reverse("admin:members_membershipapplication_change", args=[match.pk])
        return url, match.organisation_name, gettext("application")

    return format_html_join(
        "", '<li><a href="{}">{}</a> ({}, SIREN {})</li>', ((*link(m), m.siren or "—") for m in duplicates)
    )


@admin.register(MembershipApplication)
class MembershipApplicationAdmin(admin.ModelAdmin):
    list_display = ["organisation_name", "siren", "status", "duplicate_flag", "submitted_at", "contact"]
    list_filter = ["status", DuplicateFilter, "category"]
    search_fields = ["organisation_name", "siren", "email", "last_name"]
    search_help_text = _("Organisation name, SIREN, contact's name or e-mail.")
    date_hierarchy = "submitted_at"
    list_select_related = ["decided_by"]
    show_full_result_count = False
    change_form_template = "admin/members/membershipapplication/change_form.html"
    fieldsets = (
        (None, {"fields": ("status", "duplicates_display", "organisation_link")}),
        (_("Organisation"), {"fields": ("organisation_name", "siren", "category", "headcount", "das_display")}),
        (_("Contact"), {"fields": ("first_name", "last_name", "position", "email", "phone", "language")}),
        (_("Decision"), {"fields": ("submitted_at", "consented_at", "decided_at", "decided_by", "reason")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # What the applicant sent stays as sent; decisions go through the approve and decline pages.
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    def has_add_permission(self, request) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing to save here: every field is read-only; deciding has its own pages.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_changelist(self, request, **kwargs):
        return ApplicationChangeList

    @admin.display(description=_("contact"))
    def contact(self, obj: MembershipApplication) -> str:
        return obj.contact_name

    @admin.display(description=_("possible duplicate"))
    def duplicate_flag(self, obj: MembershipApplication) -> str:
        duplicates = getattr(obj, "duplicates", [])
        if not duplicates:
            return "—"
        return format_html("<strong>⚠ {}</strong>", ", ".join(_names(duplicates)))

    @admin.display(description=_("possible duplicates"))
    def duplicates_display(self, obj: MembershipApplication) -> str:
        duplicates = applications.application_duplicates([obj]).get(obj.pk, [])
        if not duplicates:
            return gettext("None found (same SIREN, or a similar name, among organisations and applications).")
        return format_html('<ul class="mb-0 ps-3">{}</ul>', _duplicate_links(duplicates))

    @admin.display(description=_("organisation created"))
    def organisation_link(self, obj: MembershipApplication) -> str:
        if not obj.organisation_id:
            return "—"
        url = reverse("admin:members_organisation_change", args=[obj.organisation_id])
        return format_html('<a href="{}">{}</a>', url, obj.organisation)

    @admin.display(description=_("strategic areas (DAS)"))
    def das_display(self, obj: MembershipApplication) -> str:
        return ", ".join(area.name for area in obj.das_interests.all()) or "—"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", view(self.approve_view), name="members_membershipapplication_approve"),
            path("<int:pk>/decline/", view(self.decline_view), name="members_membershipapplication_decline"),
            *super().get_urls(),
        ]

    def _decidable(self, request: HttpRequest, pk: int) -> MembershipApplication:
        if not self.has_change_permission(request):
            raise PermissionDenied
        return get_object_or_404(MembershipApplication, pk=pk)

    def _context(self, request: HttpRequest, application: MembershipApplication, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "application": application,
            "duplicates": _duplicate_links(applications.application_duplicates([application]).get(application.pk, [])),
            **extra,
        }

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._decidable(request, pk)
        error = None
        if request.method == "POST":
            try:
                applications.application_approve(application=application, by=request.user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
                application.refresh_from_db()
            else:
                self.message_user(
                    request,
                    gettext("Application approved: %(name)s is a prospect, its contact is invited.")
                    % {"name": application.organisation_name},
                    messages.SUCCESS,
                )
                return redirect("admin:members_membershipapplication_change", application.pk)
        title = gettext("Approve the application of %(name)s") % {"name": application.organisation_name}
        context = self._context(request, application, title, error=error)
        return TemplateResponse(request, "admin/members/membershipapplication/approve.html", context)

    def decline_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._decidable(request, pk)
        form = DeclineForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                applications.application_decline(
                    application=application, by=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
                application.refresh_from_db()
            else:
                self.message_user(
                    request,
                    gettext("Application declined; the applicant is told by e-mail."),
                    messages.SUCCESS,
                )
                return redirect("admin:members_membershipapplication_change", application.pk)
        title = gettext("Decline the application of %(name)s") % {"name": application.organisation_name}
        context = self._context(request, application, title, form=form)
        return TemplateResponse(request, "admin/members/membershipapplication/decline.html", context)


def _names(duplicates: list) -> list[str]:
    return [m.name if isinstance(m, Organisation) else m.organisation_name for m in duplicates]
