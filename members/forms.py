from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from members.departements import departement_label
from members.models import MembershipApplication, Organisation, strategic_areas
from members.selectors import directory_areas, probable_duplicates


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form, with a message that reads right for an e-mail login in French too."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Please enter a correct e-mail address and password. The password is case-sensitive."),
    }


PAGE_SIZES = (12, 24, 48, 96)


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    das = forms.ChoiceField(label=_("Strategic area"), required=False)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories")), *Organisation.Category.choices]
    )
    departement = forms.CharField(label=_("Département"), required=False, max_length=3)
    per_page = forms.TypedChoiceField(
        label=_("Per page"), required=False, coerce=int, choices=[(n, n) for n in PAGE_SIZES], empty_value=24
    )

    def __init__(self, *args, facts: dict, **kwargs) -> None:
        """`facts`: the directory's areas and départements (members.selectors.directory_facts, cached)."""
        super().__init__(*args, **kwargs)
        self.fields["das"].choices = [("", _("All areas"))] + [
            (code, name) for _pk, code, name in directory_areas(facts)
        ]
        # The départements where listed members are, and the one asked for even if nobody is
        # there any more, so the select shows what is filtered.
        codes = list(facts["departements"])
        asked = str(self.data.get("departement", "")).strip().upper()[:3]
        if asked and asked not in codes and (asked.isdigit() or asked in {"2A", "2B"}):
            codes.append(asked)
        choices = [("", _("All départements")), *((code, departement_label(code)) for code in sorted(codes))]
        self.fields["departement"].widget = forms.Select(choices=choices)
        self.fields["departement"].choices = choices  # read by the template

    def clean_departement(self) -> str:
        value = self.cleaned_data["departement"].strip().upper()
        if value and not (value.isdigit() or value in {"2A", "2B"}):
            raise forms.ValidationError(_("A département is two digits, e.g. 75."))
        return value

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data["q"],
            "das": data["das"],
            "category": data["category"],
            "departement": data["departement"],
        }

    def options(self) -> dict[str, str]:
        """The <option> elements of each select, built here: a template loop over the hundred
        départements cost more than the rest of the form."""
        result = {}
        for name in ("das", "category", "departement", "per_page"):
            current = str(self.page_size()) if name == "per_page" else str(self[name].value() or "")
            choices = self.fields[name].choices
            result[name] = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((value, " selected" if str(value) == current else "", label) for value, label in choices),
            )
        return result

    def page_size(self) -> int:
        return (self.is_valid() and self.cleaned_data.get("per_page")) or 24

    def page_number(self) -> int:
        """The page asked for; anything but a number is page 1 (Paginator.get_page shows the last page past the end)."""
        value = str(self.data.get("page", ""))
        return int(value) if value.isdigit() and len(value) <= 6 else 1

    def query_string(self) -> str:
        """The filters and page size in use, for the pagination links."""
        params = {name: value for name, value in self.filters().items() if value}
        if self.page_size() != 24:
            params["per_page"] = self.page_size()
        return urlencode(params)


class OrganisationProfileForm(forms.ModelForm):
    """What a member contact may change: the public profile. Name, SIREN and category are staff-only."""

    das_interests = forms.ModelMultipleChoiceField(
        label=_("Strategic areas (DAS)"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = ["description", "website", "das_interests", "logo", "directory_opt_in"]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"logo": _("PNG, JPEG or WebP, at most 512 KB.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["das_interests"].queryset = strategic_areas()


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (semicolons; UTF-8 or Windows-1252) or XLSX, at most 10 MB: organisations, or their contacts or "
            "membership years (recognised by their columns; see the documentation)."
        ),
    )
    dry_run = forms.BooleanField(label=_("Check only, write nothing"), required=False, initial=True)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.MEMBERS_IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("The file is too large (at most 10 MB)."))
        return upload


class ExportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("File"),
        choices=[
            ("organisations", _("Organisations")),
            ("contacts", _("Contacts (keyed by SIREN)")),
            ("years", _("Membership years (keyed by SIREN)")),
        ],
        initial="organisations",
        required=False,
    )
    file_format = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV (;)"), ("xlsx", "XLSX")])

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or "organisations"


class OrganisationAdminForm(forms.ModelForm):
    """The staff form; on creation it warns of probable duplicates until staff confirm."""

    confirm_not_duplicate = forms.BooleanField(label=_("I have checked: this is not a duplicate"), required=False)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = [
            "name",
            "slug",
            "category",
            "siren",
            "headcount",
            "status",
            "member_since",
            "address",
            "postcode",
            "city",
            "description",
            "website",
            "das_interests",
            "logo",
            "directory_opt_in",
        ]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not data.get("confirm_not_duplicate") and data.get("name"):
            duplicates = probable_duplicates(name=data["name"], siren=data.get("siren") or "")
            if duplicates:
                raise forms.ValidationError(
                    _("Probable duplicate of: %(others)s. Check, then tick the confirmation box to create it anyway.")
                    % {"others": "; ".join(f"{o.name} (SIREN {o.siren or '—'})" for o in duplicates)},
                    code="duplicate",
                )
        return data


class JoinForm(forms.ModelForm):
    """The public application to join. `nickname` is a honeypot: hidden from people, filled in by bots."""

    das_interests = forms.ModelMultipleChoiceField(
        label=_("Strategic areas (DAS) of interest"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that Medicen Paris Region processes these details to study this application and, if it is "
            "approved, to manage the membership."
        ),
        error_messages={"required": _("Your agreement is needed to send the application.")},
    )
    siren = forms.CharField(label=_("SIREN"), max_length=20)
    nickname = forms.CharField(label=_("Leave this field empty"), required=False)

    class Meta:
        model = MembershipApplication
        fields = [
            "organisation_name",
            "siren",
            "category",
            "headcount",
            "das_interests",
            "first_name",
            "last_name",
            "position",
            "email",
            "phone",
        ]
        labels = {"position": _("Role or title"), "phone": _("Phone (optional)")}
        help_texts = {
            "siren": _("9 digits, on the Kbis extract or at annuaire-entreprises.data.gouv.fr."),
            "email": _("The acknowledgement, and the link to your account once approved, are sent here."),
        }
        widgets = {
            "headcount": forms.NumberInput(attrs={"min": 0}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        }

    ORGANISATION_FIELDS = ("organisation_name", "siren", "category", "headcount", "das_interests")
    CONTACT_FIELDS = ("first_name", "last_name", "position", "email", "phone")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["das_interests"].queryset = strategic_areas()
        self.fields["category"].choices = [("", "—"), *Organisation.Category.choices]
        self.fields["siren"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
        self.fields["siren"].help_text = self._meta.help_texts["siren"]
        self.fields["nickname"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_siren(self) -> str:
        # People copy it as printed on a Kbis, "123 456 789"; the model's validator checks the digits.
        return "".join(str(self.cleaned_data.get("siren") or "").split())

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()  # logins are e-mail addresses, compared in lower case

    def is_spam(self) -> bool:
        return bool(self.data.get("nickname"))

    def organisation_fields(self):
        return [self[name] for name in self.ORGANISATION_FIELDS]

    def contact_fields(self):
        return [self[name] for name in self.CONTACT_FIELDS]
