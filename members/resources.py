"""The columns of the organisations' import and export, and how each cell is read and written.

The import and export themselves are in members/imports.py (whole-file, bulk); this resource
names the columns and holds each column's widget (django-import-export's). Columns are
documented in docs/members.md. Cells are neutralised on export against spreadsheet formula
injection and un-neutralised on import, so export → import is an identity.
"""

from __future__ import annotations

import datetime

from django.utils import translation
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from common.spreadsheet import neutralise, unneutralise
from members.models import Organisation, strategic_areas

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
        self._codes: dict[str, str] | None = None
        super().__init__(**kwargs)

    def codes(self) -> dict[str, str]:
        """Code, French label and English label (casefolded) -> code; built once, not per cell."""
        if self._codes is None:
            codes = {}
            for language in ("en", "fr"):
                with translation.override(language):
                    for code, label in self.choices.choices:
                        codes.setdefault(str(label).casefold(), code)
            codes.update({code.casefold(): code for code in self.choices.values})
            self._codes = codes
        return self._codes

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            return text
        # Otherwise the text itself: the model's validation names the column and the valid choices.
        return self.codes().get(text.casefold(), text)


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
        if len(text) == 10 and text[2] == text[5] == "/" and text.replace("/", "").isdigit():
            try:  # the common case, without strptime's cost
                return datetime.date(int(text[6:]), int(text[3:5]), int(text[:2]))
            except ValueError:
                pass  # 31/02/2024: strptime below gives the same verdict and the message
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
        super().__init__(strategic_areas().model, separator=DAS_SEPARATOR, field="code", **kwargs)

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

    @classmethod
    def column_names(cls) -> list[str]:
        return [field.column_name for field in cls().get_export_fields()]

    def get_queryset(self):
        return Organisation.objects.prefetch_related("das_interests").order_by("name", "pk")

    # --- export: neutralise formulas in every cell -------------------------------------
    def export_field(self, field, instance, **kwargs):
        return neutralise(super().export_field(field, instance, **kwargs))
