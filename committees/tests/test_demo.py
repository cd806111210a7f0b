"""seed_demo's committee session: a newcomer running `make run` sees a decided session, a letter
on the demo contact's project and figures per call and per session on the impact dashboard."""

import io

import pytest
from django.core.management import call_command

from committees.models import Item, Letter, Session
from members.models import User
from projects.selectors import impact_figures

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_one_decided_session_with_a_letter_for_the_demo_contact_once(settings, client):
    settings.DEMO_PASSWORD = "demo-password-123"
    call_command("seed_demo", members=80, projects=60, seed=7, stdout=io.StringIO())
    call_command("seed_demo", members=80, projects=60, seed=7, if_empty=True, stdout=io.StringIO())

    session = Session.objects.get()  # once, whatever the number of runs
    assert session.items.filter(decision=Item.Decision.LABELLED).exists()
    assert not session.items.filter(decision="").exists()
    contact = User.objects.get(email="contact@medicen.example")
    letter = Letter.objects.get(project__lead_organisation=contact.person.organisation)
    assert letter.item.session == session

    client.force_login(contact)
    page = client.get(f"/projects/{letter.project_id}/").content.decode()
    assert f"/committees/letters/{letter.project_id}.pdf" in page
    assert client.get(f"/labels/{letter.reference}/").status_code == 200

    tables = {table.key: table for table in impact_figures().outcomes}
    assert [row.proposals for row in tables["committee_session"].rows] == [session.items.count()]
    assert tables["call"].rows and all(row.proposals for row in tables["call"].rows)
