from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _


class BoardDateForm(forms.Form):
    """The date of the board shown on a DAS page (GET ?on=YYYY-MM-DD)."""

    on = forms.DateField(
        label=_("Board on"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_on(self) -> datetime.date | None:
        day = self.cleaned_data["on"]
        if day is not None and not (datetime.date(1990, 1, 1) <= day <= datetime.date(2100, 12, 31)):
            raise forms.ValidationError(_("Choose a date between 1990 and 2100."))
        return day
