import random

import pytest
from faker import Faker

from das.services import governance_load
from meetings.demo import seed_meetings_demo
from meetings.models import Delivery, Meeting, Topic

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_past_meeting_with_minutes_and_selected_topics_and_a_coming_one_with_invitations():
    governance_load()

    seed_meetings_demo(rng=random.Random(2019), fake=Faker("fr_FR"))
    seed_meetings_demo(rng=random.Random(2019), fake=Faker("fr_FR"))  # a second run adds nothing

    past, coming, board = Meeting.objects.order_by("starts_at")
    assert past.status == Meeting.Status.HELD
    assert "bloc opératoire" in past.minutes
    assert set(past.selected_topics.values_list("title", flat=True)) == {
        "Nouvelles façons de réinventer le bloc opératoire",
        "Les défis de la mise en œuvre de la biologie délocalisée (point-of-care)",
    }
    assert past.invitations.filter(attended=True).exists()
    assert coming.status == Meeting.Status.SCHEDULED
    assert coming.invitations.count() == 14  # the five presidents and nine vice-presidents
    assert (
        coming.deliveries.with_status().filter(kind=Delivery.Kind.INVITATION, status=Delivery.Status.PENDING).count()
        == 14
    )
    assert coming.deliveries.filter(kind=Delivery.Kind.REMINDER).count() == 28
    assert Topic.objects.filter(status=Topic.Status.PROPOSED).exists()
    assert coming.agenda_items.count() == 2
    assert board.status == Meeting.Status.DRAFT
    assert board.invitations.exists() and not board.deliveries.exists()


def test_the_demo_topics_and_their_descriptions_are_in_french():
    governance_load()

    seed_meetings_demo(rng=random.Random(2019), fake=Faker("fr_FR"))

    texts = " ".join(t.title + " " + t.description for t in Topic.objects.all())
    assert "bloc opératoire" in texts and "Télésurveillance" in texts
    assert all(t.description for t in Topic.objects.all())
    for english in ("operating room", "Remote monitoring", "Liquid biopsy", "Secure sharing"):
        assert english not in texts
