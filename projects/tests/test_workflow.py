"""The transition table: every allowed move works for its role, every other move is refused."""

import itertools
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from projects import services
from projects.models import Notification, Project, ProjectEvent, Review
from projects.tests.factories import granted_decision, reviewer_for
from projects.workflow import APPLICANT, STAFF, TRANSITIONS, ConcurrentUpdate, InvalidTransition, TransitionRefused

pytestmark = pytest.mark.django_db
S = Project.Status


def _prepare(project, to, staff):
    """Make the conditions of the move true, as a real proposal would have them."""
    if to == S.LABELLED:
        reviewer = reviewer_for(project.primary_area)
        Review.objects.create(
            project=project,
            reviewer=reviewer.person,
            state=Review.State.SUBMITTED,
            recommendation="label",
            **dict.fromkeys(Review.CRITERIA, 4),
        )
    if to == S.FUNDED:
        granted_decision(project)


def _actor(role, owner, staff):
    return owner if role == APPLICANT else staff


@pytest.mark.parametrize(("from_status", "to"), sorted(TRANSITIONS))
def test_every_allowed_transition_is_made_and_recorded_by_its_role(project, owner, staff, from_status, to):
    Project.objects.filter(pk=project.pk).update(status=from_status)
    project.refresh_from_db()
    _prepare(project, to, staff)
    role = sorted(TRANSITIONS[(from_status, to)])[0]

    event = services.project_transition(project=project, to=to, by=_actor(role, owner, staff), comment="Because.")

    project.refresh_from_db()
    assert project.status == to
    assert (event.from_status, event.to_status, event.comment) == (from_status, to, "Because.")
    assert event.by == _actor(role, owner, staff)
    assert event.at is not None
    # The proposer and staff are told, except whoever made the move.
    notified = set(Notification.objects.filter(event=event).values_list("recipient", flat=True))
    assert notified == {owner.pk, staff.pk} - {event.by_id}


@pytest.mark.parametrize(("from_status", "to"), sorted(TRANSITIONS))
def test_every_allowed_transition_is_refused_to_the_other_roles(project, owner, partner, staff, from_status, to):
    Project.objects.filter(pk=project.pk).update(status=from_status)
    project.refresh_from_db()
    _prepare(project, to, staff)
    roles = TRANSITIONS[(from_status, to)]
    refused = [partner] + ([] if STAFF in roles else [staff]) + ([] if APPLICANT in roles else [owner])

    for user in refused:
        with pytest.raises(PermissionDenied):
            services.project_transition(project=project, to=to, by=user, comment="x")

    project.refresh_from_db()
    assert project.status == from_status
    assert not ProjectEvent.objects.exists()


FORBIDDEN = [pair for pair in itertools.product(S.values, S.values) if pair not in TRANSITIONS]


@pytest.mark.parametrize(("from_status", "to"), FORBIDDEN)
def test_every_move_outside_the_table_is_refused(project, staff, owner, from_status, to):
    Project.objects.filter(pk=project.pk).update(status=from_status)
    project.refresh_from_db()

    for user in (staff, owner):
        with pytest.raises(InvalidTransition):
            services.project_transition(project=project, to=to, by=user, comment="x")

    project.refresh_from_db()
    assert project.status == from_status
    assert not ProjectEvent.objects.exists()


def test_an_ineligible_proposal_cannot_be_submitted_and_the_reasons_are_given(project, owner):
    project.partners.filter(role="lead").update(budget_share=80)

    with pytest.raises(TransitionRefused) as refused:
        services.project_transition(project=project, to=S.SUBMITTED, by=owner)

    assert any("100" in message for message in refused.value.messages)
    project.refresh_from_db()
    assert project.status == S.DRAFT


def test_labelling_needs_a_submitted_review(project, staff):
    Project.objects.filter(pk=project.pk).update(status=S.UNDER_REVIEW)
    project.refresh_from_db()

    with pytest.raises(TransitionRefused):
        services.project_transition(project=project, to=S.LABELLED, by=staff)


def test_funded_needs_a_granted_funding_decision(project, staff):
    Project.objects.filter(pk=project.pk).update(status=S.SUBMITTED_TO_FUNDER)
    project.refresh_from_db()

    with pytest.raises(TransitionRefused):
        services.project_transition(project=project, to=S.FUNDED, by=staff)


def test_asking_for_information_needs_a_comment_for_the_applicants(project, staff):
    Project.objects.filter(pk=project.pk).update(status=S.UNDER_REVIEW)
    project.refresh_from_db()

    with pytest.raises(TransitionRefused):
        services.project_transition(project=project, to=S.INFO_REQUESTED, by=staff, comment="  ")


def test_a_stale_transition_gets_a_clear_error(project, owner, staff):
    stale = Project.objects.get(pk=project.pk)
    services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    services.project_transition(project=project, to=S.WITHDRAWN, by=owner)

    with pytest.raises(ConcurrentUpdate, match="au même moment"):
        services.project_transition(project=stale, to=S.SUBMITTED, by=owner)

    assert ProjectEvent.objects.filter(project=project).count() == 2


def test_the_timeline_shows_every_transition_with_its_comment(client, project, owner, staff):
    services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    services.project_transition(project=project, to=S.UNDER_REVIEW, by=staff)
    services.project_transition(project=project, to=S.INFO_REQUESTED, by=staff, comment="Add the clinical protocol.")
    client.force_login(owner)

    text = client.get(f"/projects/{project.pk}/").content.decode()

    assert text.count("timeline-item") == 3
    assert "Add the clinical protocol." in text
    assert "Compléments demandés" in text  # the status, in French


def test_the_transition_view_reports_a_refusal_to_the_user(client, project, owner):
    project.partners.filter(role="lead").delete()
    client.force_login(owner)

    response = client.post(f"/projects/{project.pk}/status/", {"to": "submitted"}, follow=True)

    project.refresh_from_db()
    assert project.status == S.DRAFT
    assert "alert-error" in response.content.decode() or "alert-danger" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_one_wins_the_other_gets_a_clear_error(owner, staff):
    from members.models import Organisation
    from projects.tests.factories import ProjectFactory, eligible_consortium

    project = ProjectFactory(lead_organisation=Organisation.objects.get(pk=owner.person.organisation_id))
    eligible_consortium(project)
    Project.objects.filter(pk=project.pk).update(status=S.SUBMITTED)
    # Both callers read the proposal while it is "submitted", then act at the same moment.
    copies = [Project.objects.get(pk=project.pk), Project.objects.get(pk=project.pk)]
    moves = [(copies[0], S.UNDER_REVIEW, staff), (copies[1], S.WITHDRAWN, owner)]
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def run(index):
        proposal, to, user = moves[index]
        try:
            barrier.wait(timeout=10)
            outcomes[index] = services.project_transition(project=proposal, to=to, by=user)
        except Exception as exc:  # the outcome is asserted below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    winners = [o for o in outcomes if isinstance(o, ProjectEvent)]
    losers = [o for o in outcomes if not isinstance(o, ProjectEvent)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1 and isinstance(losers[0], ConcurrentUpdate), outcomes
    project.refresh_from_db()
    assert project.status == winners[0].to_status
    assert ProjectEvent.objects.filter(project=project).count() == 1
