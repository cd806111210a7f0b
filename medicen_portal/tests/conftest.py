"""The permission matrix's world: the users and objects every case of test_permission_matrix.py
and test_second_factor.py is checked against, built once per module."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from calls.tests.factories import CallFactory
from committees.models import Item, Letter, Session
from das.tests.factories import MandateFactory, StrategicAreaFactory
from meetings.models import Meeting, Topic
from meetings.services import agenda_add_topic, invitation_remove, meeting_create
from meetings.tests.factories import make_meeting
from members.billing import invoice_issue_for_membership
from members.models import MembershipYear
from members.tests.factories import MembershipYearFactory, OrganisationFactory, PersonFactory, UserFactory
from projects.models import Partner, Review
from projects.services import attachment_add
from projects.tests.factories import ProjectFactory


@dataclass
class World:
    users: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def world_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once per module inside a transaction rolled back after the module.

    Each test runs in its own savepoint inside it (pytest-django's `db`), so what a test
    writes is undone before the next, and ~300 cases cost one build instead of one each (a
    build issues an invoice and renders its Factur-X PDF: seconds).
    """
    media = tmp_path_factory.mktemp("media")
    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    prefix = f"test-{uuid.uuid4().hex}"
    caches = {name: {**config, "KEY_PREFIX": prefix} for name, config in django_settings.CACHES.items()}
    storages = {**django_settings.STORAGES, "staticfiles": plain_static}
    # What the root conftest's autouse fixtures give each test, for the build itself.
    with override_settings(MEDIA_ROOT=media, STORAGES=storages, CACHES=caches):
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                built = build_world()
            except BaseException:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)
                raise
        yield media, built
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(world_once, db, settings) -> World:
    settings.MEDIA_ROOT, built = world_once
    return built


def build_world() -> World:
    """The users and objects of the matrix (also used by test_second_factor.py)."""
    organisation_a, organisation_b = OrganisationFactory(name="Alpha Bio"), OrganisationFactory(name="Beta Med")
    area_a, area_b = StrategicAreaFactory(code="imaging"), StrategicAreaFactory(code="digital-health")
    world = World()
    for key, organisation, primary in (
        ("contact_a", organisation_a, True),
        ("colleague_a", organisation_a, False),
        ("contact_b", organisation_b, True),
    ):
        user = UserFactory()
        PersonFactory(organisation=organisation, user=user, is_primary_contact=primary, email=user.email)
        world.users[key] = user
    for key, area in (("kol_a", area_a), ("kol_b", area_b)):
        user = UserFactory()
        MandateFactory(person=PersonFactory(organisation=None, user=user, email=user.email), area=area)
        world.users[key] = user
    staff = world.users["staff"] = UserFactory(is_staff=True, is_superuser=True)

    # A consortium partner: a contact of an organisation of the consortium other than the proposer.
    organisation_c = OrganisationFactory(name="Gamma Clinic")
    partner_user = world.users["partner_c"] = UserFactory()
    PersonFactory(organisation=organisation_c, user=partner_user, is_primary_contact=True, email=partner_user.email)
    # A reviewer in conflict: assigned, then declared a conflict of interest.
    kol_conflict = world.users["kol_conflict"] = UserFactory()
    MandateFactory(person=PersonFactory(organisation=None, user=kol_conflict, email=kol_conflict.email), area=area_a)
    # A reviewer set aside: their organisation is in the consortium (it joined after the assignment).
    kol_set_aside = world.users["kol_set_aside"] = UserFactory()
    MandateFactory(
        person=PersonFactory(organisation=organisation_c, user=kol_set_aside, email=kol_set_aside.email), area=area_a
    )
    # A reviewer set aside through membership data: no contact of any organisation, but their
    # mandate's affiliation is linked to a consortium member (das Mandate.organisation).
    kol_affiliated = world.users["kol_affiliated"] = UserFactory()
    MandateFactory(
        person=PersonFactory(organisation=None, user=kol_affiliated, email=kol_affiliated.email),
        area=area_a,
        organisation=organisation_c,
    )
    # A board member without a login, whom staff may invite from the manage page.
    expert = PersonFactory(organisation=None, email="expert@example.org")
    MandateFactory(person=expert, area=area_a)

    project = ProjectFactory(lead_organisation=organisation_a, primary_area=area_a)
    Partner.objects.create(project=project, organisation=organisation_c, role="partner", budget_share=30, position=1)
    upload = SimpleUploadedFile("annex.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    attachment = attachment_add(project=project, upload=upload, by=world.users["contact_a"])
    review = Review.objects.create(project=project, reviewer=world.users["kol_a"].person, assigned_by=staff)
    conflict_review = Review.objects.create(
        project=project,
        reviewer=kol_conflict.person,
        assigned_by=staff,
        state=Review.State.CONFLICT,
        conflict_reason="I advise the lead.",
    )
    set_aside_review = Review.objects.create(project=project, reviewer=kol_set_aside.person, assigned_by=staff)
    affiliated_review = Review.objects.create(project=project, reviewer=kol_affiliated.person, assigned_by=staff)

    # A member contact invited to the board meeting, whose invitation staff then withdrew.
    withdrawn = world.users["withdrawn_a"] = UserFactory()
    PersonFactory(organisation=organisation_a, user=withdrawn, email=withdrawn.email)

    starts = timezone.now() + datetime.timedelta(days=30)
    meeting = make_meeting(
        starts_at=starts,
        committee=Meeting.Committee.DAS_BOARD,
        area=area_a,
        people=[world.users["kol_a"].person, withdrawn.person],
    )
    invitation_remove(invitation=meeting.invitations.get(person=withdrawn.person))
    draft = meeting_create(
        title="Board in preparation",
        committee=Meeting.Committee.DAS_BOARD,
        area=area_a,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=1),
        place="Paris",
        draft=True,
    )
    topic = Topic.objects.create(title="Reinventing the operating room", proposed_by=world.users["kol_a"].person)
    agenda_item = agenda_add_topic(meeting=meeting, topic=topic)
    session = Session.objects.create(area=area_a, held_at=timezone.now())
    session.members.add(world.users["kol_a"].person)
    item = Item.objects.create(session=session, project=project)
    membership = MembershipYearFactory(organisation=organisation_a, status=MembershipYear.Status.PENDING)
    invoice, _created = invoice_issue_for_membership(membership_year=membership, by=staff)
    world.objects.update(
        session=session,
        item=item,
        letter=Letter.objects.create(project=project, item=item),
        call=CallFactory(),
        invoice=invoice,
        organisation_a=organisation_a,
        organisation_b=organisation_b,
        project=project,
        attachment=attachment,
        review=review,
        conflict_review=conflict_review,
        set_aside_review=set_aside_review,
        affiliated_review=affiliated_review,
        expert=expert,
        meeting=meeting,
        invitation=meeting.invitations.get(person=world.users["kol_a"].person),
        draft=draft,
        topic=topic,
        agenda_item=agenda_item,
    )
    return world
