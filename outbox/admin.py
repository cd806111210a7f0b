"""Staff see every outgoing e-mail; failed and uncertain ones are listed first and can be sent again."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Case, IntegerField, Value, When
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from outbox.models import Attachment, Message
from outbox.services import messages_requeue


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("status to check")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("failed", _("Failed")), ("uncertain", _("Uncertain (may have gone out)")), ("any", _("Either"))]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(status=Message.Status.FAILED)
        if self.value() == "uncertain":
            return queryset.filter(status=Message.Status.SENDING, uncertain_at__isnull=False)
        if self.value() == "any":
            return queryset.needs_staff()
        return queryset


def _as_data(value, *, language: str = "") -> str:
    """Shown as it is sent, not as the portal's prose: marked translate="no" (and with the e-mail's
    own language), so neither a browser's translator nor the page walk's French checks touch it."""
    return format_html('<div class="outbox-data" lang="{}" translate="no">{}</div>', language, linebreaksbr(value))


_CONFIDENTIAL = _("Not shown: this e-mail holds a link that signs its recipient in (a password reset, an invitation).")


def _is_confidential(message: Message) -> bool:
    # Staff who may read the outbox must not be able to take over an account with what they read.
    return message.kind in settings.OUTBOX_CONFIDENTIAL_KINDS


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ["filename", "mime_type", "file"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("type"))
    def mime_type(self, obj: Attachment) -> str:
        return format_html('<code translate="no">{}</code>', obj.mimetype)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "recipients", "status", "uncertain", "attempts", "kind", "created_at"]
    list_filter = [NeedsAttentionFilter, "status", "kind"]
    search_fields = ["key", "subject", "to"]
    date_hierarchy = "created_at"
    actions = ["requeue"]
    inlines = [AttachmentInline]
    list_per_page = 50
    readonly_fields = [
        "key", "kind", "from_email", "to", "reply_to", "subject", "text_body", "html_body", "language", "headers_sent",
        "status",
        "attempts", "next_attempt_at", "enqueued_at", "claimed_at", "handed_at", "uncertain_at", "sent_at",
        "last_error", "message_id", "created_at", "updated_at",
    ]  # fmt: skip
    fields = readonly_fields  # the e-mail's bodies and headers once, shown as data (below)

    def get_ordering(self, request):
        # Failed and uncertain first: they are what staff come here for.
        attention = Case(
            When(status=Message.Status.FAILED, then=Value(0)),
            When(status=Message.Status.SENDING, uncertain_at__isnull=False, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return [attention.asc(), "-created_at", "-pk"]

    @admin.display(description=_("text body"))
    def text_body(self, obj: Message) -> str:
        return _CONFIDENTIAL if _is_confidential(obj) else _as_data(obj.body, language=obj.language)

    @admin.display(description=_("HTML body"))
    def html_body(self, obj: Message) -> str:
        return _CONFIDENTIAL if _is_confidential(obj) else _as_data(obj.html, language=obj.language)

    @admin.display(description=_("headers"))
    def headers_sent(self, obj: Message) -> str:
        return _as_data("\n".join(f"{name}: {value}" for name, value in (obj.headers or {}).items()))

    @admin.display(description=_("to"))
    def recipients(self, obj: Message) -> str:
        return ", ".join(obj.to)

    @admin.display(description=_("uncertain"), boolean=True)
    def uncertain(self, obj: Message) -> bool:
        return obj.is_uncertain

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Send again (failed or uncertain e-mails only)"), permissions=["view"])
    def requeue(self, request, queryset) -> None:
        count = messages_requeue(message_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - count
        self.message_user(
            request,
            ngettext("%(count)d e-mail will be sent again.", "%(count)d e-mails will be sent again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d e-mail was neither failed nor uncertain and was left as it is.",
                    "%(count)d e-mails were neither failed nor uncertain and were left as they are.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
