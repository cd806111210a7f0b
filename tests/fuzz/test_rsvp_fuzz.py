"""Bad input to the RSVP endpoint (no login, the signed token is the authorisation): no 500,
and an answer is recorded only by a POST of a valid choice on a valid, open invitation.

Tokens are the real one, the real one altered (a character changed, cut, padded, another
invitation's pk signed with the right salt but the wrong meeting), or arbitrary text; the
query string and the POSTed answer are arbitrary too. Nothing else is written: the other
invitation and every delivery row stay as they were unless the answer legitimately changes
them (declining skips the invitee's pending reminders).
"""

from __future__ import annotations

import datetime
from urllib.parse import quote

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from meetings.emails import RSVP_SALT, rsvp_token
from meetings.models import Delivery, Invitation
from meetings.tests.factories import make_meeting, make_people
from tests.fuzz.common import FUZZ, text

pytestmark = pytest.mark.django_db

ANSWERS = [Invitation.Response.ACCEPTED, Invitation.Response.TENTATIVE, Invitation.Response.DECLINED]


@pytest.fixture
def invitations(db):
    people = make_people(2, prefix="fuzz")
    open_meeting = make_meeting(starts_at=timezone.now() + datetime.timedelta(days=3), people=people[:1])
    other_meeting = make_meeting(starts_at=timezone.now() + datetime.timedelta(days=5), people=people[1:])
    return open_meeting.invitations.get(), other_meeting.invitations.get()


@st.composite
def tokens(draw, invitation: Invitation, other: Invitation) -> str:
    good = rsvp_token(invitation)
    kind = draw(st.sampled_from(["good", "changed", "cut", "padded", "foreign", "forged", "text"]))
    if kind == "good":
        return good
    if kind == "changed":
        index = draw(st.integers(0, len(good) - 1))
        return good[:index] + draw(st.sampled_from("AZaz09-_:.")) + good[index + 1 :]
    if kind == "cut":
        return good[: draw(st.integers(0, len(good) - 1))]
    if kind == "padded":
        return good + draw(text)
    if kind == "foreign":  # the other meeting's invitation id with this meeting's fingerprint
        return signing.dumps([other.pk, invitation.meeting.uid.hex[:12]], salt=RSVP_SALT, compress=False)
    if kind == "forged":
        payload = draw(st.one_of(st.just([invitation.pk]), st.lists(text, max_size=3), st.dictionaries(text, text)))
        return signing.dumps(payload, salt=RSVP_SALT, compress=draw(st.booleans()))
    return draw(text)


def state() -> list:
    return [
        list(Invitation.objects.order_by("pk").values_list("pk", "response", "responded_at")),
        list(Delivery.objects.order_by("pk").values_list("pk", "skip_reason", "due_at", "message_id")),
    ]


@FUZZ
@given(data=st.data())
def test_the_rsvp_link_refuses_cleanly_and_records_only_valid_answers(invitations, data):
    invitation, other = invitations
    token = data.draw(tokens(invitation, other))
    method = data.draw(st.sampled_from(["get", "post"]))
    answer = data.draw(st.one_of(st.sampled_from([*ANSWERS, ""]), text))
    url = f"/meetings/rsvp/{quote(token, safe='')}/"
    before = state()

    response = getattr(Client(), method)(url, {"answer": answer})

    assert response.status_code in (200, 400, 404, 410)
    valid = token == rsvp_token(invitation) and response.status_code == 200
    if method == "post" and valid and answer in ANSWERS:
        invitation.refresh_from_db()
        other.refresh_from_db()
        assert invitation.response == answer
        assert other.response == Invitation.Response.NONE
    else:
        assert state() == before
