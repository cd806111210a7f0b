from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count

from committees.models import Item, Letter, Session
from committees.services import agenda_problems
from das.models import Mandate
from members.models import Person
from projects.admin import ImpactChangesAdmin


class ItemForm(forms.ModelForm):
    class Meta:
        model = Item
        fields = ["position", "project"]

    def clean(self):
        cleaned = super().clean()
        project, session = cleaned.get("project"), self.instance.session if self.instance.session_id else None
        if project and session and not self.instance.decision and "project" in self.changed_data:
            problems = agenda_problems(session, project)
            if problems:
                raise ValidationError(problems)
        return cleaned


class ItemInline(admin.TabularInline):
    """The agenda: proposals under review in the session's area (checked when saved)."""

    model = Item
    form = ItemForm
    extra = 0
    fields = ["position", "project", "decision", "comment", "decided_at", "decided_by"]
    readonly_fields = ["decision", "comment", "decided_at", "decided_by"]  # decided on the session's page
    autocomplete_fields = ["project"]


@admin.register(Session)
class SessionAdmin(ImpactChangesAdmin):  # the dashboard counts each session's agenda
    list_display = ["held_at", "area", "items_count"]
    list_filter = ["area"]
    date_hierarchy = "held_at"
    filter_horizontal = ["members"]
    inlines = [ItemInline]
    readonly_fields = ["created_by", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("area").annotate(item_count=Count("items"))

    @admin.display(description=Item._meta.verbose_name_plural, ordering="item_count")
    def items_count(self, session: Session) -> int:
        return session.item_count

    def save_model(self, request, obj, form, change):
        obj.created_by = obj.created_by or request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        session = form.instance
        if not change and not session.members.exists():
            # A new session starts with the area's board as it stands on the day.
            day = session.held_at.date()
            session.members.set(
                Person.objects.filter(pk__in=Mandate.objects.as_of(day).filter(area=session.area).values("person_id"))
            )


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ["reference", "project", "language", "issued_at"]
    search_fields = ["reference", "project__acronym", "project__title"]
    readonly_fields = ["reference", "project", "item", "language", "issued_at"]

    def has_add_permission(self, request) -> bool:
        return False  # letters are issued by a committee's decision
