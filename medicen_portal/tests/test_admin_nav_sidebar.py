"""The admin's sidebar is built once per user, language and section, and kept ADMIN_NAV_SIDEBAR_SECONDS:
building and rendering it were a third of the CPU of a changelist page."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client

from members.tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def sidebar(client: Client, path: str) -> str:
    html = client.get(path).content.decode()
    return re.search(r'<nav class="sticky" id="nav-sidebar".*?</nav>', html, re.S).group(0)


@pytest.fixture
def builds(monkeypatch) -> list:
    """One entry each time Django builds a list of the admin's models."""
    calls = []
    build = admin.AdminSite._build_app_dict

    def counted(self, request, label=None):
        calls.append(request.path)
        return build(self, request, label)

    monkeypatch.setattr(admin.AdminSite, "_build_app_dict", counted)
    return calls


def test_a_kept_sidebar_is_the_one_the_page_would_build_and_marks_the_page_s_model(superuser, settings):
    organisation = OrganisationFactory()
    client = Client()
    client.force_login(superuser)
    sidebar(client, f"/admin/members/organisation/{organisation.pk}/change/")  # builds and keeps it
    kept = sidebar(client, "/admin/members/organisation/")  # served from the cache
    settings.ADMIN_NAV_SIDEBAR_SECONDS = 0
    built = sidebar(client, "/admin/members/organisation/")

    assert kept == built
    assert '<tr class="model-organisation current-model">' in kept
    assert 'href="/admin/das/strategicarea/"' in kept and 'href="/admin/outbox/message/"' in kept


def test_a_second_page_of_the_same_section_reuses_the_sidebar(superuser, builds):
    organisation = OrganisationFactory()
    client = Client()
    client.force_login(superuser)

    first = sidebar(client, "/admin/members/organisation/")
    second = sidebar(client, f"/admin/members/organisation/{organisation.pk}/change/")
    other_section = sidebar(client, "/admin/das/strategicarea/")

    assert first == second
    assert builds == ["/admin/members/organisation/", "/admin/das/strategicarea/"]
    assert '<tr class="model-strategicarea current-model">' in other_section


def test_each_user_sees_the_sidebar_of_their_own_permissions(superuser):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_organisation"))
    admin_client, clerk_client = Client(), Client()
    admin_client.force_login(superuser)
    clerk_client.force_login(clerk)

    assert "/admin/das/strategicarea/" in sidebar(admin_client, "/admin/members/organisation/")
    mine = sidebar(clerk_client, "/admin/members/organisation/")

    assert 'href="/admin/members/organisation/"' in mine
    assert "/admin/das/strategicarea/" not in mine and "/admin/outbox/" not in mine


def test_admin_pages_keep_their_sidebar_while_the_cache_is_unreachable(superuser, cache_down):
    client = Client()
    client.force_login(superuser)

    assert 'href="/admin/members/organisation/"' in sidebar(client, "/admin/members/organisation/")
