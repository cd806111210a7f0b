from django.contrib import admin

from projects.models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["acronym", "title", "lead_organisation", "status", "created_at"]
    list_filter = ["status", "areas"]
    search_fields = ["acronym", "title", "lead_organisation__name"]
    autocomplete_fields = ["lead_organisation"]
    filter_horizontal = ["areas"]
    list_select_related = ["lead_organisation"]
