"""The section meetings adds to a DAS page (settings.DAS_AREA_SECTIONS): the board's meetings."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from das.models import Mandate
from meetings.models import Meeting
from meetings.tests.factories import make_meeting
from members.tests.factories import PersonFactory, UserFactory
from tests.support import page_text

pytestmark = pytest.mark.django_db


def test_board_meetings_are_for_logged_in_users_and_linked_for_those_invited(client: Client, governance):
    from das.models import StrategicArea

    imaging = StrategicArea.objects.get(code="imaging")
    kotian = Mandate.objects.get(person__last_name="Kotian").person
    kotian.user = UserFactory()
    kotian.save()
    meeting = make_meeting(
        starts_at=timezone.now() + datetime.timedelta(days=10),
        committee=Meeting.Committee.DAS_BOARD,
        area=imaging,
        title="Bureau imagerie de printemps",
    )

    assert "Bureau imagerie de printemps" not in page_text(client.get("/areas/imaging/"))

    member = UserFactory()
    PersonFactory(user=member, email=member.email)
    client.force_login(member)
    text = page_text(client.get("/areas/imaging/"))
    assert "Bureau imagerie de printemps" in text and f"/meetings/{meeting.pk}/" not in text

    client.force_login(kotian.user)
    assert f'href="/meetings/{meeting.pk}/"' in page_text(client.get("/areas/imaging/"))


def test_a_withdrawn_invitation_shows_the_board_meeting_without_a_link(client: Client, governance):
    from das.models import StrategicArea
    from meetings.services import invitation_remove

    imaging = StrategicArea.objects.get(code="imaging")
    guest = PersonFactory(user=UserFactory())
    guest.email = guest.user.email
    guest.save()
    meeting = make_meeting(
        starts_at=timezone.now() + datetime.timedelta(days=10),
        committee=Meeting.Committee.DAS_BOARD,
        area=imaging,
        title="Bureau imagerie automnal",
        people=[guest],
    )
    client.force_login(guest.user)
    assert f'href="/meetings/{meeting.pk}/"' in page_text(client.get("/areas/imaging/"))

    invitation_remove(invitation=meeting.invitations.get(person=guest))

    text = page_text(client.get("/areas/imaging/"))
    assert "Bureau imagerie automnal" in text and f'href="/meetings/{meeting.pk}/"' not in text


def test_meetings_never_imports_the_apps_after_it():
    """members ← das ← meetings ← calls ← projects ← committees (docs/architecture.md)."""
    sources = [path for path in Path(__file__).resolve().parents[1].rglob("*.py") if "tests" not in path.parts]
    later = r"^\s*(from|import) (calls|projects|committees|medicen_portal)\b"

    offenders = [str(path) for path in sources if re.search(later, path.read_text(), re.MULTILINE)]
    assert offenders == []


def test_a_board_meeting_in_preparation_is_listed_only_for_those_who_may_open_it(
    client: Client, governance, outsider, staff
):
    from das.models import StrategicArea

    make_meeting(
        starts_at=timezone.now() + datetime.timedelta(days=10),
        committee=Meeting.Committee.DAS_BOARD,
        area=StrategicArea.objects.get(code="imaging"),
        title="Bureau imagerie en préparation",
        draft=True,
    )

    client.force_login(outsider)
    assert "Bureau imagerie en préparation" not in page_text(client.get("/areas/imaging/"))
    client.force_login(staff)
    assert "Bureau imagerie en préparation" in page_text(client.get("/areas/imaging/"))
