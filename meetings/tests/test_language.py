"""Meeting e-mails go out in each invitee's language: the one their account chose, else French."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from meetings.tests.factories import make_meeting, run_scan
from members.tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_english_speaking_kol_gets_english_and_a_french_one_french(now):
    english = PersonFactory(email="kol@oxford.example", user=UserFactory(email="kol@oxford.example", language="en"))
    french = PersonFactory(email="kol@aphp.example", user=UserFactory(email="kol@aphp.example", language="fr"))
    no_account = PersonFactory(email="kol@inserm.example")
    make_meeting(starts_at=now + datetime.timedelta(days=10), now=now, people=[english, french, no_account])

    run_scan(now)

    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects["kol@oxford.example"].startswith("Invitation: ")
    assert subjects["kol@aphp.example"].startswith("Invitation\u202f: ")
    assert subjects["kol@inserm.example"].startswith("Invitation\u202f: ")
