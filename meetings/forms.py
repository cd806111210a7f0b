"""Forms of the meetings pages. Dates are entered on the Paris clock."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from das.models import StrategicArea
from meetings.models import Invitation, Meeting, Topic, validate_reminder_offsets
from meetings.schedule import describe_offset, parse_offsets
from meetings.services import invitation_address
from members.models import Person

DATETIME_INPUT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs) -> None:
        super().__init__(format=DATETIME_INPUT, **kwargs)


class MeetingForm(forms.ModelForm):
    video_url = forms.URLField(label=_("Video link"), required=False, assume_scheme="https")
    reminders = forms.CharField(
        label=_("Reminders"),
        initial="7d, 1d",
        help_text=_("Before the start, separated by commas: 7d = 7 days, 2h = 2 hours, 30m = 30 minutes."),
    )

    class Meta:
        model = Meeting
        fields = ["title", "committee", "area", "starts_at", "ends_at", "place", "video_url", "agenda"]
        widgets = {
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
            "agenda": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {"starts_at": _("Paris time."), "ends_at": _("Paris time.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at"):
            self.fields[name].input_formats = [DATETIME_INPUT, "%Y-%m-%d %H:%M"]
        if self.instance.pk:
            self.fields["reminders"].initial = ", ".join(describe_offset(o) for o in self.instance.reminder_offsets)
            # The committee is fixed once invitations have gone out.
            del self.fields["committee"]
            del self.fields["area"]

    def clean_reminders(self) -> list[int]:
        try:
            offsets = parse_offsets(self.cleaned_data["reminders"])
        except ValueError as exc:
            message = _("“%(value)s” is not a reminder like 7d, 2h or 30m.")
            raise forms.ValidationError(message, params={"value": exc}) from None
        validate_reminder_offsets(offsets)
        return offsets


class InviteForm(forms.Form):
    """Find one person of the directory by directory address, login address or name."""

    MAX_LISTED = 5

    # Named "email" for the forms and scripts that post an address; it takes a name too.
    email = forms.CharField(label=_("E-mail address or name of a person in the directory"), max_length=254)

    def clean_email(self):
        query = " ".join(self.cleaned_data["email"].split())
        people = Person.objects.filter(anonymised_at__isnull=True).select_related("user", "organisation")
        if "@" in query:
            person = people.filter(Q(email__iexact=query) | Q(user__email__iexact=query)).order_by("pk").first()
            if person is None:
                raise forms.ValidationError(_("Nobody in the directory has this address."))
        else:
            condition = Q()
            for word in query.split():
                condition &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
            matches = list(people.filter(condition).order_by("last_name", "first_name", "pk")[: self.MAX_LISTED + 1])
            if not matches:
                raise forms.ValidationError(
                    _("Nobody in the directory is called “%(name)s”."), params={"name": query}, code="unknown"
                )
            if len(matches) > 1:
                names = ", ".join(_describe(p) for p in matches[: self.MAX_LISTED])
                if len(matches) > self.MAX_LISTED:
                    names += ", …"
                raise forms.ValidationError(
                    _("Several people match “%(name)s” (%(names)s): type their e-mail address."),
                    params={"name": query, "names": names},
                    code="ambiguous",
                )
            person = matches[0]
        if not invitation_address(person):
            raise forms.ValidationError(
                _("%(name)s has no e-mail address and cannot be invited."), params={"name": person.full_name}
            )
        return person


def _describe(person) -> str:
    affiliation = getattr(person, "display_affiliation", "") or ""
    return f"{person.full_name} ({affiliation})" if affiliation else person.full_name


class AgendaForm(forms.Form):
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=Topic.objects.none(), widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args, meeting: Meeting, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = Topic.objects.filter(status=Topic.Status.PROPOSED).exclude(
            agenda_items__meeting=meeting
        )


class OutcomeForm(forms.Form):
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 8}))
    attended = forms.ModelMultipleChoiceField(
        label=_("Attended"), queryset=Invitation.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    selected = forms.ModelMultipleChoiceField(
        label=_("Topics selected by the committee"),
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, meeting: Meeting, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attended"].queryset = meeting.invitations.active().select_related("person")
        self.fields["attended"].label_from_instance = lambda invitation: invitation.person.full_name
        self.fields["selected"].queryset = Topic.objects.filter(agenda_items__meeting=meeting)


class TopicForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    areas = forms.ModelMultipleChoiceField(
        label=_("Strategic areas"), queryset=StrategicArea.objects.all(), widget=forms.CheckboxSelectMultiple
    )


class RsvpForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Your answer"),
        choices=[c for c in Invitation.Response.choices if c[0]],
        widget=forms.RadioSelect,
    )
