"""Data protection across the apps: a person's data export, anonymisation, public pages, draft retention.

Here in projects because these tests touch every app (projects may import das and members).
"""

from __future__ import annotations

import datetime
import json

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from das.tests.factories import MandateFactory, StrategicAreaFactory
from meetings import engine
from meetings import services as meeting_services
from meetings.models import CalendarFeed, Delivery, Invitation, Meeting
from meetings.services import calendar_feed_for
from members.models import MembershipYear, Organisation, Person, User
from members.selectors import membership_mix
from members.services import person_anonymise
from members.tests.factories import MembershipYearFactory, OrganisationFactory, PersonFactory, UserFactory
from outbox.models import Message
from projects import services
from projects.models import Attachment, Notification, Project, Review
from projects.selectors import impact_figures
from projects.tasks import purge_stale_drafts
from projects.tests.factories import ProjectFactory, contact, granted_decision

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _meeting(*, people, days=30) -> Meeting:
    starts = timezone.now() + datetime.timedelta(days=days)
    meeting = meeting_services.meeting_create(
        title="Comité des KOL",
        committee=Meeting.Committee.KOL_COMMITTEE,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        place="Medicen, Paris",
        invite_default=False,
    )
    meeting_services.invitations_add(meeting=meeting, people=people)
    return meeting


@pytest.fixture
def leaver(project, owner):
    """`owner` (proposer of `project`), also consortium contact, reviewer of another proposal,
    former vice-president of a DAS, invited to a meeting they accepted, with a calendar feed."""
    person = owner.person
    person.is_primary_contact = person.is_billing_contact = True
    person.position = "CEO"
    # A name no factory makes, so "not in the audit log" cannot be fooled by a namesake.
    person.last_name = "Quenouillère-Zabrowski"
    person.save()
    partner = project.partners.get(organisation=project.lead_organisation)
    partner.contact_name, partner.contact_email = person.full_name, person.email
    partner.save()
    other = ProjectFactory(title="Another proposal")
    Review.objects.create(project=other, reviewer=person, comments="Strong consortium.", score_impact=4)
    ended = datetime.date(2024, 1, 1)
    MandateFactory(person=person, area=StrategicAreaFactory(), start_date=datetime.date(2019, 10, 10), end_date=ended)
    meeting = _meeting(people=[person])
    invitation = Invitation.objects.get(meeting=meeting, person=person)
    invitation.response = Invitation.Response.ACCEPTED
    invitation.save()
    calendar_feed_for(person=person)
    return person


# --- The export -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_data_needs_a_login(client):
    response = client.get(reverse("my_data"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_person_downloads_everything_the_portal_holds_about_them_and_nothing_of_others(
    client, leaver, owner, partner, project
):
    partner.person.last_name = "Colleaguesson"
    partner.person.save()
    client.force_login(owner)

    response = client.get(reverse("my_data"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="medicen-my-data-')
    data = json.loads(response.content)
    assert data["user"]["email"] == owner.email
    assert "password" not in json.dumps(data["user"])
    assert data["person"]["last_name"] == leaver.last_name
    assert data["person"]["position"] == "CEO"
    assert data["contact_roles"] == {"primary": True, "billing": True, "scientific": False, "communication": False}
    assert data["organisation"]["name"] == "Oncox Devices SAS"
    assert [m["end_date"] for m in data["mandates"]] == ["2024-01-01"]
    assert [(i["meeting"], i["answer"]) for i in data["meeting_invitations"]] == [("Comité des KOL", "accepted")]
    assert data["calendar_feed"] is True
    assert [p["title"] for p in data["proposals"]] == [project.title]
    assert data["proposals"][0]["proposer"] is True
    assert [c["contact_email"] for c in data["consortium_contacts"]] == [owner.email]
    assert [(r["proposal"], r["comments"]) for r in data["reviews_written"]] == [
        ("Another proposal", "Strong consortium.")
    ]
    assert "Colleaguesson" not in response.content.decode()
    assert partner.email not in response.content.decode()


@pytest.mark.django_db
def test_a_login_without_a_person_record_gets_its_account_fields(client):
    staff = UserFactory(is_staff=True, email="staff-only@medicen.example")
    client.force_login(staff)
    data = json.loads(client.get(reverse("my_data")).content)
    assert data["user"]["email"] == "staff-only@medicen.example"
    assert "person" not in data


# --- Anonymisation --------------------------------------------------------------------------


def _figures():
    impact = impact_figures()
    return {
        "impact": (impact.overall, impact.by_area, impact.by_year, impact.by_scope),
        "mix": dict(membership_mix()),
        "organisations": Organisation.objects.count(),
        "active": Organisation.objects.active().count(),
        "people": Person.objects.count(),
        "membership_years": sorted(MembershipYear.objects.values_list("organisation_id", "year", "status")),
        "reviews": Review.objects.count(),
        "invitations": sorted(Invitation.objects.values_list("meeting_id", "response", "attended")),
        "projects": sorted(Project.objects.values_list("pk", "status")),
    }


@pytest.mark.django_db
def test_anonymising_a_person_removes_their_identity_and_keeps_every_figure(leaver, owner, project, staff):
    funded = ProjectFactory(lead_organisation=project.lead_organisation, status=Project.Status.FUNDED)
    granted_decision(funded, granted="1234567")
    MembershipYearFactory(organisation=project.lead_organisation, year=2026)
    old_email, old_name = leaver.email, leaver.last_name
    cache.clear()
    before = _figures()

    person_anonymise(person=leaver, by=staff)

    cache.clear()  # the membership mix is cached: recompute it from the rows
    assert _figures() == before
    leaver.refresh_from_db()
    identity = (leaver.first_name, leaver.last_name, leaver.email, leaver.position)
    assert identity == ("Anonymised", f"#{leaver.pk}", "", "")
    assert leaver.roles == []
    assert leaver.anonymised_at is not None
    assert leaver.organisation == project.lead_organisation  # the membership history stays
    owner.refresh_from_db()
    assert owner.is_active is False
    assert owner.email == f"anonymised-{owner.pk}@anonymised.invalid"
    assert not owner.has_usable_password()
    assert not CalendarFeed.objects.filter(person=leaver).exists()
    partner = project.partners.get(organisation=project.lead_organisation)
    assert (partner.contact_name, partner.contact_email) == ("", "")
    assert Review.objects.get(reviewer=leaver).comments == "Strong consortium."  # the review stays, anonymous
    assert not Invitation.objects.filter(email=old_email).exists()
    assert not Delivery.objects.filter(email=old_email).exists()
    assert Person.objects.filter(last_name=old_name).count() == 0


@pytest.mark.django_db
def test_an_anonymised_person_no_longer_shows_among_the_organisations_contacts(client, leaver, colleague, staff):
    organisation = leaver.organisation
    remaining = contact(organisation)
    person_anonymise(person=leaver, by=staff)
    client.force_login(remaining)

    html = client.get(reverse("members:membership", args=[organisation.slug])).content.decode()

    assert remaining.email in html
    assert "Anonymised" not in html


@pytest.mark.django_db
def test_pending_emails_to_an_anonymised_person_are_skipped_and_meeting_updates_leave_them_out(leaver, staff):
    deliveries = Delivery.objects.filter(invitation__person=leaver).with_status()
    assert deliveries.filter(status=Delivery.Status.PENDING).exists()
    enqueued = list(deliveries.exclude(message=None).values_list("message_id", flat=True))
    assert enqueued  # the invitation was handed to the outbox and is waiting for a sender

    person_anonymise(person=leaver, by=staff)

    assert set(deliveries.values_list("status", "skip_reason")) == {(Delivery.Status.SKIPPED, engine.REASON_ANONYMISED)}
    assert set(Message.objects.filter(pk__in=enqueued).values_list("status", flat=True)) == {"cancelled"}
    meeting = Meeting.objects.get()
    meeting_services.meeting_update(meeting=meeting, place="Hôpital Cochin")
    assert not deliveries.filter(kind=Delivery.Kind.UPDATE).exists()


@pytest.mark.django_db
def test_the_audit_log_keeps_who_changed_what_but_not_the_old_values(client, leaver, staff):
    client.force_login(staff)
    # A change through the admin, as staff make them: recorded with its old and new values.
    leaver.position = "Chief Executive"
    leaver.save()
    person_type = ContentType.objects.get_for_model(Person)
    entries = LogEntry.objects.filter(content_type=person_type, object_pk=str(leaver.pk))
    assert any("Chief Executive" in json.dumps(e.changes) for e in entries)
    old_email, old_name = leaver.email, leaver.last_name
    count_before = entries.count()

    person_anonymise(person=leaver, by=staff)

    assert entries.count() == count_before  # the anonymisation itself leaves no values behind
    dumped = json.dumps(list(LogEntry.objects.values("changes", "changes_text", "object_repr", "serialized_data")))
    assert old_email not in dumped
    assert old_name not in dumped
    assert "Chief Executive" not in dumped
    assert any("position" in (e.changes or {}) for e in entries)  # which field changed is kept


@pytest.mark.django_db
def test_anonymising_is_refused_while_the_person_holds_a_current_mandate(staff):
    person = MandateFactory(start_date=datetime.date(2019, 10, 10)).person
    with pytest.raises(ValidationError):
        person_anonymise(person=person, by=staff)
    person.refresh_from_db()
    assert person.anonymised_at is None


@pytest.mark.django_db
def test_anonymising_twice_changes_nothing_more(leaver, staff):
    first = person_anonymise(person=leaver, by=staff)
    second = person_anonymise(person=leaver, by=staff)
    assert first.anonymised_at == second.anonymised_at


@pytest.mark.django_db
def test_an_anonymised_person_can_no_longer_log_in_and_gets_no_applicant_email(
    client, leaver, owner, project, staff, mailoutbox
):
    from members.tests.factories import UserFactory
    from outbox import services as outbox

    colleague = UserFactory(is_staff=True, email="colleague@medicen.example")
    services.project_transition(project=project, to=Project.Status.SUBMITTED, by=owner)
    outbox.scan(send=outbox.send_synchronously())
    mailoutbox.clear()
    person_anonymise(person=leaver, by=staff)

    login = client.post(reverse("login"), {"username": owner.email, "password": "correct-horse-battery"})
    assert login.status_code == 200  # the form again: refused
    assert "_auth_user_id" not in client.session
    services.project_transition(project=project, to=Project.Status.UNDER_REVIEW, by=staff)
    outbox.scan(send=outbox.send_synchronously())
    assert [m.to for m in mailoutbox] == [[colleague.email]]
    assert not Notification.objects.filter(audience=Notification.Audience.APPLICANT, event__to_status="under_review")


@pytest.mark.django_db
def test_staff_anonymise_from_the_admin_after_a_confirmation_page(admin_client, leaver):
    url = reverse("admin:members_person_changelist")
    post = {"action": "anonymise", "_selected_action": [leaver.pk]}

    confirm = admin_client.post(url, post)
    assert confirm.status_code == 200
    assert "Yes, anonymise them" in confirm.content.decode() or "anonymiser" in confirm.content.decode()
    leaver.refresh_from_db()
    assert leaver.anonymised_at is None  # nothing happens before the confirmation

    done = admin_client.post(url, {**post, "confirm": "yes"})
    assert done.status_code == 302
    leaver.refresh_from_db()
    assert leaver.anonymised_at is not None


# --- Public pages never show contacts' e-mails ------------------------------------------------


@pytest.mark.django_db
def test_contacts_emails_never_appear_on_the_directory_or_an_organisation_page(client):
    organisation = OrganisationFactory(name="Listed Medtech", directory_opt_in=True)
    PersonFactory(organisation=organisation, email="hidden.contact@listed.example", is_primary_contact=True)
    outsider = UserFactory(email="outsider@elsewhere.example")
    PersonFactory(user=outsider, organisation=OrganisationFactory(), email=outsider.email)

    for login in (None, outsider):
        if login:
            client.force_login(login)
        pages = [
            client.get(reverse("members:directory")),
            client.get(reverse("members:directory"), {"q": "Listed"}),
            client.get(reverse("members:organisation", args=[organisation.slug])),
        ]
        for page in pages:
            assert page.status_code == 200
            assert "Listed Medtech" in page.content.decode()
            assert "hidden.contact@listed.example" not in page.content.decode()


# --- Retention of drafts never submitted -------------------------------------------------------


def _age(project: Project, days: int) -> None:
    # updated_at is auto_now: move the clock back by writing it directly.
    Project.objects.filter(pk=project.pk).update(updated_at=timezone.now() - datetime.timedelta(days=days))


@pytest.mark.django_db(transaction=True)
def test_drafts_never_submitted_are_deleted_with_their_files_after_the_retention_period(
    settings, owner, django_capture_on_commit_callbacks
):
    settings.PROJECTS_DRAFT_RETENTION_DAYS = 365
    organisation = owner.person.organisation
    old_draft = ProjectFactory(lead_organisation=organisation, proposer=owner, title="Forgotten draft")
    attachment = services.attachment_add(
        project=old_draft, upload=SimpleUploadedFile("plan.pdf", PDF, content_type="application/pdf"), by=owner
    )
    path = attachment.file.path
    recent_draft = ProjectFactory(lead_organisation=organisation, proposer=owner, title="Recent draft")
    old_submitted = ProjectFactory(
        lead_organisation=organisation, status=Project.Status.SUBMITTED, submitted_at=timezone.now()
    )
    for project, days in ((old_draft, 400), (recent_draft, 300), (old_submitted, 800)):
        _age(project, days)

    assert purge_stale_drafts.apply().get() == 1

    assert sorted(Project.objects.values_list("title", flat=True)) == sorted([recent_draft.title, old_submitted.title])
    assert not Attachment.objects.exists()
    import os

    assert not os.path.exists(path)
    assert purge_stale_drafts.apply().get() == 0  # idempotent

    # The clock moves on: the recent draft's turn comes once it is older than the period.
    _age(recent_draft, 366)
    assert purge_stale_drafts.apply().get() == 1
    assert list(Project.objects.values_list("title", flat=True)) == [old_submitted.title]


@pytest.mark.django_db
def test_a_draft_that_was_submitted_once_is_never_purged(owner, staff):
    project = ProjectFactory(lead_organisation=owner.person.organisation, proposer=owner)
    Project.objects.filter(pk=project.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=800))
    _age(project, 800)
    assert services.drafts_purge(now=timezone.now(), days=365) == 0
    assert Project.objects.filter(pk=project.pk).exists()


@pytest.mark.django_db
def test_the_purge_runs_daily_from_the_settings(settings):
    assert settings.CELERY_BEAT_SCHEDULE["projects-purge-stale-drafts"]["task"] == "projects.purge_stale_drafts"
    assert settings.PROJECTS_DRAFT_RETENTION_DAYS >= 1


@pytest.mark.django_db
def test_every_model_pointing_at_a_person_or_a_login_is_covered_by_the_export():
    """A new model holding someone's data must be added to a personal_data() selector (and here)."""
    from django.apps import apps

    covered = {
        "members.Person",
        "das.Mandate",
        "meetings.Invitation",
        "meetings.Topic",
        "meetings.TopicVote",
        "meetings.CalendarFeed",
        "projects.Project",
        "projects.Review",
        "projects.Attachment",
        "projects.Notification",
        "calls.Unsubscription",
    }
    # Records of who did something on the staff side, not data about them.
    staff_side = {
        "projects.ProjectEvent",
        "projects.Review.assigned_by",
        "projects.DeadlineExtension.by",
        "members.ImportJob.created_by",
        "members.Invoice.issued_by",
        "members.Payment.recorded_by",
        "members.FeeCall.launched_by",
        "committees.Session.created_by",
        "committees.Item.decided_by",
        "members.MembershipApplication.decided_by",
    }
    found = set()
    for model in apps.get_models():
        if model._meta.app_label not in {"members", "das", "calls", "projects", "committees"}:
            continue
        for field in model._meta.get_fields():
            points_at_someone = (
                field.concrete
                and field.is_relation
                and (field.many_to_one or field.one_to_one)
                and field.related_model in (Person, User)
            )
            label = f"{model._meta.app_label}.{model.__name__}"
            if points_at_someone and label not in staff_side and f"{label}.{field.name}" not in staff_side:
                found.add(label)
    assert found <= covered, found - covered
