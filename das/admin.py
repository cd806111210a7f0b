import datetime

from django import forms
from django.contrib import admin
from django.utils.translation import gettext

from das.models import Mandate, SeedRecord, StrategicArea
from members.selectors import directory_changed


class MandateFormSet(forms.BaseInlineFormSet):
    """Two presidencies entered together on one area's page must not overlap either.

    Each row's Mandate.clean() compares it with the rows already saved; this compares the
    rows of the form with each other, so the page says why instead of PostgreSQL refusing
    the save (the exclusion constraint of migration 0005).
    """

    def clean(self) -> None:
        super().clean()
        spans = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if (
                not data
                or data.get("DELETE")
                or data.get("role") != Mandate.Role.PRESIDENT
                or not data.get("start_date")
            ):
                continue
            start, end = data["start_date"], data.get("end_date") or datetime.date.max
            if any(start < other_end and other_start < end for other_start, other_end in spans):
                raise forms.ValidationError(gettext("This strategic area already has a president over this period."))
            spans.append((start, end))


class MandateInline(admin.TabularInline):
    model = Mandate
    formset = MandateFormSet
    extra = 0
    autocomplete_fields = ["person", "organisation"]
    fields = ["person", "role", "feminine_title", "start_date", "end_date", "position_fr", "affiliation"]
    fields += ["organisation"]


@admin.register(StrategicArea)
class StrategicAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fr", "name_en", "position"]
    search_fields = ["code", "name_fr", "name_en"]
    inlines = [MandateInline]

    # The member directory names the areas and filters by them (members.selectors.directory_facts).
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        directory_changed()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        directory_changed()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        directory_changed()


@admin.register(Mandate)
class MandateAdmin(admin.ModelAdmin):
    list_display = ["person", "area", "role", "start_date", "end_date", "affiliation", "organisation"]
    list_filter = ["area", "role", "start_date", ("organisation", admin.EmptyFieldListFilter)]
    search_fields = ["person__last_name", "person__first_name", "affiliation", "area__name_fr", "area__name_en"]
    autocomplete_fields = ["person", "area", "organisation"]
    list_select_related = ["person", "area", "organisation"]


@admin.register(SeedRecord)
class SeedRecordAdmin(admin.ModelAdmin):
    """What seed_medicen loaded: deleting a row here lets the next run load that entry again."""

    list_display = ["key", "object_id", "loaded_at"]
    search_fields = ["key"]
    readonly_fields = ["key", "object_id", "values", "loaded_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
