"""The changelist rows of common.admin_list are Django's own rows, byte for byte."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import results
from django.test import Client, RequestFactory
from django.utils import translation

from common.admin_list import fast_results
from members.models import Organisation
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisations(areas):
    OrganisationFactory(
        name='Ça & <b>"Cie"</b> l\'atelier',
        city="",
        siren="",
        category=Organisation.Category.SME,
        member_since=datetime.date(2024, 3, 1),
    )
    OrganisationFactory(name="NeuroWave", city="  ", status=Organisation.Status.PROSPECT, member_since=None)
    labs = OrganisationFactory(name="Neuro Labs", category=Organisation.Category.HOSPITAL, postcode="92100")
    labs.das_interests.set([areas["imaging"]])
    PersonFactory(email="someone@neuro.example")


def rows(model_admin, request, *, fast: bool) -> list[list[str]]:
    cl = model_admin.get_changelist_instance(request)
    cl.formset = None  # as changelist_view sets it without list_editable
    return [list(row) for row in (fast_results(cl) if fast else results(cl))]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": "neuro"},
        {"status__exact": "active", "category__exact": "sme", "o": "-2"},
        {"das": "imaging", "departement": "92", "p": "1"},
    ],
)
def test_every_admin_changelist_row_is_the_same_as_djangos(organisations, language, query):
    """For each model of the admin (links, choices, dates, booleans, methods, relations), in both languages."""
    staff = UserFactory(is_staff=True, is_superuser=True, last_login=datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC))
    compared = 0
    with translation.override(language):
        for model, model_admin in admin.site._registry.items():
            request = RequestFactory().get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/", query)
            request.user = staff
            try:
                expected = rows(model_admin, request, fast=False)
            except admin.options.IncorrectLookupParameters:
                continue  # these filters belong to the organisations' changelist
            fast = rows(model_admin, request, fast=True)
            assert ["".join(row) for row in fast] == ["".join(row) for row in expected], model
            if model is Organisation:
                compared = len(fast)
                assert all(len(row) == 1 for row in fast)  # one piece of HTML a row: not Django's fallback
    assert compared >= 1


def test_the_organisations_changelist_renders_its_rows_once_per_column(organisations, monkeypatch):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    fast = client.get("/admin/members/organisation/", {"q": "neuro", "p": "1"}).content.decode()
    monkeypatch.setattr("common.admin_list._column", lambda *args: None)  # every column: Django's code
    slow = client.get("/admin/members/organisation/", {"q": "neuro", "p": "1"}).content.decode()

    def table(page: str) -> str:
        return page[page.index('<table id="result_list">') : page.index("</table>")]

    assert table(fast) == table(slow)
    assert '<th class="field-name"><a href="/admin/members/organisation/' in fast
    assert "/change/?_changelist_filters=q%3Dneuro%26p%3D1" in fast
