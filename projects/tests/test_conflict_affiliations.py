"""Conflict of interest from membership data: a mandate's affiliation linked to a member organisation counts."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from das.models import Mandate, StrategicArea
from das.services import governance_load
from members.models import Organisation
from members.tests.factories import OrganisationFactory, UserFactory
from projects import services
from projects.models import Partner, Project, Review
from projects.selectors import reviewer_candidates, reviewer_exclusion_reason
from projects.tests.factories import ProjectFactory, eligible_consortium

pytestmark = pytest.mark.django_db
S = Project.Status


@pytest.fixture
def ge_healthcare():
    return OrganisationFactory(name="GE Healthcare", category=Organisation.Category.LARGE)


@pytest.fixture
def kotian(ge_healthcare):
    governance_load()  # links his imaging mandate to the member "GE Healthcare"
    person = Mandate.objects.get(person__last_name="Kotian").person
    person.user = UserFactory()
    person.organisation = None  # as the former loader left people: only the mandate says GE Healthcare
    person.save()
    return person


def _imaging_proposal(owner, staff, *, with_partner=None) -> Project:
    project = ProjectFactory(
        lead_organisation=owner.person.organisation,
        proposer=owner,
        primary_area=StrategicArea.objects.get(code="imaging"),
    )
    eligible_consortium(project)
    if with_partner is not None:
        # In place of the partner of the same kind (company or research), so it stays eligible.
        same_kind = [p for p in project.partners.filter(role="partner") if p.is_company == with_partner.is_company]
        share = same_kind[0].budget_share
        same_kind[0].delete()
        Partner.objects.create(project=project, organisation=with_partner, role="partner", budget_share=share)
    services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    services.project_transition(project=project, to=S.UNDER_REVIEW, by=staff)
    return project


def test_francois_kotian_of_ge_healthcare_is_excluded_from_a_proposal_with_ge_healthcare(
    kotian, ge_healthcare, owner, staff
):
    assert kotian.organisation_id is None
    project = _imaging_proposal(owner, staff, with_partner=ge_healthcare)

    with pytest.raises(ValidationError, match="GE Healthcare"):
        services.review_assign(project=project, reviewer=kotian, by=staff)

    assert not Review.objects.exists()
    candidate = next(c for c in reviewer_candidates(project) if c.person == kotian)
    assert "GE Healthcare" in candidate.excluded_because


def test_francois_kotian_may_review_a_proposal_without_ge_healthcare(kotian, owner, staff):
    project = _imaging_proposal(owner, staff)

    assert reviewer_exclusion_reason(project, kotian) is None
    assert services.review_assign(project=project, reviewer=kotian, by=staff).reviewer == kotian


def test_an_affiliation_staff_link_in_the_admin_counts_too(owner, staff):
    governance_load()  # no member is called "Université Paris Descartes / ESR": not linked
    frija = Mandate.objects.get(person__last_name="Frija")
    frija.person.user = UserFactory()
    frija.person.save()
    university = OrganisationFactory(name="Université Paris Cité", category=Organisation.Category.UNIVERSITY)
    project = _imaging_proposal(owner, staff, with_partner=university)
    assert reviewer_exclusion_reason(project, frija.person) is None

    frija.organisation = university
    frija.save()

    assert "Université Paris Cité" in reviewer_exclusion_reason(project, frija.person)


def test_an_ended_mandate_no_longer_makes_a_conflict(kotian, ge_healthcare, owner, staff):
    import datetime

    project = _imaging_proposal(owner, staff, with_partner=ge_healthcare)
    Mandate.objects.filter(person=kotian).update(end_date=datetime.date(2020, 1, 1))

    reason = reviewer_exclusion_reason(project, kotian)

    assert "GE Healthcare" not in reason  # no conflict now; he is simply no longer on the board


def test_a_reviewer_whose_mandate_organisation_joins_the_consortium_after_assignment_sees_and_counts_nothing(
    client, kotian, ge_healthcare, owner, staff
):
    """Issue 12 item 1 through membership data: Kotian holds no contact role at GE Healthcare (only
    his mandate links him to it), so nothing but the conflict rule stands between him and the proposal."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    project = _imaging_proposal(owner, staff)
    services.project_transition(project=project, to=S.INFO_REQUESTED, by=staff, comment="Add a partner.")
    attachment = services.attachment_add(
        project=project, upload=SimpleUploadedFile("annex.pdf", b"%PDF-1.4\n%%EOF\n"), by=owner
    )
    services.project_transition(project=project, to=S.RESUBMITTED, by=owner)
    review = services.review_assign(project=project, reviewer=kotian, by=staff)
    client.force_login(kotian.user)
    assert client.get(f"/projects/{project.pk}/").status_code == 200  # before: he reviews it
    services.review_submit(review=review, by=kotian.user, scores=dict.fromkeys(Review.CRITERIA, 5),
                           recommendation="label", comments="")  # fmt: skip

    # The applicants put GE Healthcare in the consortium (in place of the company partner) and resubmit.
    services.project_transition(project=project, to=S.INFO_REQUESTED, by=staff, comment="Another company.")
    company = project.partners.get(role="partner", organisation__category=Organisation.Category.SME)
    Partner.objects.filter(pk=company.pk).update(organisation=ge_healthcare)
    services.project_transition(project=project, to=S.RESUBMITTED, by=owner)

    assert client.get(f"/projects/{project.pk}/").status_code == 404
    assert client.get(f"/projects/{project.pk}/attachments/{attachment.pk}/").status_code == 404
    page = client.get(f"/projects/reviews/{review.pk}/").content.decode()
    for secret in (project.summary, project.objectives, "annex.pdf", "GE Healthcare"):
        assert secret not in page
    from projects.selectors import counting_reviews

    assert counting_reviews(project) == []
    client.force_login(staff)
    assert f'data-set-aside="{review.pk}"' in client.get(f"/projects/{project.pk}/manage/").content.decode()
