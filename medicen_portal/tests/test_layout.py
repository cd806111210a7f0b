"""The page frame every role sees (base.html): messages, the navigation bar and its user menu, charts."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.shortcuts import render
from django.test import RequestFactory

from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory
from projects.charts import NARROW_WIDTH, bar_chart


def _page_with_messages(*levels_and_texts) -> str:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    for level, text in levels_and_texts:
        messages.add_message(request, level, text)
    return render(request, "base.html").content.decode()


def _alerts(html: str) -> dict[str, tuple[str, str]]:
    """Each message's text → (its class attribute, its role)."""
    found = {}
    for classes, role, text in re.findall(
        r'<div class="(alert [^"]*)"\s+role="(\w+)"[^>]*>\s*(.*?)\s*<button', html, flags=re.S
    ):
        found[text] = (classes, role)
    return found


def test_each_message_level_renders_as_the_bootstrap_alert_of_that_level():
    html = _page_with_messages(
        (messages.ERROR, "Rien n'a été enregistré."),
        (messages.WARNING, "Attention."),
        (messages.SUCCESS, "Enregistré."),
        (messages.INFO, "Pour information."),
    )

    alerts = _alerts(html)

    assert alerts["Rien n&#x27;a été enregistré."][0].split()[:2] == ["alert", "alert-danger"]
    assert alerts["Attention."][0].split()[:2] == ["alert", "alert-warning"]
    assert alerts["Enregistré."][0].split()[:2] == ["alert", "alert-success"]
    assert alerts["Pour information."][0].split()[:2] == ["alert", "alert-info"]
    assert "alert-error" not in html


def test_errors_interrupt_screen_readers_and_every_message_can_be_dismissed():
    html = _page_with_messages((messages.ERROR, "Refusé."), (messages.SUCCESS, "Fait."))

    alerts = _alerts(html)

    assert alerts["Refusé."][1] == "alert"
    assert alerts["Fait."][1] == "status"
    assert all("alert-dismissible" in classes for classes, _role in alerts.values())
    assert html.count('data-bs-dismiss="alert"') == 2


@pytest.mark.django_db
def test_the_user_menu_shows_the_persons_name_and_their_account_pages(client):
    user = UserFactory(email="claire.durand@oncox.example", first_name="Claire", last_name="Durand")
    PersonFactory(organisation=OrganisationFactory(), user=user, email=user.email)
    client.force_login(user)

    html = client.get("/").content.decode()

    menu = html[html.index('id="user-menu"') : html.index("</ul>", html.index('id="user-menu"'))]
    toggle_text = re.search(r'data-bs-toggle="dropdown"[^>]*>([^<]*)</a>', menu).group(1)
    assert toggle_text.strip() == "Claire Durand"
    for path in ("/accounts/my-data/", "/accounts/password_change/", "/accounts/two-factor/"):
        assert f'href="{path}"' in menu
    assert 'action="/accounts/logout/"' in html[html.index('id="user-menu"') :]


@pytest.mark.django_db
def test_a_user_without_a_name_sees_their_email_in_the_menu(client):
    client.force_login(UserFactory(email="nameless@example.org"))

    html = client.get("/").content.decode()

    assert re.search(r'data-bs-toggle="dropdown"[^>]*>\s*nameless@example.org\s*</a>', html)


@pytest.mark.django_db
def test_a_visitor_sees_the_login_link_and_no_user_menu(client):
    html = client.get("/").content.decode()

    assert 'href="/accounts/login/"' in html
    assert 'id="user-menu"' not in html


def test_the_phone_drawing_of_a_chart_keeps_its_bars_and_values_inside_its_width():
    rows = [("Biothérapies et molécules", Decimal("235147013")), ("Régional", Decimal("68685581")), ("2014", 0)]

    narrow = bar_chart(rows, money=True)["narrow"]

    assert narrow["width"] == NARROW_WIDTH
    for bar in narrow["bars"]:
        # about 7 units per character at 12 px: the value printed right of the bar must fit
        assert bar.value_x + 7 * len(bar.value_text) <= narrow["width"]
        assert bar.text_y < bar.y  # the label sits above its bar, not beside it
    assert narrow["bars"][0].label == "Biothérapies et molécules"  # not cut
