from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from calls.models import Call


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
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(proposal_count=Count("projects", filter=~Q(projects__status="draft")))
        )

    @admin.display(description=_("proposals"), ordering="proposal_count")
    def proposals(self, call: Call) -> int:
        return call.proposal_count
