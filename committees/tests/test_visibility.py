"""One answer to "who sees which committee session": the object check, the pages and the list agree
with committees.permissions.visible_sessions (issue 13, item 6)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from committees import permissions, services
from committees.models import Session
from das.tests.factories import StrategicAreaFactory
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["member", "other_board", "contact", "staff", "anonymous"])
def test_the_object_check_the_pages_and_the_list_agree(client, area, board, staff, role):
    mine = services.session_create(area=area, held_at=timezone.now() + datetime.timedelta(days=3), by=staff)
    other_area = StrategicAreaFactory(code="digital")
    theirs = services.session_create(area=other_area, held_at=timezone.now(), by=staff)
    contact = UserFactory()
    PersonFactory(user=contact, organisation=OrganisationFactory(), email=contact.email)
    user = {"member": board[0].user, "other_board": None, "contact": contact, "staff": staff}.get(role)
    if role == "other_board":
        user = UserFactory()
        PersonFactory(user=user, organisation=None, email=user.email)
        theirs.members.add(user.person)
    expected = {
        "member": {mine},
        "other_board": {theirs},
        "contact": set(),
        "staff": {mine, theirs},
        "anonymous": set(),
    }[role]
    user = user or AnonymousUser()

    by_check = {session for session in Session.objects.all() if permissions.can_view_session(user, session)}

    assert by_check == set(permissions.visible_sessions(user)) == expected
    if user.is_authenticated:
        client.force_login(user)
        listed = client.get("/committees/").content.decode()
        for session in (mine, theirs):
            assert (client.get(f"/committees/{session.pk}/").status_code == 200) == (session in expected)
            assert (f"/committees/{session.pk}/" in listed) == (session in expected)
