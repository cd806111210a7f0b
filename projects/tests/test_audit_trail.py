"""The audit trail: membership years, fee grid, funding decisions, reviews, meetings, users and workflow moves."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from meetings.models import Meeting
from meetings.tests.factories import make_meeting
from members.models import FeeRate, Organisation, User
from members.services import person_anonymise
from members.tests.factories import MembershipYearFactory, OrganisationFactory, PersonFactory, UserFactory
from projects import services
from projects.models import AidRateCeiling, Project, Review
from projects.tests.factories import granted_decision, reviewer_for

pytestmark = pytest.mark.django_db


def _entries(instance) -> list[LogEntry]:
    content_type = ContentType.objects.get_for_model(type(instance))
    return list(LogEntry.objects.filter(content_type=content_type, object_pk=str(instance.pk)).order_by("pk"))


def test_membership_years_and_the_fee_grid_are_tracked():
    year = MembershipYearFactory(year=2027, status="pending", paid_on=None)
    year.status, year.paid_on = "active", datetime.date(2027, 2, 1)
    year.save()
    rate = FeeRate.objects.filter(category=Organisation.Category.SME).first()
    before = rate.amount
    rate.amount = before + 50
    rate.save()

    assert _entries(year)[-1].changes["status"] == ["pending", "active"]
    assert _entries(rate)[-1].changes["amount"] == [str(before), str(before + 50)]


def test_a_staff_or_superuser_grant_is_tracked_and_the_password_never(client):
    user = UserFactory()
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    user.is_staff = True
    user.is_superuser = True
    user.set_password("another-long-password-1")
    user.save()
    user.groups.add(Group.objects.create(name="Éditeurs"))

    update = next(e for e in _entries(user) if e.action == LogEntry.Action.UPDATE)
    assert update.changes["is_staff"] == ["False", "True"]
    assert update.changes["is_superuser"] == ["False", "True"]
    assert all("password" not in (e.changes or {}) for e in _entries(user))
    assert any(e.changes and "groups" in e.changes for e in _entries(user))


def test_funding_decisions_reviews_meetings_and_ceilings_are_tracked(project, staff):
    decision = granted_decision(project)
    decision.amount_granted = Decimal("600000")
    decision.save()
    review = Review.objects.create(
        project=project, reviewer=reviewer_for(project.primary_area).person, assigned_by=staff
    )
    meeting = make_meeting(starts_at=timezone.now() + datetime.timedelta(days=3))
    Meeting.objects.get(pk=meeting.pk).save()
    ceiling = AidRateCeiling.objects.get(funder="bpifrance", category="sme")
    ceiling.max_rate = Decimal("50")
    ceiling.save()

    assert _entries(decision)[-1].changes["amount_granted"] == ["500000.00", "600000"]
    assert _entries(review)[0].action == LogEntry.Action.CREATE
    assert _entries(meeting)
    assert _entries(ceiling)[-1].changes["max_rate"] == ["45.00", "50"]


def test_a_status_change_through_the_workflow_is_in_the_trail_with_who_made_it(project, owner, staff):
    services.project_transition(project=project, to=Project.Status.SUBMITTED, by=owner)
    services.project_transition(project=project, to=Project.Status.UNDER_REVIEW, by=staff)

    moves = [e for e in _entries(project) if e.action == LogEntry.Action.UPDATE and "status" in (e.changes or {})]
    assert [(e.changes["status"], e.actor) for e in moves] == [
        (["draft", "submitted"], owner),
        (["submitted", "under_review"], staff),
    ]


def test_anonymising_a_person_masks_the_identity_in_their_logins_entries_but_keeps_the_grants():
    user = UserFactory(email="jeanne.depart@example.org", first_name="Jeanne")
    person = PersonFactory(user=user, email=user.email)
    user.is_staff = True
    user.save()

    person_anonymise(person=person, by=UserFactory(is_staff=True))

    texts = " ".join(f"{e.object_repr} {e.changes}" for e in _entries(User.objects.get(pk=user.pk)))
    assert "jeanne.depart" not in texts and "Jeanne" not in texts
    assert any(e.changes and e.changes.get("is_staff") == ["False", "True"] for e in _entries(user))


def _status_moves(instance) -> list[tuple[list[str], User | None]]:
    return [
        (e.changes["status"], e.actor)
        for e in _entries(instance)
        if e.action == LogEntry.Action.UPDATE and "status" in (e.changes or {})
    ]


def test_a_membership_year_moved_through_its_workflow_is_in_the_trail_with_who_made_it():
    """membership_year_transition claims the row with a queryset update(), as project_transition does."""
    from auditlog.context import set_actor

    from members.services import membership_record_payment

    staff = UserFactory(is_staff=True)
    organisation = OrganisationFactory(status=Organisation.Status.PROSPECT)
    year = MembershipYearFactory(organisation=organisation, year=timezone.localdate().year, status="pending",
                                 paid_on=None)  # fmt: skip

    with set_actor(staff):  # what AuditlogMiddleware does for a staff request
        membership_record_payment(organisation=organisation, year=year.year, paid_on=timezone.localdate())

    assert _status_moves(year) == [(["pending", "active"], staff)]
    assert _status_moves(organisation) == [(["prospect", "active"], staff)]


def test_the_daily_membership_moves_are_in_the_trail():
    from members.services import membership_statuses_advance

    today = timezone.localdate()
    organisation = OrganisationFactory(status=Organisation.Status.ACTIVE)
    unpaid = MembershipYearFactory(organisation=organisation, year=today.year - 1, status="pending", paid_on=None)
    MembershipYearFactory(organisation=organisation, year=today.year, status="lapsed", paid_on=None)

    membership_statuses_advance(today=today)
    membership_statuses_advance(today=today)  # twice: nothing moves, nothing more is logged

    assert _status_moves(unpaid) == [(["pending", "lapsed"], None)]
    assert _status_moves(organisation) == [(["active", "lapsed"], None)]
