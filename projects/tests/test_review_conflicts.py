"""Conflicts of interest hold at every read and write of a review, not only at the assignment."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from members.tests.factories import OrganisationFactory
from projects import services
from projects.models import Partner, Project, Review
from projects.tests.factories import reviewer_for
from projects.workflow import TransitionRefused

pytestmark = pytest.mark.django_db
S = Project.Status
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCORES = dict.fromkeys(Review.CRITERIA, 4)


@pytest.fixture
def under_review(project, owner, staff):
    services.attachment_add(project=project, upload=SimpleUploadedFile("business-plan.pdf", PDF), by=owner)
    services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    services.project_transition(project=project, to=S.UNDER_REVIEW, by=staff)
    return project


@pytest.fixture
def ge_healthcare(db):
    return OrganisationFactory(name="GE Healthcare SAS")


@pytest.fixture
def kol_at_ge_healthcare(under_review, ge_healthcare):
    """A board member of the proposal's DAS who works for an organisation outside the consortium."""
    return reviewer_for(under_review.primary_area, organisation=ge_healthcare)


def _join_consortium(project, organisation, owner, staff):
    """Staff ask for more information; the applicants add `organisation` and resubmit."""
    services.project_transition(project=project, to=S.INFO_REQUESTED, by=staff, comment="Add a clinical partner.")
    Partner.objects.filter(project=project, role="partner").update(budget_share=20)
    Partner.objects.create(project=project, organisation=organisation, role="partner", budget_share=20, position=9)
    services.project_transition(project=project, to=S.RESUBMITTED, by=owner)


def test_a_submitted_review_whose_reviewer_joined_the_consortium_no_longer_counts_for_the_label(
    under_review, kol_at_ge_healthcare, ge_healthcare, owner, staff
):
    review = services.review_assign(project=under_review, reviewer=kol_at_ge_healthcare.person, by=staff)
    services.review_submit(
        review=review, by=kol_at_ge_healthcare, scores=SCORES, recommendation="label", comments="Good."
    )
    _join_consortium(under_review, ge_healthcare, owner, staff)

    with pytest.raises(TransitionRefused):
        services.project_transition(project=under_review, to=S.LABELLED, by=staff)

    assert Project.objects.get(pk=under_review.pk).status == S.RESUBMITTED


def test_a_reviewer_whose_organisation_joined_the_consortium_cannot_submit(
    client, under_review, kol_at_ge_healthcare, ge_healthcare, owner, staff
):
    review = services.review_assign(project=under_review, reviewer=kol_at_ge_healthcare.person, by=staff)
    _join_consortium(under_review, ge_healthcare, owner, staff)
    client.force_login(kol_at_ge_healthcare)

    client.post(f"/projects/reviews/{review.pk}/submit/", {**SCORES, "recommendation": "label"})

    review.refresh_from_db()
    assert review.state == Review.State.ASSIGNED
    assert review.score_innovation is None
    with pytest.raises(ValidationError):
        services.review_submit(
            review=review, by=kol_at_ge_healthcare, scores=SCORES, recommendation="label", comments=""
        )


def test_the_review_page_of_a_reviewer_in_conflict_shows_nothing_of_the_proposal(
    client, under_review, kol_at_ge_healthcare, ge_healthcare, owner, staff
):
    review = services.review_assign(project=under_review, reviewer=kol_at_ge_healthcare.person, by=staff)
    _join_consortium(under_review, ge_healthcare, owner, staff)
    client.force_login(kol_at_ge_healthcare)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    text = client.get(f"/projects/reviews/{review.pk}/").content.decode()

    assert "set aside" in text
    for secret in (under_review.summary, under_review.objectives, "business-plan.pdf", "MedTech Partner SAS"):
        assert secret not in text
    assert 'id="review-form"' not in text


def test_the_review_page_after_a_declared_conflict_shows_nothing_of_the_proposal(client, under_review, staff):
    kol_at_ge_healthcare = reviewer_for(under_review.primary_area)
    review = services.review_assign(project=under_review, reviewer=kol_at_ge_healthcare.person, by=staff)
    services.review_declare_conflict(review=review, by=kol_at_ge_healthcare, reason="I advise the lead.")
    client.force_login(kol_at_ge_healthcare)

    text = client.get(f"/projects/reviews/{review.pk}/").content.decode()

    for secret in (under_review.summary, under_review.objectives, "business-plan.pdf", "MedTech Partner SAS", "40 %"):
        assert secret not in text
    attachment = under_review.attachments.get()
    assert client.get(f"/projects/{under_review.pk}/attachments/{attachment.pk}/").status_code == 404
    assert client.get(f"/projects/{under_review.pk}/").status_code == 404


def test_staff_see_a_review_set_aside_for_a_conflict_on_the_manage_page(
    client, under_review, kol_at_ge_healthcare, ge_healthcare, owner, staff
):
    review = services.review_assign(project=under_review, reviewer=kol_at_ge_healthcare.person, by=staff)
    services.review_submit(
        review=review, by=kol_at_ge_healthcare, scores=SCORES, recommendation="label", comments="Good."
    )
    _join_consortium(under_review, ge_healthcare, owner, staff)
    client.force_login(staff)

    text = client.get(f"/projects/{under_review.pk}/manage/").content.decode()

    assert 'data-set-aside="' + str(review.pk) + '"' in text
    assert "GE Healthcare SAS" in text


def test_the_review_form_shows_what_is_scored(client, under_review, kol_at_ge_healthcare, staff):
    review = services.review_assign(project=under_review, reviewer=kol_at_ge_healthcare.person, by=staff)
    client.force_login(kol_at_ge_healthcare)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    text = client.get(f"/projects/reviews/{review.pk}/").content.decode()

    for shown in ("2,000,000.00", "900,000.00", "3 → 6", "36 months", "Bpifrance", "i-Nov", "MedTech Partner SAS",
                  "35 %", "The proposal meets the submission rules.", "business-plan.pdf"):  # fmt: skip
        assert shown in text, shown


def test_the_assigned_reviewer_downloads_the_attachments_and_another_board_member_does_not(
    client, under_review, kol_at_ge_healthcare, staff
):
    services.review_assign(project=under_review, reviewer=kol_at_ge_healthcare.person, by=staff)
    other = reviewer_for(under_review.primary_area)
    attachment = under_review.attachments.get()
    url = f"/projects/{under_review.pk}/attachments/{attachment.pk}/"

    client.force_login(kol_at_ge_healthcare)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    client.force_login(other)
    assert client.get(url).status_code == 404
