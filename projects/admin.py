from django.contrib import admin

from projects.models import (
    Attachment,
    FundingDecision,
    Notification,
    Partner,
    Product,
    Project,
    ProjectEvent,
    Review,
)
from projects.selectors import impact_changed


class PartnerInline(admin.TabularInline):
    model = Partner
    extra = 0
    autocomplete_fields = ["organisation"]
    fields = ["organisation", "name", "category", "role", "budget_share", "contact_name", "contact_email"]


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["original_name", "kind", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # uploads go through the portal's checked form


class EventInline(admin.TabularInline):
    model = ProjectEvent
    extra = 0
    fields = ["at", "from_status", "to_status", "by", "comment"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # statuses change through the transition service only


class ReviewInline(admin.TabularInline):
    model = Review
    extra = 0
    fields = ["reviewer", "state", *Review.CRITERIA, "recommendation", "comments_shared"]
    readonly_fields = ["reviewer", "state", *Review.CRITERIA, "recommendation"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # assigned from the staff page, which applies the conflict-of-interest rules


class FundingInline(admin.TabularInline):
    model = FundingDecision
    extra = 0


class ProductInline(admin.TabularInline):
    model = Product
    extra = 0


class ImpactChangesAdmin(admin.ModelAdmin):
    """Edits here can change the impact dashboard: drop its cached figures."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        impact_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        impact_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        impact_changed()


@admin.register(Project)
class ProjectAdmin(ImpactChangesAdmin):
    list_display = ["acronym", "title", "lead_organisation", "primary_area", "status", "updated_at"]
    list_filter = ["status", "kind", "primary_area", "target_scope"]
    search_fields = ["acronym", "title", "lead_organisation__name"]
    autocomplete_fields = ["lead_organisation"]
    filter_horizontal = ["areas"]
    list_select_related = ["lead_organisation", "primary_area"]
    readonly_fields = ["status", "proposer", "submitted_at", "created_at", "updated_at"]
    inlines = [PartnerInline, AttachmentInline, ReviewInline, FundingInline, ProductInline, EventInline]


@admin.register(ProjectEvent)
class ProjectEventAdmin(admin.ModelAdmin):
    list_display = ["project", "from_status", "to_status", "by", "at"]
    list_filter = ["to_status"]
    list_select_related = ["project", "by"]
    readonly_fields = ["project", "from_status", "to_status", "by", "at", "comment"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["event", "review", "audience", "state", "attempts", "sent_at"]
    list_filter = ["state", "audience"]
    readonly_fields = ["event", "review", "audience", "state", "attempts", "last_attempt_at", "last_error", "sent_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["project", "reviewer", "state", "recommendation", "submitted_at"]
    list_filter = ["state", "recommendation"]
    list_select_related = ["project", "reviewer"]
    readonly_fields = ["project", "reviewer", "assigned_by"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(FundingDecision)
class FundingDecisionAdmin(ImpactChangesAdmin):
    list_display = ["project", "funder", "scope", "amount_granted", "public_aid", "decision_date"]
    list_filter = ["scope", "funder"]
    list_select_related = ["project"]
    autocomplete_fields = ["project"]


@admin.register(Product)
class ProductAdmin(ImpactChangesAdmin):
    list_display = ["name", "project", "launched_on"]
    list_select_related = ["project"]
    autocomplete_fields = ["project"]
