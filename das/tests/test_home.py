import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_page_shows_the_governance_in_french_by_default(client: Client, governance):
    response = client.get("/")

    assert response.status_code == 200
    text = response.content.decode()
    assert 'lang="fr"' in text
    assert "Diagnostic biologique" in text
    assert "Technothérapies" in text
    assert "Président" in text
    assert "Prof. Valérie Vilgrain" in text
    assert "Hôpital Beaujon, AP-HP" in text
    assert "Cheffe du service d\u2019imagerie médicale" in text
    assert "Head of Medical Imaging Department" not in text


def test_language_switch_shows_the_governance_in_english_and_is_remembered(client: Client, governance):
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert switched.status_code == 302

    text = client.get("/").content.decode()

    assert 'lang="en"' in text
    assert "Biological diagnostics" in text
    assert "Vice-president" in text
    assert "Carlos Jaime" in text
    assert "InterSystems France" in text


def test_home_page_query_count_does_not_depend_on_board_size(client: Client, governance, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        client.get("/")


def test_bootstrap_is_served_from_the_portals_own_static_files(client: Client, governance):
    text = client.get("/").content.decode()

    assert "/static/bootstrap/css/bootstrap.min.css" in text
    assert "cdn" not in text.lower()
