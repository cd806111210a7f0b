"""The /meetings/ pages: who sees what (staff, KOL, outsider), and what they do."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from das.tests.factories import MandateFactory, StrategicAreaFactory
from meetings import services
from meetings.models import CalendarFeed, Delivery, Invitation, Meeting, Topic
from meetings.tests.factories import make_meeting, make_people, run_scan
from members.tests.factories import PersonFactory, UserFactory
from outbox.models import Message

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _as(client: Client, user) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def committee(kol, now):
    """A KOL committee meeting the KOL is invited to (as a current mandate holder)."""
    meeting = make_meeting(starts_at=now + 10 * DAY)
    services.invitations_add(meeting=meeting, people=[kol.person])
    return meeting


def test_staff_see_the_meeting_list_with_the_schedule_button(client, staff, committee):
    text = _as(client, staff).get("/meetings/").content.decode()

    assert committee.title in text
    assert "Programmer une réunion" in text


def test_a_kol_sees_the_meeting_list_without_staff_actions(client, kol, committee):
    response = _as(client, kol).get("/meetings/")

    assert response.status_code == 200
    assert committee.title in response.content.decode()
    assert "Programmer une réunion" not in response.content.decode()


def test_a_member_contact_without_a_mandate_is_refused_the_meetings(client, outsider, committee):
    _as(client, outsider)

    assert client.get("/meetings/").status_code == 403
    assert client.get(f"/meetings/{committee.pk}/").status_code == 404
    assert client.get("/meetings/topics/").status_code == 403
    assert client.get("/meetings/topics/selected/").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client, committee):
    response = client.get(f"/meetings/{committee.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_meeting_page_shows_deliveries_to_staff_only(client, staff, kol, committee):
    staff_page = _as(client, staff).get(f"/meetings/{committee.pk}/").content.decode()
    kol_page = _as(Client(), kol).get(f"/meetings/{committee.pk}/").content.decode()

    assert "Tous les envois dans l" in staff_page
    assert "Tous les envois dans l" not in kol_page
    assert kol.person.full_name in kol_page
    assert kol.email not in staff_page  # contacts' addresses are never shown on the page


def test_a_kol_of_another_das_cannot_see_a_board_meeting_of_this_one(client, kol, area, now):
    other_area = StrategicAreaFactory(code="digital-health")
    board = make_meeting(starts_at=now + 10 * DAY, committee="das_board", area=other_area)
    visible = make_meeting(starts_at=now + 11 * DAY, committee="das_board", area=area, title="Bureau imagerie")
    _as(client, kol)

    assert client.get(f"/meetings/{board.pk}/").status_code == 404
    assert client.get(f"/meetings/{visible.pk}/").status_code == 200
    assert "Bureau imagerie" in client.get("/meetings/").content.decode()
    assert board.title not in client.get("/meetings/").content.decode() or board.title == visible.title


@pytest.mark.parametrize("action", ["edit", "cancel", "invite", "outcome", "agenda"])
def test_only_staff_may_change_a_meeting(client, kol, outsider, committee, action):
    url = f"/meetings/{committee.pk}/{action}/"

    assert _as(client, kol).post(url, {"email": "x@example.org"}).status_code == 403
    assert _as(Client(), outsider).post(url, {"email": "x@example.org"}).status_code == 404
    committee.refresh_from_db()
    assert committee.status == Meeting.Status.SCHEDULED


def test_staff_schedule_a_board_meeting_and_its_board_is_invited(client, staff, area, now):
    president = PersonFactory(email="presidente@example.org")
    MandateFactory(person=president, area=area, role="president")
    MandateFactory(person=PersonFactory(email=""), area=area)  # no address: cannot be invited
    MandateFactory(person=PersonFactory(email="ailleurs@example.org"), area=StrategicAreaFactory(code="other"))
    start = timezone.localtime(now + 10 * DAY).replace(hour=14, minute=0, second=0)

    response = _as(client, staff).post(
        "/meetings/new/",
        {
            "title": "Bureau du DAS imagerie",
            "committee": "das_board",
            "area": area.pk,
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "video_url": "https://visio.example/imagerie",
            "reminders": "7d, 1d, 2h",
        },
    )

    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert meeting.status == Meeting.Status.DRAFT
    assert meeting.starts_at == start
    assert meeting.reminder_offsets == [7 * 1440, 1440, 120]
    assert list(meeting.invitations.values_list("email", flat=True)) == ["presidente@example.org"]
    assert not meeting.deliveries.exists()  # prepared first: nobody is e-mailed yet

    assert client.post(f"/meetings/{meeting.pk}/send/").status_code == 302

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert list(meeting.deliveries.filter(kind="invitation").values_list("email", flat=True)) == [
        "presidente@example.org"
    ]
    assert meeting.deliveries.filter(kind="reminder").count() == 3


def test_the_schedule_form_explains_its_errors_in_french(client, staff, now):
    start = timezone.localtime(now + 10 * DAY)

    response = _as(client, staff).post(
        "/meetings/new/",
        {
            "title": "Sans lieu",
            "committee": "kol_committee",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "reminders": "7 jours",
        },
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "est pas un rappel" in text
    assert not Meeting.objects.exists()


def test_staff_reschedule_from_the_page_and_the_sequence_goes_up(client, staff, committee):
    run_scan(timezone.now())  # the invitation went out
    start = timezone.localtime(committee.starts_at + DAY)

    response = _as(client, staff).post(
        f"/meetings/{committee.pk}/edit/",
        {
            "title": committee.title,
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "place": committee.place,
            "reminders": "7d, 1d",
        },
    )

    committee.refresh_from_db()
    assert response.status_code == 302
    assert committee.sequence == 1
    assert committee.deliveries.with_status().filter(kind="update", status="pending").count() == 1


def test_staff_cancel_from_the_page(client, staff, committee):
    response = _as(client, staff).post(f"/meetings/{committee.pk}/cancel/")

    committee.refresh_from_db()
    assert response.status_code == 302
    assert committee.status == Meeting.Status.CANCELLED
    assert not committee.deliveries.with_status().filter(status="pending").exists()


def test_staff_invite_someone_by_address_once(client, staff, committee):
    guest = PersonFactory(email="invitee@example.org")
    _as(client, staff)

    client.post(f"/meetings/{committee.pk}/invite/", {"email": "Invitee@example.org"})
    client.post(f"/meetings/{committee.pk}/invite/", {"email": "invitee@example.org"})
    unknown = client.post(f"/meetings/{committee.pk}/invite/", {"email": "nobody@example.org"}, follow=True)

    assert committee.invitations.filter(person=guest, source=Invitation.Source.STAFF).count() == 1
    assert "Personne dans l" in unknown.content.decode()


def test_an_invited_kol_answers_from_the_meeting_page(client, kol, committee):
    _as(client, kol).post(f"/meetings/{committee.pk}/respond/", {"answer": "tentative"})

    assert committee.invitations.get(person=kol.person).response == "tentative"


def test_kols_propose_and_vote_on_topics_and_staff_put_them_on_the_agenda(client, kol, staff, area, committee):
    _as(client, kol).post(
        "/meetings/topics/", {"title": "Réinventer le bloc opératoire", "description": "", "areas": [area.pk]}
    )
    topic = Topic.objects.get()
    client.post(f"/meetings/topics/{topic.pk}/vote/")
    client.post(f"/meetings/topics/{topic.pk}/vote/")  # a second vote counts once
    assert topic.votes.count() == 1
    assert topic.proposed_by == kol.person

    _as(Client(), staff).post(f"/meetings/{committee.pk}/agenda/", {"topic": topic.pk})

    assert list(committee.agenda_items.values_list("topic__title", flat=True)) == ["Réinventer le bloc opératoire"]


def test_after_the_meeting_staff_record_minutes_attendance_and_selected_topics(client, staff, kol, area, now):
    meeting = make_meeting(starts_at=now + 2 * DAY, now=now - 5 * DAY, people=[kol.person])
    chosen = services.topic_propose(by_person=None, title="Point-of-care", description="", areas=[area])
    dropped = services.topic_propose(by_person=None, title="Autre", description="", areas=[area])
    for topic in (chosen, dropped):
        services.agenda_add_topic(meeting=meeting, topic=topic)
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=now - DAY, ends_at=now - DAY + datetime.timedelta(hours=2))
    invitation = meeting.invitations.get()

    _as(client, staff).post(
        f"/meetings/{meeting.pk}/outcome/",
        {"minutes": "Le comité retient le point-of-care.", "attended": [invitation.pk], "selected": [chosen.pk]},
    )

    meeting.refresh_from_db()
    chosen.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD
    assert meeting.invitations.get().attended is True
    assert (chosen.status, chosen.selected_at) == (Topic.Status.SELECTED, meeting)
    assert Topic.objects.get(pk=dropped.pk).status == Topic.Status.PROPOSED
    selected_page = _as(Client(), kol).get("/meetings/topics/selected/").content.decode()
    assert "Point-of-care" in selected_page
    assert "Autre" not in selected_page


def test_the_meeting_list_query_count_does_not_grow_with_meetings(client, staff, django_assert_max_num_queries, now):
    people = make_people(5)
    _as(client, staff)

    for count in (2, 12):
        while Meeting.objects.count() < count:
            n = Meeting.objects.count()
            make_meeting(starts_at=now + (n + 1) * DAY, people=people, title=f"Réunion {n}")
        with django_assert_max_num_queries(9):
            assert client.get("/meetings/").status_code == 200


def test_the_meeting_page_query_count_does_not_grow_with_invitees(
    client, staff, django_assert_max_num_queries, area, now
):
    meeting = make_meeting(starts_at=now + 10 * DAY)
    for topic_title in ("A", "B", "C"):
        topic = services.topic_propose(by_person=None, title=topic_title, description="", areas=[area])
        services.agenda_add_topic(meeting=meeting, topic=topic)
    _as(client, staff)

    for prefix, count in (("small", 3), ("large", 60)):
        services.invitations_add(meeting=meeting, people=make_people(count, prefix=prefix))
        with django_assert_max_num_queries(16):
            assert client.get(f"/meetings/{meeting.pk}/").status_code == 200
    assert Delivery.objects.filter(meeting=meeting, kind="invitation").count() == 63


def test_the_topics_page_query_count_does_not_grow_with_topics(client, kol, django_assert_max_num_queries, area):
    _as(client, kol)
    for count in (3, 30):
        while Topic.objects.count() < count:
            services.topic_propose(
                by_person=kol.person, title=f"T{Topic.objects.count()}", description="", areas=[area]
            )
        with django_assert_max_num_queries(10):
            assert client.get("/meetings/topics/").status_code == 200


def test_a_user_with_no_person_record_who_is_not_staff_is_refused(client, committee):
    assert _as(client, UserFactory()).get("/meetings/").status_code == 403


def test_staff_see_a_failed_delivery_with_its_outgoing_e_mail_and_send_it_again_from_the_outbox(client, committee):
    admin = UserFactory(is_staff=True, is_superuser=True)
    delivery = committee.deliveries.get(kind="invitation")
    message = delivery.message
    Message.objects.filter(pk=message.pk).update(status="failed", attempts=1, last_error="SMTP error (permanent): 550")
    _as(client, admin)

    listing = client.get(f"/admin/meetings/delivery/?meeting__id__exact={committee.pk}&attention=failed")
    listing = listing.content.decode()
    page = client.get(f"/meetings/{committee.pk}/").content.decode()
    client.post("/admin/outbox/message/", {"action": "requeue", "_selected_action": [message.pk]})

    assert "550" in listing and f"/admin/outbox/message/{message.pk}/change/" in listing
    assert "550" in page and f"/admin/outbox/message/{message.pk}/change/" in page  # the meeting's staff view
    assert Delivery.objects.filter(pk=delivery.pk).with_status().get().status == "pending"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 0)


def test_the_navigation_shows_meetings_to_kols_and_not_to_member_contacts(client, kol, outsider):
    assert 'href="/meetings/"' in _as(client, kol).get("/").content.decode()
    assert 'href="/meetings/"' not in _as(Client(), outsider).get("/").content.decode()


def test_a_kol_gets_a_private_calendar_address_and_can_replace_it(client, kol):
    _as(client, kol).post("/meetings/calendar/reset/")
    first = CalendarFeed.objects.get(person__user=kol).token
    client.post("/meetings/calendar/reset/")
    token = CalendarFeed.objects.get(person__user=kol).token

    assert token != first
    assert f"/meetings/calendar/{token}.ics" in client.get("/meetings/").content.decode()
