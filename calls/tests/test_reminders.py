"""Deadline reminders of calls: who gets them, once each, in their language, and how to stop them."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import Unsubscription
from calls.services import call_reminders_enqueue, unsubscribe_token
from calls.tests.factories import CallFactory
from das.tests.factories import StrategicAreaFactory
from members.models import Organisation
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory
from outbox import services as outbox
from outbox.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def area(db):
    return StrategicAreaFactory(code="imaging")


@pytest.fixture
def call(area):
    """A call whose 7-day reminder fell due an hour ago."""
    call = CallFactory(internal_deadline=timezone.now() + datetime.timedelta(days=7, hours=-1), title_fr="PM'up 2027")
    call.areas.set([area])
    return call


def _interested(area, *, status=Organisation.Status.ACTIVE, email="cso@example.org", **person):
    organisation = OrganisationFactory(status=status)
    organisation.das_interests.set([area])
    return PersonFactory(organisation=organisation, email=email, is_primary_contact=True, **person)


def _draft_holder(call, email="lead@example.org", language="fr"):
    from projects.tests.factories import ProjectFactory

    user = UserFactory(email=email, language=language)
    PersonFactory(user=user, organisation=OrganisationFactory(), email=email)
    return ProjectFactory(call=call, proposer=user, lead_organisation=user.person.organisation, acronym="SEPSIS")


def _send_all():
    now = timezone.now()
    outbox.scan(now=now, send=outbox.send_synchronously(now=now))


def test_interested_members_and_draft_holders_are_reminded_once_even_when_the_scan_runs_twice(smtp_sink, call, area):
    _interested(area, email="cso@example.org")
    _draft_holder(call, email="lead@example.org")
    _interested(area, email="lapsed@example.org", status=Organisation.Status.LAPSED)
    _interested(StrategicAreaFactory(code="digital"), email="elsewhere@example.org")

    assert call_reminders_enqueue() == 2
    assert call_reminders_enqueue() == 0
    _send_all()
    _send_all()

    received = sorted(message["X-Envelope-To"] for message in smtp_sink.messages)
    assert received == ["cso@example.org", "lead@example.org"]
    assert Message.objects.filter(key__startswith=f"call-reminder:{call.pk}:7:", status="sent").count() == 2
    draft_mail = next(m for m in smtp_sink.messages if m["X-Envelope-To"] == "lead@example.org")
    text = draft_mail.get_content()
    assert "PM'up 2027" in draft_mail["Subject"]
    assert "dans 7 jours" in text and "SEPSIS" in text and f"/projects/{call.projects.get().pk}/edit/" in text
    assert "/calls/unsubscribe/" in text and draft_mail["List-Unsubscribe"]


def test_a_submitted_proposal_stops_the_reminders_for_it_and_its_organisation(smtp_sink, call, area):
    draft = _draft_holder(call)
    colleague = PersonFactory(organisation=draft.lead_organisation, email="cso@lead.example", is_primary_contact=True)
    draft.lead_organisation.das_interests.set([area])
    type(draft).objects.filter(pk=draft.pk).update(status="submitted")

    assert call_reminders_enqueue() == 0
    assert colleague.email not in Message.objects.values_list("to", flat=True)


def test_an_unsubscribed_contact_gets_no_announcement_but_still_hears_about_their_draft(client, call, area):
    person = _interested(area, email="cso@example.org")
    holder = _draft_holder(call, email="lead@example.org").proposer.person
    for someone in (person, holder):
        client.post(reverse("calls:unsubscribe", args=[unsubscribe_token(someone)]))

    call_reminders_enqueue()

    assert [row for row in Message.objects.values_list("to", flat=True)] == [["lead@example.org"]]
    assert Unsubscription.objects.count() == 2


def test_each_offset_is_sent_in_its_own_window_and_a_missed_one_is_not_sent_late(settings, area):
    settings.CALLS_REMINDER_DAYS = [30, 7]
    late = CallFactory(
        internal_deadline=timezone.now() + datetime.timedelta(days=20)
    )  # published after its 30-day moment
    late.areas.set([area])
    _interested(area)

    assert call_reminders_enqueue() == 0
    assert call_reminders_enqueue(now=late.internal_deadline - datetime.timedelta(days=7)) == 1
    assert call_reminders_enqueue(now=late.internal_deadline - datetime.timedelta(days=6, hours=23)) == 0
    [key] = Message.objects.values_list("key", flat=True)
    assert key.startswith(f"call-reminder:{late.pk}:7:")  # the 7-day one; the missed 30-day one never


def test_no_reminder_goes_once_the_deadline_has_passed_or_for_an_unpublished_call(area):
    _interested(area)
    closed = CallFactory(
        internal_deadline=timezone.now() - datetime.timedelta(minutes=5), opens_on=datetime.date(2020, 1, 1)
    )
    hidden = CallFactory(internal_deadline=timezone.now() + datetime.timedelta(days=7, hours=-1), is_published=False)
    for call in (closed, hidden):
        call.areas.set([area])
    assert call_reminders_enqueue() == 0


def test_a_reminder_is_written_in_the_recipients_language(smtp_sink, call):
    _draft_holder(call, email="lead@example.org", language="en")
    call_reminders_enqueue()
    _send_all()
    mail = smtp_sink.messages[0]
    assert "in 7 days" in mail.get_content() and "deadline" in mail["Subject"]


def test_the_unsubscribe_link_asks_before_it_acts_and_refuses_a_tampered_token(client, area):
    person = _interested(area)
    url = reverse("calls:unsubscribe", args=[unsubscribe_token(person)])

    page = client.get(url)
    assert page.status_code == 200 and "Se désabonner" in page.content.decode()
    assert not Unsubscription.objects.exists()

    assert "ne recevra plus" in client.post(url).content.decode()
    assert Unsubscription.objects.get().person == person

    tampered = client.get(reverse("calls:unsubscribe", args=[unsubscribe_token(person)[:-2] + "xx"]))
    assert tampered.status_code == 400 and "pas valide" in tampered.content.decode()
