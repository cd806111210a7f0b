"""Import and export of organisations (django-import-export), in the formats a French office suite writes.

Columns are documented in docs/members.md. Cells are neutralised on export against
spreadsheet formula injection and un-neutralised on import, so export → import is an identity.
"""

from __future__ import annotations

import datetime

from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from common.spreadsheet import neutralise, unneutralise
from members.models import Organisation, organisation_name_key
from members.selectors import probable_duplicates

TRUE_WORDS = {"oui", "o", "yes", "y", "true", "vrai", "1", "x"}
FALSE_WORDS = {"non", "n", "no", "false", "faux", "0", ""}
DAS_SEPARATOR = "|"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet turns 552100554 into 552100554.0
    return str(unneutralise(str(value))).strip()


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return _text(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class SirenWidget(TextWidget):
    def clean(self, value, row=None, **kwargs):
        # Spreadsheets show "552 100 554" or drop nothing; keep the digits.
        return _text(value).replace(" ", "").replace("\u00a0", "").replace("\u202f", "")


class PostcodeWidget(TextWidget):
    def clean(self, value, row=None, **kwargs):
        text = _text(value).replace(" ", "")
        # A spreadsheet drops the leading zero of 01000: put it back.
        return text.zfill(5) if text.isdigit() and len(text) == 4 else text


class ChoiceWidget(TextWidget):
    """Accepts a choice's code or its label (French or English); exports the code."""

    def __init__(self, choices, **kwargs):
        self.choices = choices
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            return text
        wanted = text.casefold()
        for code, label in self.choices.choices:
            if wanted in {code.casefold(), str(label).casefold()}:
                return code
        return text  # the model's validation names the column and the valid choices


class FrenchDateWidget(widgets.Widget):
    """Dates as dd/mm/yyyy (also yyyy-mm-dd, and real dates from XLSX)."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = _text(value)
        for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y"):
            try:
                return datetime.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        raise ValueError(_("“%(value)s” is not a date: write it as dd/mm/yyyy.") % {"value": text})

    def render(self, value, obj=None, **kwargs):
        return value.strftime("%d/%m/%Y") if value else ""


class FrenchIntegerWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if isinstance(value, int | float) and float(value).is_integer():
            return int(value)
        text = _text(value).replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
        if not text:
            return None
        if not text.isdigit():
            raise ValueError(_("“%(value)s” is not a whole number.") % {"value": text})
        return int(text)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class FrenchBooleanWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = _text(value).casefold()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValueError(_("“%(value)s” is not oui or non.") % {"value": text})

    def render(self, value, obj=None, **kwargs):
        return "oui" if value else "non"


class DasWidget(widgets.ManyToManyWidget):
    """DAS codes separated by "|" (e.g. "imagerie|sante-numerique"); an unknown code is an error."""

    def __init__(self, **kwargs):
        super().__init__(apps.get_model("das", "StrategicArea"), separator=DAS_SEPARATOR, field="code", **kwargs)

    def codes(self, value) -> list[str]:
        return [code.strip() for code in _text(value).split(self.separator) if code.strip()]

    def clean(self, value, row=None, **kwargs):
        codes = self.codes(value)
        if not codes:
            return self.model.objects.none()
        return self.model.objects.filter(code__in=codes).order_by("code")

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return self.separator.join(sorted(area.code for area in value.all()))


class OrganisationResource(resources.ModelResource):
    siren = fields.Field(attribute="siren", column_name="siren", widget=SirenWidget())
    name = fields.Field(attribute="name", column_name="nom", widget=TextWidget())
    category = fields.Field(attribute="category", column_name="categorie", widget=ChoiceWidget(Organisation.Category))
    status = fields.Field(attribute="status", column_name="statut", widget=ChoiceWidget(Organisation.Status))
    member_since = fields.Field(attribute="member_since", column_name="adherent_depuis", widget=FrenchDateWidget())
    headcount = fields.Field(attribute="headcount", column_name="effectif", widget=FrenchIntegerWidget())
    address = fields.Field(attribute="address", column_name="adresse", widget=TextWidget())
    postcode = fields.Field(attribute="postcode", column_name="code_postal", widget=PostcodeWidget())
    city = fields.Field(attribute="city", column_name="ville", widget=TextWidget())
    website = fields.Field(attribute="website", column_name="site_web", widget=TextWidget())
    das_interests = fields.Field(attribute="das_interests", column_name="das", widget=DasWidget())
    directory_opt_in = fields.Field(attribute="directory_opt_in", column_name="annuaire", widget=FrenchBooleanWidget())
    description = fields.Field(attribute="description", column_name="description", widget=TextWidget())

    REQUIRED_COLUMNS = ("nom", "categorie")

    class Meta:
        model = Organisation
        fields = (
            "siren",
            "name",
            "category",
            "status",
            "member_since",
            "headcount",
            "address",
            "postcode",
            "city",
            "website",
            "das_interests",
            "directory_opt_in",
            "description",
        )
        export_order = fields
        import_id_fields = ("siren",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        skip_html_diff = True
        use_transactions = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.duplicate_warnings: list[tuple[int, str, list[Organisation]]] = []

    @classmethod
    def column_names(cls) -> list[str]:
        return [field.column_name for field in cls().get_export_fields()]

    def get_queryset(self):
        return Organisation.objects.prefetch_related("das_interests").order_by("name", "pk")

    # --- export: neutralise formulas in every cell -------------------------------------
    def export_field(self, field, instance, **kwargs):
        return neutralise(super().export_field(field, instance, **kwargs))

    # --- import: match by SIREN, else by normalised name ---------------------------------
    def get_instance(self, instance_loader, row):
        siren = SirenWidget().clean(row.get("siren"))
        if siren:
            found = Organisation.objects.filter(siren=siren).first()
            if found is not None:
                return found
        key = organisation_name_key(_text(row.get("nom")))
        if not key:
            return None
        same_name = list(Organisation.objects.filter(name_key=key)[:3])
        # A namesake with another SIREN is another organisation (reported as a probable duplicate).
        same_name = [organisation for organisation in same_name if not (siren and organisation.siren)]
        if len(same_name) > 1:
            raise ValidationError(
                {
                    "name": _("Several organisations have this name (%(names)s): add their SIREN to tell them apart.")
                    % {"names": ", ".join(str(o) for o in same_name)}
                }
            )
        return same_name[0] if same_name else None

    def import_instance(self, instance, row, **kwargs):
        errors: dict = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "das" in row:
            widget: DasWidget = self.fields["das_interests"].widget
            codes = widget.codes(row["das"])
            known = set(widget.model.objects.filter(code__in=codes).values_list("code", flat=True))
            unknown = [code for code in codes if code not in known]
            if unknown:
                errors["das_interests"] = [
                    _("Unknown DAS code(s): %(codes)s. Known codes: %(known)s.")
                    % {
                        "codes": ", ".join(unknown),
                        "known": ", ".join(widget.model.objects.order_by("code").values_list("code", flat=True)),
                    }
                ]
        if not instance.status:
            instance.status = Organisation.Status.PROSPECT
        if not instance.slug and instance.name:
            instance.slug = self._unique_slug(instance.name)
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _unique_slug(name: str) -> str:
        base = slugify(name)[:240] or "organisation"
        slug, suffix = base, 1
        while Organisation.objects.filter(slug=slug).exists():
            suffix += 1
            slug = f"{base}-{suffix}"
        return slug

    def after_import_row(self, row, row_result, **kwargs):
        if row_result.import_type != row_result.IMPORT_TYPE_NEW:
            return
        duplicates = probable_duplicates(
            name=_text(row.get("nom")), siren=SirenWidget().clean(row.get("siren")), exclude_pk=row_result.object_id
        )
        if duplicates:
            self.duplicate_warnings.append((kwargs.get("row_number", 0), _text(row.get("nom")), duplicates))
