"""One answer to "who sees which proposal": the object checks, the pages and the list agree with
permissions.visible_proposals for every kind of user (issue 13, item 6)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile

from das.tests.factories import MandateFactory
from members.tests.factories import OrganisationFactory
from projects import permissions, services
from projects.area_section import area_projects_section
from projects.models import Project, Review
from projects.tests.factories import ProjectFactory, eligible_consortium, reviewer_for

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
ROLES = ["owner", "colleague", "outsider", "reviewer", "reviewer_declared", "reviewer_tied", "staff", "anonymous"]


@pytest.fixture
def world(project, owner, colleague, outsider, staff):
    """The owner's proposal under review with three reviewers: one plain, one who declared a conflict,
    one whose mandate sits for a partner organisation (a conflict found, not declared); and the
    outsider's own proposal, which nobody else here may see."""
    services.attachment_add(project=project, upload=SimpleUploadedFile("plan.pdf", PDF), by=owner)
    Project.objects.filter(pk=project.pk).update(status=Project.Status.UNDER_REVIEW)
    project.refresh_from_db()
    users = {"owner": owner, "colleague": colleague, "outsider": outsider, "staff": staff, "anonymous": AnonymousUser()}
    for role in ("reviewer", "reviewer_declared", "reviewer_tied"):
        users[role] = reviewer_for(project.primary_area, organisation=OrganisationFactory())
        services.review_assign(project=project, reviewer=users[role].person, by=staff)
    review = Review.objects.get(project=project, reviewer=users["reviewer_declared"].person)
    services.review_declare_conflict(review=review, by=users["reviewer_declared"], reason="I advise the lead.")
    partner = project.partners.exclude(organisation=project.lead_organisation).first().organisation
    MandateFactory(
        person=users["reviewer_tied"].person,
        area=project.primary_area,
        organisation=partner,
        start_date=datetime.date(2020, 1, 1),
    )
    theirs = ProjectFactory(lead_organisation=outsider.person.organisation, proposer=outsider)
    eligible_consortium(theirs)
    return {"users": users, "mine": project, "theirs": theirs}


EXPECTED = {
    "owner": {"mine"},
    "colleague": {"mine"},
    "outsider": {"theirs"},
    "reviewer": {"mine"},
    "reviewer_declared": set(),
    "reviewer_tied": set(),
    "staff": {"mine", "theirs"},
    "anonymous": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_the_object_check_the_list_and_the_expected_proposals_agree(world, role):
    user = world["users"][role]
    every = list(Project.objects.all())
    names = {world["mine"].pk: "mine", world["theirs"].pk: "theirs"}

    by_check = {names[p.pk] for p in every if permissions.can_view_project(user, p)}
    by_list = {names[p.pk] for p in permissions.visible_proposals(user)}

    assert by_check == by_list == EXPECTED[role]
    attachments = {a.project_id for a in permissions.visible_attachments(user)}
    assert attachments == {world["mine"].pk} & {p.pk for p in permissions.visible_proposals(user)}


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_the_pages_and_the_list_page_show_what_visible_proposals_holds(client, world, role):
    user = world["users"][role]
    client.force_login(user)
    visible = set(permissions.visible_proposals(user))

    listed = client.get("/projects/").content.decode()
    for project in (world["mine"], world["theirs"]):
        assert (client.get(f"/projects/{project.pk}/").status_code == 200) == (project in visible)
        assert (project.title in listed) == (project in visible)
        attachment = project.attachments.first()
        if attachment is not None:
            page = client.get(f"/projects/{project.pk}/attachments/{attachment.pk}/")
            assert (page.status_code == 200) == (project in visible)


@pytest.mark.parametrize("role", ROLES)
def test_the_das_page_links_the_labelled_projects_the_user_may_open(rf, world, role):
    user = world["users"][role]
    Project.objects.update(status=Project.Status.LABELLED)
    request = rf.get("/")
    request.user = user

    section = area_projects_section(request=request, area=world["mine"].primary_area, day=datetime.date.today())

    assert section["links"] == set(
        permissions.visible_proposals(user).filter(primary_area=world["mine"].primary_area).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("role", ROLES)
def test_a_review_is_visible_to_its_reviewer_and_staff_and_its_page_to_its_reviewer_only(client, world, role):
    user = world["users"][role]
    every = list(Review.objects.all())

    by_check = {r.pk for r in every if permissions.can_view_review(user, r)}

    assert by_check == {r.pk for r in permissions.visible_reviews(user)}
    person = getattr(user, "person", None) if user.is_authenticated else None
    expected = (
        {r.pk for r in every} if role == "staff" else {r.pk for r in every if person and r.reviewer_id == person.pk}
    )
    assert by_check == expected
    if user.is_authenticated:
        client.force_login(user)
        for review in every:
            mine = person is not None and review.reviewer_id == person.pk
            assert (client.get(f"/projects/reviews/{review.pk}/").status_code == 200) == mine
