"""The directory's list is cached per filters, page and language, and dropped as soon as what it shows changes."""

import datetime
import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from das.services import governance_load
from members import services
from members.imports import members_import
from members.models import Organisation
from members.tests.factories import MembershipYearFactory, OrganisationFactory, UserFactory
from members.tests.test_imports import GOOD_ROWS, csv_bytes

pytestmark = pytest.mark.django_db


def directory(**params) -> str:
    return Client().get("/members/", params).content.decode()


def test_a_page_seen_again_is_served_from_the_cache(areas):
    OrganisationFactory(name="Imagia SAS", postcode="92100")
    first = directory(departement="92")

    with CaptureQueriesContext(connection) as queries:
        again = directory(departement="92")

    without_csrf_token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert without_csrf_token.sub("", again) == without_csrf_token.sub("", first)
    assert "Imagia SAS" in again
    # The filter form's areas and départements, the count, the page and the DAS badges all come from the cache.
    assert queries.captured_queries == []


def test_each_filter_page_and_language_has_its_own_cached_page(areas):
    OrganisationFactory(name="Imagia SAS", postcode="92100", category="sme")
    OrganisationFactory(name="Cardiax", postcode="75013", category="startup")

    assert "Cardiax" not in directory(departement="92")
    assert "Imagia SAS" not in directory(category="startup")
    assert "organisations trouvées" in directory()
    english = Client(headers={"accept-language": "en"}).get("/members/").content.decode()
    assert "organisations found" in english


def test_a_profile_edit_shows_at_once(areas, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(name="Imagia SAS", description="Imagerie.")
    assert "Imagerie." in directory()

    with django_capture_on_commit_callbacks(execute=True):
        services.organisation_profile_update(
            organisation=organisation,
            by=UserFactory(is_staff=True),
            das_interests=[areas["imaging"]],
            description="IA pour l'imagerie médicale.",
        )

    page = directory()
    assert "IA pour l&#x27;imagerie médicale." in page and "Imagerie." not in page


def test_a_member_who_lapses_leaves_the_directory_at_once(areas, fee_grid, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(name="Cardiax", category="startup", member_since=datetime.date(2020, 1, 1))
    MembershipYearFactory(organisation=organisation, year=2027, status="grace")
    assert "Cardiax" in directory()

    with django_capture_on_commit_callbacks(execute=True):
        services.membership_statuses_advance(today=datetime.date(2027, 4, 1))

    assert Organisation.objects.get(pk=organisation.pk).status == Organisation.Status.LAPSED
    assert "Cardiax" not in directory()


def test_an_import_shows_at_once(areas, django_capture_on_commit_callbacks):
    OrganisationFactory(name="Cardiax")
    assert "Saint-Louis" not in directory()

    with django_capture_on_commit_callbacks(execute=True):
        assert members_import(content=csv_bytes(GOOD_ROWS)).written

    assert "Hôpital Saint-Louis (AP-HP)" in directory()


def test_staff_deleting_in_the_admin_shows_at_once(areas, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(name="Cardiax")
    assert "Cardiax" in directory()
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            "/admin/members/organisation/",
            {"action": "delete_selected", "_selected_action": [organisation.pk], "post": "yes"},
        )

    assert response.status_code == 302 and not Organisation.objects.exists()
    assert "Cardiax" not in directory()


def test_a_cache_time_of_zero_turns_the_cache_off(areas, settings):
    settings.MEMBERS_DIRECTORY_CACHE_SECONDS = 0
    OrganisationFactory(name="Cardiax")
    directory()

    with CaptureQueriesContext(connection) as queries:
        directory()

    assert any("members_organisation" in query["sql"] for query in queries.captured_queries)


def test_pagination_links_keep_the_filters_in_use_and_nothing_else(areas):
    for n in range(30):
        OrganisationFactory(name=f"Startup {n:02d}", category="startup", postcode="75013")

    page = directory(category="startup", per_page=12, utm_source="newsletter", page=2)

    assert 'href="?category=startup&amp;per_page=12&amp;page=3"' in page
    assert 'href="?category=startup&amp;per_page=12&amp;page=1"' in page
    assert not re.search(r'href="\?[^"]*utm_source', page)


def test_an_area_renamed_in_the_admin_is_named_so_in_the_directory_at_once(
    areas, superuser, rf, django_capture_on_commit_callbacks
):
    OrganisationFactory(name="Imagia SAS").das_interests.set([areas["imaging"]])
    assert ">Imagerie</" in directory()

    area = areas["imaging"]
    area.name_fr = "Imagerie médicale"
    request = rf.post("/admin/das/strategicarea/")
    request.user = superuser
    with django_capture_on_commit_callbacks(execute=True):
        admin.site.get_model_admin(type(area)).save_model(request, area, form=None, change=True)

    page = directory()
    assert '<option value="imaging">Imagerie médicale</option>' in page
    assert '<span class="badge text-bg-light border me-1">Imagerie médicale</span>' in page


def test_loading_the_areas_shows_them_in_the_directory_at_once(db, django_capture_on_commit_callbacks):
    OrganisationFactory(name="Imagia SAS")
    assert '<option value="imaging">' not in directory()

    with django_capture_on_commit_callbacks(execute=True):
        governance_load()

    assert '<option value="imaging">Imagerie</option>' in directory()
