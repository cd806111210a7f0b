"""Reviewers come from the DAS governance; conflicts of interest exclude; applicants never see who scored."""

import pytest
from django.core.exceptions import ValidationError

from das.tests.factories import StrategicAreaFactory
from projects import services
from projects.models import Project, Review
from projects.selectors import reviewer_candidates
from projects.tests.factories import reviewer_for

pytestmark = pytest.mark.django_db
S = Project.Status


@pytest.fixture
def under_review(project, owner, staff):
    services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    services.project_transition(project=project, to=S.UNDER_REVIEW, by=staff)
    return project


def test_a_reviewer_whose_organisation_is_in_the_consortium_is_excluded(under_review, staff):
    hospital = under_review.partners.get(organisation__category="hospital").organisation
    conflicted = reviewer_for(under_review.primary_area, organisation=hospital)

    with pytest.raises(ValidationError, match="onfli"):
        services.review_assign(project=under_review, reviewer=conflicted.person, by=staff)

    assert not Review.objects.exists()
    candidate = next(c for c in reviewer_candidates(under_review) if c.person == conflicted.person)
    assert candidate.excluded_because


def test_the_proposers_own_organisation_is_a_conflict_too(under_review, staff):
    conflicted = reviewer_for(under_review.primary_area, organisation=under_review.lead_organisation)

    with pytest.raises(ValidationError):
        services.review_assign(project=under_review, reviewer=conflicted.person, by=staff)


def test_only_the_governance_of_the_proposals_area_may_review(under_review, staff):
    elsewhere = reviewer_for(StrategicAreaFactory(code="imaging-x"))

    with pytest.raises(ValidationError):
        services.review_assign(project=under_review, reviewer=elsewhere.person, by=staff)
    assert elsewhere.person not in [c.person for c in reviewer_candidates(under_review)]


def test_a_reviewer_can_declare_a_conflict_and_then_no_longer_sees_the_proposal(client, under_review, staff):
    kol = reviewer_for(under_review.primary_area)
    review = services.review_assign(project=under_review, reviewer=kol.person, by=staff)
    client.force_login(kol)

    response = client.post(f"/projects/reviews/{review.pk}/conflict/", {"reason": "I advise the lead."})

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == Review.State.CONFLICT
    assert review.conflict_reason == "I advise the lead."
    assert client.get(f"/projects/{under_review.pk}/").status_code == 404


def test_a_reviewer_scores_the_five_criteria(client, under_review, staff):
    kol = reviewer_for(under_review.primary_area)
    review = services.review_assign(project=under_review, reviewer=kol.person, by=staff)
    client.force_login(kol)
    data = {"score_innovation": 5, "score_impact": 4, "score_consortium": 3,
            "score_feasibility": 4, "score_market": 0, "recommendation": "label", "comments": "Solid."}  # fmt: skip

    client.post(f"/projects/reviews/{review.pk}/submit/", data)

    review.refresh_from_db()
    assert review.state == Review.State.SUBMITTED
    assert review.total_score == 16
    assert review.recommendation == "label"


def test_a_score_above_five_is_refused(client, under_review, staff):
    kol = reviewer_for(under_review.primary_area)
    review = services.review_assign(project=under_review, reviewer=kol.person, by=staff)
    client.force_login(kol)
    data = {"score_innovation": 6, "score_impact": 4, "score_consortium": 3,
            "score_feasibility": 4, "score_market": 1, "recommendation": "label"}  # fmt: skip

    client.post(f"/projects/reviews/{review.pk}/submit/", data)

    review.refresh_from_db()
    assert review.state == Review.State.ASSIGNED


def test_a_reviewer_cannot_open_another_reviewers_review(client, under_review, staff):
    first = reviewer_for(under_review.primary_area)
    second = reviewer_for(under_review.primary_area)
    review = services.review_assign(project=under_review, reviewer=first.person, by=staff)
    client.force_login(second)

    assert client.get(f"/projects/reviews/{review.pk}/").status_code == 404


def test_applicants_see_shared_comments_but_never_reviewer_names_or_scores(client, under_review, staff, owner):
    kol = reviewer_for(under_review.primary_area)
    kol.person.last_name = "Vilgrain"
    kol.person.save()
    review = services.review_assign(project=under_review, reviewer=kol.person, by=staff)
    services.review_submit(review=review, by=kol, scores=dict.fromkeys(Review.CRITERIA, 3),
                           recommendation="label", comments="Clarify the regulatory pathway.")  # fmt: skip
    services.review_share_comments(review=review, by=staff, shared=True)
    services.project_transition(project=under_review, to=S.LABELLED, by=staff, comment="Labelled by the board.")
    client.force_login(owner)

    text = client.get(f"/projects/{under_review.pk}/").content.decode()

    assert "Clarify the regulatory pathway." in text
    assert "Labelled by the board." in text
    assert "Vilgrain" not in text
    assert "15/25" not in text
    assert kol.email not in text
    assert client.get(f"/projects/{under_review.pk}/manage/").status_code == 404


def test_unshared_comments_stay_with_staff(client, under_review, staff, owner):
    kol = reviewer_for(under_review.primary_area)
    review = services.review_assign(project=under_review, reviewer=kol.person, by=staff)
    services.review_submit(review=review, by=kol, scores=dict.fromkeys(Review.CRITERIA, 3),
                           recommendation="label", comments="Internal remark.")  # fmt: skip
    client.force_login(owner)

    assert "Internal remark." not in client.get(f"/projects/{under_review.pk}/").content.decode()
    client.force_login(staff)
    assert "Internal remark." in client.get(f"/projects/{under_review.pk}/manage/").content.decode()


def test_reviewers_are_assigned_only_while_the_proposal_is_with_the_cluster(project, staff):
    kol = reviewer_for(project.primary_area)

    with pytest.raises(ValidationError):
        services.review_assign(project=project, reviewer=kol.person, by=staff)  # still a draft
