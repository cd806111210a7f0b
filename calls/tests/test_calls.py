"""Calls for projects: the pages members see, the public JSON and iCalendar feeds."""

from __future__ import annotations

import datetime
import json
import zoneinfo

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import Call
from calls.tests.factories import CallFactory
from das.tests.factories import StrategicAreaFactory
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def member(db):
    user = UserFactory()
    PersonFactory(user=user, organisation=OrganisationFactory(), email=user.email)
    return user


def test_the_list_shows_open_and_upcoming_published_calls_and_nothing_else(client):
    now = timezone.now()
    open_call = CallFactory(title_fr="Appel ouvert")
    upcoming = CallFactory(title_fr="Appel à venir", opens_on=timezone.localdate() + datetime.timedelta(days=10))
    CallFactory(
        title_fr="Appel clos",
        opens_on=timezone.localdate() - datetime.timedelta(days=90),
        internal_deadline=now - datetime.timedelta(days=1),
    )
    CallFactory(title_fr="Appel en préparation", is_published=False)

    page = client.get(reverse("calls:list")).content.decode()

    assert open_call.title_fr in page and upcoming.title_fr in page
    assert "Appel clos" not in page and "Appel en préparation" not in page
    assert "Ouvert" in page and "Ouvre le" in page


def test_the_list_filters_by_strategic_area_and_keeps_calls_open_to_every_area(client):
    imaging, digital = StrategicAreaFactory(code="imaging"), StrategicAreaFactory(code="digital")
    CallFactory(title_fr="Appel imagerie", areas=[imaging])
    CallFactory(title_fr="Appel numérique", areas=[digital])
    CallFactory(title_fr="Appel tous domaines")

    page = client.get(reverse("calls:list"), {"area": "imaging"}).content.decode()

    assert "Appel imagerie" in page and "Appel tous domaines" in page
    assert "Appel numérique" not in page


def test_the_list_runs_the_same_few_queries_whatever_the_number_of_calls(client, django_assert_max_num_queries):
    area = StrategicAreaFactory()
    for _ in range(3):
        CallFactory(areas=[area])
    with django_assert_max_num_queries(6):
        client.get(reverse("calls:list"))
    for _ in range(15):
        CallFactory(areas=[area])
    with django_assert_max_num_queries(6):
        assert client.get(reverse("calls:list")).status_code == 200


def test_the_list_is_paginated_with_numbered_pages(client):
    for _ in range(25):
        CallFactory()
    page = client.get(reverse("calls:list"), {"page": 2})
    assert len(page.context["page"].object_list) == 5
    assert 'href="?page=1"' in page.content.decode()


def test_a_call_page_shows_its_deadlines_in_paris_time_and_its_proposal_count(client, member):
    from projects.tests.factories import ProjectFactory

    call = CallFactory(
        internal_deadline=datetime.datetime(2027, 3, 15, 23, 59, tzinfo=PARIS),
        funder_deadline=datetime.datetime(2027, 4, 6, 12, 0, tzinfo=PARIS),
        opens_on=datetime.date(2020, 1, 1),
    )
    ProjectFactory(call=call, status="submitted")
    ProjectFactory(call=call, status="under_review")
    ProjectFactory(call=call, status="draft")  # drafts are their authors' own

    page = client.get(reverse("calls:detail", args=[call.pk])).content.decode()

    assert "15/03/2027 23:59" in page and "06/04/2027 12:00" in page
    assert "Lettres d&#x27;engagement des partenaires" in page
    assert client.get(reverse("calls:detail", args=[call.pk])).context["proposal_count"] == 2


def test_a_member_contact_is_offered_to_propose_a_project_for_an_open_call(client, member):
    call = CallFactory()
    client.force_login(member)
    page = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert f"{reverse('projects:create')}?call={call.pk}" in page


def test_a_visitor_is_asked_to_log_in_and_a_closed_call_offers_nothing(client):
    call = CallFactory()
    assert (
        "Se connecter pour proposer un projet" in client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    )
    closed = CallFactory(internal_deadline=timezone.now() - datetime.timedelta(hours=1))
    page = client.get(reverse("calls:detail", args=[closed.pk])).content.decode()
    assert "?call=" not in page and "la date limite interne du pôle est passée" in page.lower()


def test_an_unpublished_call_is_hidden_from_everyone_but_staff(client, member):
    call = CallFactory(is_published=False)
    assert client.get(reverse("calls:detail", args=[call.pk])).status_code == 404
    client.force_login(member)
    assert client.get(reverse("calls:detail", args=[call.pk])).status_code == 404
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("calls:detail", args=[call.pk])).status_code == 200


def test_the_json_feed_lists_the_calls_taking_proposals_with_its_documented_fields(client):
    area = StrategicAreaFactory(code="imaging")
    call = CallFactory(
        areas=[area],
        internal_deadline=datetime.datetime(2099, 7, 1, 23, 59, tzinfo=PARIS),
        funder_deadline=datetime.datetime(2099, 12, 1, 12, 0, tzinfo=PARIS),
        max_aid_rate="45.00",
    )
    CallFactory(is_published=False)

    response = client.get(reverse("calls_json"))

    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["version"] == 1 and len(body["calls"]) == 1
    item = body["calls"][0]
    assert set(item) == {
        "id",
        "url",
        "funder",
        "funder_name",
        "programme",
        "title",
        "description",
        "areas",
        "opens_on",
        "internal_deadline",
        "funder_deadline",
        "kinds",
        "max_aid_rate",
        "documents_required",
        "funder_url",
    }
    assert item["id"] == call.pk and item["areas"] == ["imaging"] and item["funder"] == "bpifrance"
    assert item["internal_deadline"] == "2099-07-01T23:59:00+02:00"  # summer time
    assert item["funder_deadline"] == "2099-12-01T12:00:00+01:00"  # winter time
    assert item["title"] == {"fr": call.title_fr, "en": call.title_en}
    assert item["max_aid_rate"] == "45.00"
    assert item["documents_required"] == ["Annexe financière", "Lettres d'engagement des partenaires"]


def test_the_calendar_feed_is_valid_icalendar_with_both_deadlines_of_each_call(client):
    call = CallFactory(
        internal_deadline=datetime.datetime(2099, 10, 24, 23, 59, tzinfo=PARIS),
        funder_deadline=datetime.datetime(2099, 11, 20, 12, 0, tzinfo=PARIS),
    )

    response = client.get(reverse("calls:ics"))

    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = calendar.walk("VEVENT")
    assert sorted(str(event["UID"]) for event in events) == [
        f"call-{call.pk}-funder@127.0.0.1",
        f"call-{call.pk}-internal@127.0.0.1",
    ]
    starts = {str(event["UID"]).split("-")[2].split("@")[0]: event.decoded("DTSTART") for event in events}
    assert starts["internal"] == datetime.datetime(2099, 10, 24, 23, 59, tzinfo=PARIS)
    assert starts["internal"].utcoffset() == datetime.timedelta(hours=2)
    assert starts["funder"].utcoffset() == datetime.timedelta(hours=1)
    assert all(event.get("DTSTAMP") for event in events)
    assert calendar.walk("VTIMEZONE"), "the feed carries the Europe/Paris time zone"


def test_a_call_cannot_close_internally_after_the_funder(db):
    from django.core.exceptions import ValidationError

    call = CallFactory.build(
        internal_deadline=timezone.now() + datetime.timedelta(days=30),
        funder_deadline=timezone.now() + datetime.timedelta(days=10),
    )
    with pytest.raises(ValidationError, match="date limite interne"):
        call.full_clean()


def test_a_deadline_typed_in_paris_time_is_stored_as_that_moment(admin_client):
    area = StrategicAreaFactory()
    response = admin_client.post(
        reverse("admin:calls_call_add"),
        {
            "funder": "region_idf",
            "programme": "PM'up",
            "title_fr": "PM'up 2027",
            "title_en": "PM'up 2027",
            "areas": [area.pk],
            "opens_on": "01/09/2027",
            "internal_deadline_0": "30/10/2027",  # the last day of summer time
            "internal_deadline_1": "23:59",
            "funder_deadline_0": "27/03/2028",  # the last day of winter time
            "funder_deadline_1": "23:59",
            "kinds": "any",
            "min_companies": 2,
            "min_research_clinical": 1,
            "max_partner_share": "70",
            "lead_must_be_company": "on",
            "is_published": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    call = Call.objects.get()
    assert call.internal_deadline == datetime.datetime(2027, 10, 30, 21, 59, tzinfo=datetime.UTC)
    assert call.funder_deadline == datetime.datetime(2028, 3, 27, 21, 59, tzinfo=datetime.UTC)
