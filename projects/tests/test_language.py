"""French forms of dates and amounts on real pages; notifications in the recipient's language."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from members.services import user_set_language
from projects import services
from projects.models import FundingDecision, Notification, Project
from projects.tests.factories import ProjectFactory, granted_decision

pytestmark = pytest.mark.django_db
NNBSP = "\u202f"  # narrow no-break space, the French thousands separator


def test_the_impact_page_shows_an_amount_in_french_form(client):
    project = ProjectFactory(status=Project.Status.FUNDED, total_investment=Decimal("1234567"))
    granted_decision(project, granted="800000")

    html = client.get(reverse("impact:dashboard")).content.decode()

    assert f"1{NNBSP}234{NNBSP}567 €" in html

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "1,234,567 €" in client.get(reverse("impact:dashboard")).content.decode()


def test_a_proposal_page_shows_a_date_in_french_form(client, project, owner, staff):
    FundingDecision.objects.filter(project=project).delete()
    granted_decision(project, granted="500000")
    FundingDecision.objects.filter(project=project).update(decision_date=datetime.date(2026, 11, 28))
    client.force_login(owner)

    html = client.get(reverse("projects:detail", args=[project.pk])).content.decode()

    assert "28/11/2026" in html


def _applicant_mails(project, owner, staff, mailoutbox):
    from outbox import services as outbox

    services.project_transition(project=project, to=Project.Status.SUBMITTED, by=owner)
    services.project_transition(project=project, to=Project.Status.UNDER_REVIEW, by=staff)
    assert Notification.objects.filter(audience=Notification.Audience.APPLICANT).count() == 1
    outbox.scan(send=outbox.send_synchronously())
    return [m for m in mailoutbox if m.to == [owner.email]]


def test_the_applicant_gets_the_notification_in_their_language(project, owner, staff, mailoutbox):
    user_set_language(user=owner, language="en")
    [message] = _applicant_mails(project, owner, staff, mailoutbox)
    assert message.subject == f"[Medicen] {project.acronym}: Under review"
    assert "is now: Under review" in message.body


def test_a_french_speaking_applicant_gets_it_in_french(project, owner, staff, mailoutbox):
    user_set_language(user=owner, language="fr")
    [message] = _applicant_mails(project, owner, staff, mailoutbox)
    assert message.subject == f"[Medicen] {project.acronym}\u202f: En expertise"
