"""The public pages of the strategic areas: the list, and one page per DAS with its board on any date."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.test import Client

from das.models import Mandate
from das.tests.factories import MandateFactory, StrategicAreaFactory
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory
from projects.models import Project
from projects.tests.factories import ProjectFactory
from tests.support import page_text

pytestmark = pytest.mark.django_db


def test_the_navigation_leads_to_the_list_of_areas(client: Client, governance):
    home = client.get("/").content.decode()

    assert 'href="/areas/"' in home
    page = client.get("/areas/")
    assert page.status_code == 200
    text = page_text(page)
    for code in ("biological-diagnostics", "imaging", "biotherapies-molecules", "digital-health", "techno-therapies"):
        assert f'href="/areas/{code}/"' in text


def test_an_area_page_shows_its_description_and_its_current_board_in_french(client: Client, governance):
    text = page_text(client.get("/areas/imaging/"))

    assert "<h1" in text and "Imagerie" in text
    assert "Imagerie médicale, imagerie interventionnelle" in text
    assert "François Kotian</strong><span>, Ingénieur en chef</span>" in text
    assert "Prof. Guy Frija</strong><span>, Radiologue</span>" in text
    assert "Vice-présidente" in text  # Prof. Valérie Vilgrain
    assert "Radiologist" not in text and "Chief engineer" not in text


def test_no_space_before_a_comma_after_a_board_members_name(client: Client, governance):
    for url in ("/", "/areas/", "/areas/biological-diagnostics/"):
        text = re.sub(r"<[^>]+>", "", client.get(url).content.decode())
        text = re.sub(r"\s+", " ", text)
        assert "Jérôme Sallette, Directeur de l\u2019innovation" in text
        assert " ," not in text


def test_the_home_page_uses_feminine_titles_and_french_job_titles(client: Client, governance):
    text = page_text(client.get("/"))

    vilgrain = text[text.index("Valérie Vilgrain") - 120 : text.index("Valérie Vilgrain")]
    assert "Vice-présidente" in vilgrain
    assert "Cheffe du service d\u2019imagerie médicale" in text
    assert "Head of Medical Imaging Department" not in text


def test_the_english_page_shows_english_titles(client: Client, governance):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    text = page_text(client.get("/areas/imaging/"))

    assert "François Kotian</strong><span>, Chief engineer</span>" in text
    assert "Vice-president" in text and "Vice-présidente" not in text


def test_the_board_on_a_past_date_shows_the_titles_and_affiliations_of_that_time(client: Client):
    area = StrategicAreaFactory(code="imaging", name_fr="Imagerie", name_en="Imaging")
    former = PersonFactory(first_name="Ancien", last_name="Président", position="Retraité", affiliation="")
    MandateFactory(
        person=former,
        area=area,
        role=Mandate.Role.PRESIDENT,
        start_date=datetime.date(2015, 1, 1),
        end_date=datetime.date(2019, 10, 10),
        position_fr="Directeur scientifique",
        affiliation="Ancienne Société",
    )
    MandateFactory(
        person=PersonFactory(first_name="Nouvelle", last_name="Présidente"),
        area=area,
        role=Mandate.Role.PRESIDENT,
        start_date=datetime.date(2019, 10, 10),
        feminine_title=True,
        position_fr="Directrice de l'innovation",
    )

    old = page_text(client.get("/areas/imaging/", {"on": "2018-06-01"}))
    now = page_text(client.get("/areas/imaging/"))

    assert "Ancien Président</strong><span>, Directeur scientifique</span>" in old
    assert "Ancienne Société" in old and "Retraité" not in old
    assert "Nouvelle Présidente" not in old
    assert 'value="2018-06-01"' in old
    assert "Nouvelle Présidente" in now and "Ancien Président" not in now
    assert 'href="?on=2015-01-01"' in now and 'href="?on=2019-10-10"' in now


def test_a_date_before_any_board_says_so(client: Client, governance):
    text = page_text(client.get("/areas/imaging/", {"on": "2001-01-01"}))

    assert "Aucun membre du bureau à cette date." in text
    assert "Kotian" not in text


def test_a_malformed_date_is_refused_with_a_message_and_todays_board(client: Client, governance):
    response = client.get("/areas/imaging/", {"on": "31-02-2020"})

    assert response.status_code == 200
    text = page_text(response)
    assert "is-invalid" in text
    assert "Saisissez une date valide." in text
    assert "François Kotian" in text


def test_an_unknown_area_is_a_404(client: Client, governance):
    assert client.get("/areas/no-such-area/").status_code == 404


def test_the_page_lists_the_directorys_members_interested_in_the_area(client: Client, governance):
    from das.models import StrategicArea

    imaging = StrategicArea.objects.get(code="imaging")
    listed = OrganisationFactory(name="Imagerie Listée SAS")
    hidden = OrganisationFactory(name="Imagerie Discrète SAS", directory_opt_in=False)
    other_area = OrganisationFactory(name="Bio Ailleurs SAS")
    listed.das_interests.add(imaging)
    hidden.das_interests.add(imaging)
    other_area.das_interests.add(StrategicArea.objects.get(code="digital-health"))

    text = page_text(client.get("/areas/imaging/"))

    assert "Imagerie Listée SAS" in text
    assert "Imagerie Discrète SAS" not in text and "Bio Ailleurs SAS" not in text
    assert "1 adhérent de l\u2019annuaire s\u2019intéresse à ce domaine." in text


def test_labelled_projects_visitors_see_how_many_members_see_which(client: Client, governance):
    from das.models import StrategicArea

    imaging = StrategicArea.objects.get(code="imaging")
    labelled = ProjectFactory(primary_area=imaging, status=Project.Status.LABELLED, title="Scanner portable")
    other = ProjectFactory(primary_area=imaging, status=Project.Status.FUNDED, title="IRM rapide")
    ProjectFactory(primary_area=imaging, status=Project.Status.DRAFT, title="Brouillon secret")

    visitor = page_text(client.get("/areas/imaging/"))
    assert "2 projets de ce domaine ont reçu le label du pôle." in visitor
    assert "Scanner portable" not in visitor and "Brouillon secret" not in visitor

    member = UserFactory()
    PersonFactory(user=member, organisation=labelled.lead_organisation, email=member.email)
    client.force_login(member)
    text = page_text(client.get("/areas/imaging/"))
    assert f'href="/projects/{labelled.pk}/"' in text  # their own
    assert "IRM rapide" in text and f'href="/projects/{other.pk}/"' not in text  # someone else's: no link
    assert "Brouillon secret" not in text


def test_staff_get_a_link_to_edit_the_area(client: Client, governance):
    client.force_login(UserFactory(is_staff=True))

    assert "/admin/das/strategicarea/" in page_text(client.get("/areas/imaging/"))


@pytest.mark.parametrize("organisations", [3, 60])
def test_an_area_page_query_count_does_not_grow_with_its_members(
    client: Client, governance, organisations, django_assert_max_num_queries
):
    from das.models import StrategicArea

    imaging = StrategicArea.objects.get(code="imaging")
    for _ in range(organisations):
        OrganisationFactory().das_interests.add(imaging)
        ProjectFactory(primary_area=imaging, status=Project.Status.LABELLED)
    client.force_login(UserFactory(is_staff=True))

    with django_assert_max_num_queries(12):
        assert client.get("/areas/imaging/").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get("/areas/").status_code == 200


def test_das_never_imports_the_apps_after_it():
    sources = [path for path in Path(__file__).resolve().parents[1].rglob("*.py") if "tests" not in path.parts]
    later = r"^\s*(from|import) (meetings|calls|projects|committees)\b"

    offenders = [str(path) for path in sources if re.search(later, path.read_text(), re.MULTILINE)]
    assert offenders == []
