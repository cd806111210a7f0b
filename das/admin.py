from django.contrib import admin

from das.models import Mandate, StrategicArea


class MandateInline(admin.TabularInline):
    model = Mandate
    extra = 0
    autocomplete_fields = ["person"]


@admin.register(StrategicArea)
class StrategicAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fr", "name_en", "position"]
    search_fields = ["code", "name_fr", "name_en"]
    inlines = [MandateInline]


@admin.register(Mandate)
class MandateAdmin(admin.ModelAdmin):
    list_display = ["person", "area", "role", "start_date", "end_date"]
    list_filter = ["area", "role", "start_date"]
    search_fields = ["person__last_name", "person__first_name", "person__affiliation", "area__name_fr", "area__name_en"]
    autocomplete_fields = ["person", "area"]
    list_select_related = ["person", "area"]
