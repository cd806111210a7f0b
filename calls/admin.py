from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from calls.models import Call, Unsubscription
from outbox.models import Message


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["title_fr", "funder", "programme", "opens_on", "internal_deadline", "is_published", "proposals"]
    list_filter = ["is_published", "funder", "areas"]
    search_fields = ["title_fr", "title_en", "programme"]
    filter_horizontal = ["areas"]
    date_hierarchy = "internal_deadline"
    fieldsets = [
        (
            None,
            {"fields": ["funder", "programme", "title_fr", "title_en", "description_fr", "description_en", "areas"]},
        ),
        (_("Dates"), {"fields": ["opens_on", "internal_deadline", "funder_deadline"]}),
        (
            _("Rules of the call"),
            {
                "fields": [
                    "kinds",
                    "max_aid_rate",
                    "min_companies",
                    "min_research_clinical",
                    "max_partner_share",
                    "lead_must_be_company",
                ]
            },
        ),
        (_("For applicants"), {"fields": ["documents_required", "url", "is_published"]}),
        (_("Deadline reminders"), {"fields": ["reminders_sent"]}),
    ]
    readonly_fields = ["reminders_sent"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(proposal_count=Count("projects", filter=~Q(projects__status="draft")))
        )

    @admin.display(description=_("proposals"), ordering="proposal_count")
    def proposals(self, call: Call) -> int:
        return call.proposal_count

    @admin.display(description=_("reminders"))
    def reminders_sent(self, call: Call) -> str:
        """What went out for this call, per offset: the outbox rows of its reminders."""
        if not call.pk:
            return "—"
        rows = Message.objects.filter(key__startswith=f"call-reminder:{call.pk}:").values_list("key", "status")
        counts: dict[str, dict[str, int]] = {}
        for key, status in rows:
            days = key.split(":")[2]
            counts.setdefault(days, {}).setdefault(status, 0)
            counts[days][status] += 1
        if not counts:
            return str(_("None sent yet."))
        return "; ".join(
            _("%(days)s days before: %(states)s")
            % {
                "days": days,
                "states": ", ".join(f"{Message.Status(state).label} {count}" for state, count in sorted(by.items())),
            }
            for days, by in sorted(counts.items(), key=lambda item: -int(item[0]))
        )


@admin.register(Unsubscription)
class UnsubscriptionAdmin(admin.ModelAdmin):
    list_display = ["person", "created_at"]
    search_fields = ["person__last_name", "person__email"]
    autocomplete_fields = ["person"]
