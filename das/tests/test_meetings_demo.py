import random

import pytest
from faker import Faker

from das.demo import seed_das_demo
from das.models import Delivery, Meeting, Topic
from das.services import governance_load

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_past_meeting_with_minutes_and_selected_topics_and_a_coming_one_with_invitations():
    governance_load()

    seed_das_demo(rng=random.Random(2019), fake=Faker("fr_FR"))
    seed_das_demo(rng=random.Random(2019), fake=Faker("fr_FR"))  # a second run adds nothing

    past, coming = Meeting.objects.order_by("starts_at")
    assert past.status == Meeting.Status.HELD
    assert "bloc opératoire" in past.minutes
    assert set(past.selected_topics.values_list("title", flat=True)) == {
        "New ways of reinventing the operating room",
        "The challenges of implementing point-of-care",
    }
    assert past.invitations.filter(attended=True).exists()
    assert coming.status == Meeting.Status.SCHEDULED
    assert coming.invitations.count() == 14  # the five presidents and nine vice-presidents
    assert coming.deliveries.filter(kind=Delivery.Kind.INVITATION, status=Delivery.Status.PENDING).count() == 14
    assert coming.deliveries.filter(kind=Delivery.Kind.REMINDER).count() == 28
    assert Topic.objects.filter(status=Topic.Status.PROPOSED).exists()
