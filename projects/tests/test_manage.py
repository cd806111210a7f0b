"""The staff page of a proposal: invite a board member, assign them, remind them once, move the status."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from das.tests.factories import MandateFactory
from members.models import Person
from members.tests.factories import PersonFactory
from outbox import services as outbox_services
from outbox.models import Message
from projects import services
from projects.models import Project, Review
from projects.tasks import review_reminders_scan
from projects.tests.factories import reviewer_for

pytestmark = pytest.mark.django_db
S = Project.Status


@pytest.fixture
def under_review(project, owner, staff):
    services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    services.project_transition(project=project, to=S.UNDER_REVIEW, by=staff)
    return project


@pytest.fixture
def expert(under_review):
    """A board member of the proposal's DAS with no login yet (as the seeded governance is)."""
    person = PersonFactory(
        organisation=None, first_name="Valérie", last_name="Vilgrain", email="v.vilgrain@aphp.example"
    )
    MandateFactory(person=person, area=under_review.primary_area)
    return person


def test_staff_invite_a_board_member_without_a_login_then_assign_them(
    client, under_review, expert, staff, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    page = client.get(f"/projects/{under_review.pk}/manage/").content.decode()
    assert f'data-invite="{expert.pk}"' in page
    assert f'data-assign="{expert.pk}"' not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{under_review.pk}/manage/invite/", {"person": expert.pk})

    assert response.status_code == 302
    expert.refresh_from_db()
    assert expert.user is not None and not expert.user.has_usable_password()
    assert [m.to for m in mailoutbox] == [["v.vilgrain@aphp.example"]]
    assert "/members/invitation/" in mailoutbox[0].body
    page = client.get(f"/projects/{under_review.pk}/manage/").content.decode()
    assert f'data-assign="{expert.pk}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/projects/{under_review.pk}/manage/assign/", {"reviewer": expert.pk})

    review = Review.objects.get(project=under_review, reviewer=expert)
    assert review.state == Review.State.ASSIGNED
    assert len(mailoutbox) == 2
    assignment = mailoutbox[1]
    assert assignment.to == ["v.vilgrain@aphp.example"]
    assert f"/projects/reviews/{review.pk}/" in assignment.body
    assert "Valérie Vilgrain" in assignment.body


def test_a_person_outside_the_proposals_governance_cannot_be_invited_or_assigned_from_it(
    client, under_review, staff, mailoutbox
):
    stranger = PersonFactory(organisation=None, email="someone@example.org")
    client.force_login(staff)

    assert client.post(f"/projects/{under_review.pk}/manage/invite/", {"person": stranger.pk}).status_code == 404
    assert client.post(f"/projects/{under_review.pk}/manage/assign/", {"reviewer": stranger.pk}).status_code == 404
    assert Person.objects.get(pk=stranger.pk).user is None
    assert not Review.objects.exists()


def test_the_assigned_reviewer_is_emailed_the_link_once_even_if_the_task_runs_twice(
    under_review, staff, mailoutbox, django_capture_on_commit_callbacks
):
    kol = reviewer_for(under_review.primary_area)
    with django_capture_on_commit_callbacks(execute=True):
        review = services.review_assign(project=under_review, reviewer=kol.person, by=staff)
    message = Message.objects.get(key=f"review-assigned:{review.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        outbox_services.messages_send(message_ids=[message.pk])
    assert [m.to for m in mailoutbox] == [[kol.email]]
    assert settings.SITE_URL + f"/projects/reviews/{review.pk}/" in mailoutbox[0].body


def _age(review, days):
    Review.objects.filter(pk=review.pk).update(assigned_at=timezone.now() - datetime.timedelta(days=days))


def test_a_reviewer_who_has_not_submitted_after_the_delay_gets_exactly_one_reminder(
    under_review, staff, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.PROJECTS_REVIEW_REMINDER_DAYS = 10
    late, recent = reviewer_for(under_review.primary_area), reviewer_for(under_review.primary_area)
    late_review = services.review_assign(project=under_review, reviewer=late.person, by=staff)
    services.review_assign(project=under_review, reviewer=recent.person, by=staff)
    _age(late_review, 11)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert review_reminders_scan() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert review_reminders_scan() == 0

    assert [m.to for m in mailoutbox] == [[late.email]]
    assert "has not been submitted yet" in mailoutbox[0].body or "pas encore" in mailoutbox[0].body
    assert Message.objects.filter(key=f"review-reminder:{late_review.pk}", status="sent").count() == 1


def test_no_reminder_for_a_submitted_review_or_a_decided_proposal(
    under_review, staff, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.PROJECTS_REVIEW_REMINDER_DAYS = 10
    kol = reviewer_for(under_review.primary_area)
    review = services.review_assign(project=under_review, reviewer=kol.person, by=staff)
    services.review_submit(review=review, by=kol, scores=dict.fromkeys(Review.CRITERIA, 3),
                           recommendation="label", comments="")  # fmt: skip
    _age(review, 30)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert review_reminders_scan() == 0
    assert mailoutbox == []


def test_the_status_panel_has_one_comment_box_and_a_confirmed_refusal(client, under_review, staff):
    client.force_login(staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get(f"/projects/{under_review.pk}/manage/").content.decode()
    panel = page[page.index('id="actions"') :]
    panel = panel[: panel.index("</section>")]

    assert panel.count("<textarea") == 1
    assert panel.count("<form") == 1
    refusal = panel[panel.index('data-move="not_labelled"') - 300 : panel.index('data-move="not_labelled"') + 300]
    assert "btn-outline-danger" in refusal
    assert "data-confirm=" in refusal
    labelled = panel[panel.index('data-move="labelled"') : panel.index('data-move="labelled"') + 300]
    assert "btn-outline-danger" not in labelled


def test_one_comment_box_moves_the_status_with_the_button_pressed(client, under_review, staff):
    client.force_login(staff)

    client.post(f"/projects/{under_review.pk}/status/",
                {"to": "info_requested", "comment": "Add the budget annex.", "next": "manage"})  # fmt: skip

    under_review.refresh_from_db()
    assert under_review.status == S.INFO_REQUESTED
    assert under_review.events.last().comment == "Add the budget annex."


def test_staff_see_scores_with_their_criterion_names(client, under_review, staff):
    kol = reviewer_for(under_review.primary_area)
    review = services.review_assign(project=under_review, reviewer=kol.person, by=staff)
    scores = {"score_innovation": 5, "score_impact": 4, "score_consortium": 3, "score_feasibility": 2,
              "score_market": 1}  # fmt: skip
    services.review_submit(review=review, by=kol, scores=scores, recommendation="label", comments="")
    client.force_login(staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get(f"/projects/{under_review.pk}/manage/").content.decode()

    for name, score in (("Innovation", 5), ("Clinical and patient impact", 4), ("Market", 1)):
        assert f"{name}</dt>" in page and f"{score}/5" in page
    assert "15/25" in page


def test_the_withdraw_button_asks_for_confirmation(client, project, owner):
    client.force_login(owner)

    page = client.get(f"/projects/{project.pk}/").content.decode()

    button = page[page.index('data-move="withdrawn"') - 300 : page.index('data-move="withdrawn"') + 300]
    assert "data-confirm=" in button
    assert "btn-outline-danger" in button


def test_staff_share_a_reviews_comments_through_its_own_url(client, under_review, staff):
    kol = reviewer_for(under_review.primary_area)
    review = services.review_assign(project=under_review, reviewer=kol.person, by=staff)
    services.review_submit(review=review, by=kol, scores=dict.fromkeys(Review.CRITERIA, 3),
                           recommendation="label", comments="Clarify the pathway.")  # fmt: skip
    client.force_login(staff)

    response = client.post(f"/projects/{under_review.pk}/manage/reviews/{review.pk}/share/", {"action": "share"})

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.comments_shared


def test_an_invalid_funding_decision_comes_back_with_its_errors(client, under_review, staff):
    client.force_login(staff)

    response = client.post(f"/projects/{under_review.pk}/manage/funding/", {"funding-funder": "bpifrance"})

    assert response.status_code == 400
    assert not under_review.funding_decisions.exists()
    assert 'id="funding-form"' in response.content.decode()


def test_the_funding_decision_form_labels_start_with_a_capital(client, under_review, staff):
    client.force_login(staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    page = client.get(f"/projects/{under_review.pk}/manage/").content.decode()

    assert "Investissement total du projet (€)" in page
    assert "investissement total du projet" not in page
