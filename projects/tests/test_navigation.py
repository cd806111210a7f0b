"""The navigation shows each role what it can do and nothing else (home page, every role)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from das.tests.factories import StrategicAreaFactory
from members.tests.factories import UserFactory
from projects.models import Review
from projects.tests.factories import ProjectFactory, contact, reviewer_for

pytestmark = pytest.mark.django_db

LINKS = {
    "home": "das:home",
    "directory": "members:directory",
    "my_organisation": "members:mine",
    "projects": "projects:list",
    "reviews": "projects:reviews",
    "impact": "impact:dashboard",
    "meetings": "meetings:meeting_list",
    "topics": "meetings:topic_list",
    "admin": "admin:index",
    "my_data": "my_data",
    "login": "login",
    "logout": "logout",
}


def _links_on_home(client, user) -> set[str]:
    if user is not None:
        client.force_login(user)
    page = client.get(reverse("das:home"))
    assert page.status_code == 200
    html = page.content.decode()
    return {name for name, url_name in LINKS.items() if f'href="{reverse(url_name)}"' in html} | (
        {"logout"} if f'action="{reverse("logout")}"' in html else set()
    )


def test_an_anonymous_visitor_sees_the_public_pages_and_the_login(client):
    assert _links_on_home(client, None) == {"home", "directory", "impact", "login"}


def test_a_member_contact_sees_their_organisation_and_projects(client):
    assert _links_on_home(client, contact()) == {
        "home",
        "directory",
        "my_organisation",
        "projects",
        "impact",
        "my_data",
        "logout",
    }


def test_a_kol_sees_meetings_and_topics_and_their_reviews_once_they_have_some(client):
    area = StrategicAreaFactory()
    kol = reviewer_for(area)
    assert _links_on_home(client, kol) == {"home", "directory", "impact", "meetings", "topics", "my_data", "logout"}

    Review.objects.create(project=ProjectFactory(primary_area=area), reviewer=kol.person)
    assert "reviews" in _links_on_home(client, kol)


def test_staff_see_every_list_and_the_administration(client):
    staff = UserFactory(is_staff=True)
    assert _links_on_home(client, staff) == {
        "home",
        "directory",
        "projects",
        "impact",
        "meetings",
        "topics",
        "admin",
        "my_data",
        "logout",
    }
