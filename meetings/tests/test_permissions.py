"""One rule for who sees which meeting (permissions.visible_meetings): the list, the object
check and the access helper every meeting page uses give the same answer for every visitor."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from das.tests.factories import MandateFactory, StrategicAreaFactory
from meetings import selectors, services
from meetings.models import Meeting
from meetings.permissions import can_view_meeting, visible_meetings
from meetings.tests.factories import make_meeting
from members.tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _login(*, area=None, staff: bool = False):
    user = UserFactory(is_staff=staff)
    person = PersonFactory(user=user, email=user.email)
    if area is not None:
        MandateFactory(person=person, area=area, role="vice_president")
    return user


@pytest.fixture
def world(area, now):
    other_area = StrategicAreaFactory(code="digital-health")
    users = {
        "staff": _login(staff=True),
        "kol": _login(area=area),  # sits on the imaging board
        "other_kol": _login(area=other_area),  # sits on another board
        "guest": _login(),  # no seat, invited to the committee
        "withdrawn_kol": _login(area=area),  # a seat, but their committee invitation was withdrawn
        "outsider": _login(),  # no seat, invited to nothing
    }
    committee = make_meeting(starts_at=now + 10 * DAY, people=[users["guest"].person, users["withdrawn_kol"].person])
    services.invitation_remove(invitation=committee.invitations.get(person=users["withdrawn_kol"].person))
    board = make_meeting(
        starts_at=now + 12 * DAY, committee=Meeting.Committee.DAS_BOARD, area=area, title="Bureau imagerie"
    )
    draft = services.meeting_create(
        title="En préparation", committee=Meeting.Committee.KOL_COMMITTEE, starts_at=now + 20 * DAY,
        ends_at=now + 20 * DAY + datetime.timedelta(hours=2), place="Paris", invite_default=False, draft=True,
    )  # fmt: skip
    return users, {"committee": committee, "board": board, "draft": draft}


EXPECTED = {
    "staff": {"committee", "board", "draft"},
    "kol": {"committee", "board"},
    "other_kol": {"committee"},
    "guest": {"committee"},
    "withdrawn_kol": {"board"},
    "outsider": set(),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_the_list_the_object_check_and_the_page_helper_agree_with_the_one_rule(world, who):
    users, meetings = world
    user = users[who]

    visible = set(visible_meetings(user).values_list("pk", flat=True))
    assert {name for name, m in meetings.items() if m.pk in visible} == EXPECTED[who]
    assert set(selectors.meetings_for_user(user).values_list("pk", flat=True)) == visible
    for meeting in meetings.values():
        assert can_view_meeting(user, meeting) is (meeting.pk in visible)
        if meeting.pk in visible:
            assert selectors.get_meeting_for_user(user, meeting.pk) == meeting
        else:
            with pytest.raises(Http404):
                selectors.get_meeting_for_user(user, meeting.pk)


def test_anonymous_visitors_see_no_meeting(world):
    _users, meetings = world

    assert not visible_meetings(AnonymousUser()).exists()
    assert not can_view_meeting(AnonymousUser(), meetings["committee"])


def test_the_rule_is_one_query_once_the_login_is_known(world, django_assert_num_queries):
    users, _meetings = world
    kol = type(users["kol"]).objects.get(pk=users["kol"].pk)  # as a request loads it

    with django_assert_num_queries(2):  # the login's person, then the meetings (invitations and seats inside)
        assert len(visible_meetings(kol)) == 2
