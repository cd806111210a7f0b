"""Forms of the members' self-service pages: billing details and colleagues."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import BillingProfile, Person


class BillingDetailsForm(forms.ModelForm):
    class Meta:
        model = BillingProfile
        fields = ["address", "postcode", "city", "purchase_order"]


class ContactRolesForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ["is_primary_contact", "is_billing_contact", "is_scientific_contact", "is_communication_contact"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-check-input"

    def roles(self) -> dict[str, bool]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ContactAddForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=120)
    last_name = forms.CharField(label=_("Last name"), max_length=120)
    email = forms.EmailField(label=_("E-mail"))
    is_primary_contact = forms.BooleanField(label=_("primary contact"), required=False)
    is_billing_contact = forms.BooleanField(label=_("billing contact"), required=False)
    is_scientific_contact = forms.BooleanField(label=_("scientific contact"), required=False)
    is_communication_contact = forms.BooleanField(label=_("communication contact"), required=False)

    def roles(self) -> dict[str, bool]:
        return {name: self.cleaned_data[name] for name in ContactRolesForm.Meta.fields}
