from __future__ import annotations

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from calls.models import Call
from das.models import StrategicArea
from members.models import Organisation
from projects.models import FUNDER_SCOPE, FundingDecision, Partner, Product, Project, Review
from projects.uploads import MAX_UPLOAD_BYTES

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProjectForm(forms.ModelForm):
    """The proposal, in sections. Only the title is needed to save a draft."""

    other_areas = forms.ModelMultipleChoiceField(
        label=_("other strategic areas"),
        queryset=StrategicArea.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Combined therapeutic solutions span several areas."),
    )

    class Meta:
        model = Project
        fields = [
            "title",
            "acronym",
            "summary",
            "objectives",
            "primary_area",
            "kind",
            "trl_start",
            "trl_target",
            "duration_months",
            "total_budget",
            "requested_aid",
            "target_funder",
            "target_programme",
            "target_scope",
            "funder_deadline",
            "call",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 4}),
            "objectives": forms.Textarea(attrs={"rows": 4}),
            "funder_deadline": DATE_INPUT,
            "kind": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "other_areas" not in self.initial:
            self.initial["other_areas"] = [
                area.pk for area in self.instance.areas.all() if area.pk != self.instance.primary_area_id
            ]
        # Calls still taking proposals, and the one the proposal already answers even if closed.
        calls = Call.objects.accepting()
        if self.instance.call_id:
            calls = calls | Call.objects.filter(pk=self.instance.call_id)
        self.fields["call"].queryset = calls.distinct()
        self.fields["call"].empty_label = _("— no particular call —")
        self.fields["call"].label_from_instance = lambda call: (
            _("%(title)s (internal deadline %(deadline)s)")
            % {
                "title": call.title,
                "deadline": date_format(timezone.localtime(call.internal_deadline), "DATETIME_FORMAT"),
            }
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(_("1. The project"), "title", "acronym", "summary", "objectives"),
            Fieldset(_("2. Strategic areas"), "primary_area", "other_areas"),
            Fieldset(
                _("3. Scheme and maturity"),
                "kind",
                Div(
                    Div("trl_start", css_class="col-md-4"),
                    Div("trl_target", css_class="col-md-4"),
                    Div("duration_months", css_class="col-md-4"),
                    css_class="row",
                ),
            ),
            Fieldset(
                _("4. Budget and targeted funding"),
                "call",
                Div(
                    Div("total_budget", css_class="col-md-6"),
                    Div("requested_aid", css_class="col-md-6"),
                    css_class="row",
                ),
                Div(
                    Div("target_funder", css_class="col-md-4"),
                    Div("target_programme", css_class="col-md-4"),
                    Div("target_scope", css_class="col-md-4"),
                    css_class="row",
                ),
                "funder_deadline",
            ),
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        call = cleaned.get("call")
        if call is not None:
            # A proposal for a call targets the call's funder and programme.
            cleaned["target_funder"] = cleaned.get("target_funder") or call.funder
            cleaned["target_programme"] = cleaned.get("target_programme") or call.programme
            cleaned["funder_deadline"] = cleaned.get("funder_deadline") or timezone.localdate(call.funder_deadline)
        funder, scope = cleaned.get("target_funder"), cleaned.get("target_scope")
        if funder in FUNDER_SCOPE and not scope:
            cleaned["target_scope"] = FUNDER_SCOPE[funder]
        return cleaned

    def draft_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class OrganisationPicker(forms.Widget):
    """A type-ahead search (static/projects/organisation_picker.js queries `projects:organisation_search`)
    in place of a <select> of every organisation: the page holds the chosen organisation only, so
    its size and time do not grow with the number of organisations."""

    template_name = "projects/widgets/organisation_picker.html"

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_search" if id_ else id_

    def render(self, name: str, value, attrs=None, renderer=None) -> str:
        # The portal's template engine (templates/), not the form renderer's own, finds the template.
        # (a rendered template is already safe: it escaped every value itself)
        return render_to_string(self.template_name, self.get_context(name, value, attrs))

    def get_context(self, name: str, value, attrs) -> dict:
        context = super().get_context(name, value, attrs)
        organisation = None
        if str(value).isdigit():  # a re-shown form may carry anything the browser sent
            organisation = Organisation.objects.filter(pk=value).only("name", "city", "siren").first()
        context["widget"]["search_url"] = reverse("projects:organisation_search")
        context["widget"]["label"] = organisation_label(organisation) if organisation else ""
        return context


def organisation_label(organisation: Organisation) -> str:
    """ "Cardio Imaging SAS — Lyon — SIREN 123456782": homonyms are told apart by city and SIREN."""
    parts = [organisation.name, organisation.city]
    if organisation.siren:
        parts.append(f"SIREN {organisation.siren}")
    return " — ".join(part for part in parts if part)


class PartnerForm(forms.ModelForm):
    class Meta:
        model = Partner
        fields = ["organisation", "name", "category", "role", "budget_share", "contact_name", "contact_email"]
        widgets = {"organisation": OrganisationPicker}

    def __init__(self, *args, organisations: QuerySet[Organisation] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Which organisations may be chosen (permissions.partner_organisations); never rendered as options.
        self.fields["organisation"].queryset = (
            organisations if organisations is not None else Organisation.objects.none()
        )
        self.fields["organisation"].help_text = _(
            "Leave empty for an organisation that is not a member: type its name."
        )
        self.fields["category"].choices = [("", "—"), *Organisation.Category.choices]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Div(
                Div("organisation", css_class="col-md-5"),
                Div("name", css_class="col-md-4"),
                Div("category", css_class="col-md-3"),
                css_class="row",
            ),
            Div(
                Div("role", css_class="col-md-2"),
                Div("budget_share", css_class="col-md-2"),
                Div("contact_name", css_class="col-md-3"),
                Div("contact_email", css_class="col-md-3"),
                Div("DELETE", css_class="col-md-2 pt-md-4"),
                css_class="row",
            ),
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("organisation"):
            cleaned["name"], cleaned["category"] = "", ""
        return cleaned


class BasePartnerFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: dict[str, str] = {}
        for form in self.forms:
            if not form.has_changed() or self._should_delete_form(form):
                continue
            organisation = form.cleaned_data.get("organisation")
            key = f"org:{organisation.pk}" if organisation else f"name:{form.cleaned_data.get('name', '').casefold()}"
            label = organisation.name if organisation else form.cleaned_data.get("name", "")
            if key in seen:
                raise forms.ValidationError(_("%(name)s appears twice in the consortium.") % {"name": label})
            seen[key] = label

    def partner_rows(self) -> list[dict]:
        return [
            form.cleaned_data
            for form in self.forms
            if form.has_changed() and form.cleaned_data and not self._should_delete_form(form)
        ]


PartnerFormSet = forms.formset_factory(PartnerForm, formset=BasePartnerFormSet, extra=2, can_delete=True, max_num=30)


def partner_initial(project: Project) -> list[dict]:
    return [
        {
            "organisation": partner.organisation_id,
            "name": partner.name,
            "category": partner.category,
            "role": partner.role,
            "budget_share": partner.budget_share,
            "contact_name": partner.contact_name,
            "contact_email": partner.contact_email,
        }
        for partner in project.partners.all()
    ]


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("document"),
        help_text=_("PDF, Word (DOCX), Excel (XLSX) or PowerPoint (PPTX), at most %(limit)s.")
        % {"limit": filesizeformat(MAX_UPLOAD_BYTES)},
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.xlsx,.pptx"}),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the upload rules when it is attached."""

    def clean(self, data, initial=None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class ProposalAttachmentsForm(forms.Form):
    """Documents chosen in the proposal form itself, attached when the proposal is saved: what was
    typed is never thrown away to attach a file."""

    files = MultipleFileField(
        label=_("documents to attach"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ".pdf,.docx,.xlsx,.pptx"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Formatted per request, in the reader's language (a lazy string formatted at import is not).
        self.fields["files"].help_text = _(
            "PDF, Word (DOCX), Excel (XLSX) or PowerPoint (PPTX), at most %(limit)s each; "
            "they are attached when you save the proposal."
        ) % {"limit": filesizeformat(MAX_UPLOAD_BYTES)}


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Project.Status.choices, widget=forms.HiddenInput)
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewForm(forms.ModelForm):
    class Meta:
        model = Review
        fields = [*Review.CRITERIA, "recommendation", "comments"]
        widgets = {"comments": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in Review.CRITERIA:
            self.fields[name] = forms.TypedChoiceField(
                label=self.fields[name].label,
                choices=[(n, str(n)) for n in range(6)],
                coerce=int,
                widget=forms.RadioSelect,
            )
        self.fields["recommendation"].required = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*[InlineRadios(name) for name in Review.CRITERIA], "recommendation", "comments")


class ConflictForm(forms.Form):
    reason = forms.CharField(
        label=_("Your conflict of interest"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: you advise one of the partners, or compete with them."),
    )


class FundingDecisionForm(forms.ModelForm):
    total_investment = forms.DecimalField(
        label=_("Total investment of the project (€)"), required=False, max_digits=14, decimal_places=2, min_value=0
    )

    class Meta:
        model = FundingDecision
        fields = [
            "funder",
            "programme",
            "scope",
            "amount_requested",
            "amount_granted",
            "public_aid",
            "decision_date",
        ]
        widgets = {"decision_date": DATE_INPUT}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["name", "launched_on", "description"]
        widgets = {"launched_on": DATE_INPUT, "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
