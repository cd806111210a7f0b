from django.contrib import admin
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from meetings.models import Delivery, Invitation, Meeting, Topic
from outbox.models import Message


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    """Read-mostly: meetings are scheduled, changed and cancelled on /meetings/ (so e-mails follow)."""

    list_display = ["title", "committee", "area", "starts_at", "status", "sequence"]
    list_filter = ["status", "committee", "area"]
    search_fields = ["title"]
    date_hierarchy = "starts_at"
    readonly_fields = [
        "uid",
        "sequence",
        "status",
        "starts_at",
        "ends_at",
        "reminder_offsets",
        "created_at",
        "updated_at",
    ]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["meeting", "person", "source", "response", "responded_at", "attended", "withdrawn_at"]
    list_filter = ["response", "source", ("withdrawn_at", admin.EmptyFieldListFilter), "meeting"]
    search_fields = ["person__last_name", "person__first_name", "meeting__title"]
    list_select_related = ["meeting", "person"]
    raw_id_fields = ["meeting", "person"]
    # Withdrawal goes through the meeting page (it skips e-mails and tells the person).
    readonly_fields = ["email", "response", "responded_at", "withdrawn_at"]


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("uncertain", _("Uncertain (may have gone out)")), ("failed", _("Failed"))]

    def queryset(self, request, queryset):
        if self.value() == "uncertain":
            return queryset.filter(message__status=Message.Status.SENDING, message__uncertain_at__isnull=False)
        if self.value() == "failed":
            return queryset.filter(message__status=Message.Status.FAILED)
        return queryset


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Delivery.Status.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Every e-mail of every meeting: its purpose, moment, skip reason and its outgoing e-mail.

    Sending (and sending again) is the outbox's: each row links to its message, whose page
    shows the attempts and errors and offers "Send again" for failed and uncertain ones.
    """

    list_display = ["meeting", "kind", "offset_minutes", "email", "due_at", "status_shown", "reason_shown", "sent"]
    list_filter = [NeedsAttentionFilter, StatusFilter, "kind", "skip_reason", "meeting"]
    search_fields = ["email", "meeting__title"]
    list_select_related = ["meeting", "message"]
    date_hierarchy = "due_at"

    def get_queryset(self, request):
        return super().get_queryset(request).with_status()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("status"), ordering="status")
    def status_shown(self, obj: Delivery) -> str:
        return Delivery.Status(obj.status).label if obj.status in Delivery.Status.values else obj.status

    @admin.display(description=_("reason"), ordering="skip_reason")
    def reason_shown(self, obj: Delivery) -> str:
        return obj.reason_text

    @admin.display(description=_("outgoing e-mail"))
    def sent(self, obj: Delivery) -> str:
        if obj.message is None:
            return "—"
        url = reverse("admin:outbox_message_change", args=[obj.message_id])
        label = formats.localize(timezone.localtime(obj.message.sent_at)) if obj.message.sent_at else _("open")
        return format_html('<a href="{}">{}</a>', url, label)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "proposed_by", "selected_at", "created_at"]
    list_filter = ["status", "areas"]
    search_fields = ["title"]
    raw_id_fields = ["proposed_by", "selected_at"]
