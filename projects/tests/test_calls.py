"""A proposal for a call: the call's rules and internal deadline at submission, and staff reopening."""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from calls.tests.factories import CallFactory
from members.models import Organisation
from members.tests.factories import OrganisationFactory
from projects import services
from projects.eligibility import submission_problems
from projects.models import DeadlineExtension, Partner, Project
from projects.workflow import TransitionRefused

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
S = Project.Status


def _for_call(project, **call_fields):
    call_fields.setdefault("opens_on", datetime.date(2020, 1, 1))
    project.call = CallFactory(**call_fields)
    project.save()
    return project.call


@pytest.mark.parametrize(
    ("deadline", "utc"),
    [
        # 23:59 in Paris on the last day of summer time (UTC+2) and of winter time (UTC+1).
        (
            datetime.datetime(2027, 10, 30, 23, 59, tzinfo=PARIS),
            datetime.datetime(2027, 10, 30, 21, 59, tzinfo=datetime.UTC),
        ),
        (
            datetime.datetime(2028, 3, 25, 23, 59, tzinfo=PARIS),
            datetime.datetime(2028, 3, 25, 22, 59, tzinfo=datetime.UTC),
        ),
    ],
)
def test_submission_closes_at_the_internal_deadline_in_paris_time(project, deadline, utc):
    _for_call(project, internal_deadline=deadline, funder_deadline=deadline + datetime.timedelta(days=20))

    assert submission_problems(project, now=utc - datetime.timedelta(seconds=1)) == []
    late = submission_problems(project, now=utc)

    assert len(late) == 1
    assert f"{deadline:%d/%m/%Y} 23:59 (heure de Paris)" in late[0]


def test_a_late_submission_is_refused_with_a_message_naming_the_deadline(project, owner):
    deadline = timezone.now() - datetime.timedelta(minutes=1)
    _for_call(project, internal_deadline=deadline, programme="PM'up", title_fr="PM'up 2027")

    with pytest.raises(TransitionRefused) as refused:
        services.project_transition(project=project, to=S.SUBMITTED, by=owner)

    project.refresh_from_db()
    assert project.status == S.DRAFT
    paris = timezone.localtime(deadline)
    assert any("PM'up 2027" in message and f"{paris:%d/%m/%Y %H:%M}" in message for message in refused.value.messages)


def test_staff_reopen_one_proposal_with_a_recorded_reason_and_it_can_then_be_submitted(project, owner, staff):
    _for_call(project, internal_deadline=timezone.now() - datetime.timedelta(hours=2))
    with pytest.raises(TransitionRefused):
        services.project_transition(project=project, to=S.SUBMITTED, by=owner)

    extension = services.deadline_extend(
        project=project,
        until=timezone.now() + datetime.timedelta(days=1),
        reason="Server outage at Bpifrance",
        by=staff,
    )
    services.project_transition(project=project, to=S.SUBMITTED, by=owner)

    project.refresh_from_db()
    assert project.status == S.SUBMITTED
    assert DeadlineExtension.objects.get() == extension
    assert (extension.reason, extension.by) == ("Server outage at Bpifrance", staff)


def test_reopening_only_concerns_the_proposal_it_was_granted_to(project, owner, staff):
    call = _for_call(project, internal_deadline=timezone.now() - datetime.timedelta(hours=2))
    from projects.tests.factories import ProjectFactory, eligible_consortium

    neighbour = ProjectFactory(call=call, lead_organisation=project.lead_organisation)
    eligible_consortium(neighbour)
    services.deadline_extend(
        project=project, until=timezone.now() + datetime.timedelta(days=1), reason="Outage", by=staff
    )

    assert submission_problems(project) == []
    assert len(submission_problems(neighbour)) == 1


def test_a_reopening_needs_a_reason(project, staff):
    _for_call(project, internal_deadline=timezone.now() - datetime.timedelta(hours=2))
    with pytest.raises(ValidationError):
        services.deadline_extend(
            project=project, until=timezone.now() + datetime.timedelta(days=1), reason=" ", by=staff
        )
    assert not DeadlineExtension.objects.exists()


def test_an_expired_reopening_closes_the_proposal_again(project, staff):
    _for_call(project, internal_deadline=timezone.now() - datetime.timedelta(days=3))
    services.deadline_extend(
        project=project, until=timezone.now() - datetime.timedelta(days=1), reason="Outage", by=staff
    )
    assert len(submission_problems(project)) == 1


def test_a_resubmission_after_more_information_is_not_held_to_the_deadline(project, owner):
    _for_call(project, internal_deadline=timezone.now() - datetime.timedelta(days=3))
    Project.objects.filter(pk=project.pk).update(status=S.INFO_REQUESTED)
    project.refresh_from_db()

    services.project_transition(project=project, to=S.RESUBMITTED, by=owner)

    project.refresh_from_db()
    assert project.status == S.RESUBMITTED


def test_a_call_that_has_not_opened_yet_refuses_submission(project):
    _for_call(project, opens_on=timezone.localdate() + datetime.timedelta(days=5))
    assert ["pourront être déposés" in problem for problem in submission_problems(project)] == [True]


def test_the_call_rules_replace_the_default_consortium_rules(project):
    # One company and one hospital: refused by default (two companies needed), accepted by this call.
    project.partners.all().delete()
    hospital = OrganisationFactory(category=Organisation.Category.HOSPITAL)
    Partner.objects.bulk_create(
        [
            Partner(project=project, organisation=project.lead_organisation, role="lead", budget_share=60, position=0),
            Partner(project=project, organisation=hospital, role="partner", budget_share=40, position=1),
        ]
    )
    assert any("au moins 2" in problem for problem in submission_problems(project))

    _for_call(project, min_companies=1)

    assert submission_problems(project) == []


def test_the_call_aid_rate_ceiling_and_kinds_are_checked_at_submission(project):
    project.total_budget, project.requested_aid = Decimal(1_000_000), Decimal(600_000)
    _for_call(project, max_aid_rate=Decimal(45), kinds="individual")

    problems = submission_problems(project)

    assert any("45 %" in problem and "60 %" in problem for problem in problems)
    assert any("projets individuels uniquement" in problem for problem in problems)


def test_a_proposal_opened_from_a_call_page_answers_that_call(client, owner):
    call = CallFactory(funder="region_idf", programme="Innov'up")
    client.force_login(owner)

    form = client.get(reverse("projects:create"), {"call": call.pk}).context["form"]

    assert form.initial["call"] == call.pk
    assert form.initial["target_programme"] == "Innov'up"


def test_a_closed_call_is_not_offered_to_a_new_proposal(client, owner):
    closed = CallFactory(internal_deadline=timezone.now() - datetime.timedelta(days=1))
    open_call = CallFactory()
    client.force_login(owner)

    form = client.get(reverse("projects:create"), {"call": closed.pk}).context["form"]

    assert form.initial.get("call") is None
    assert list(form.fields["call"].queryset) == [open_call]


def test_staff_reopen_a_proposal_from_the_admin(admin_client, project, admin_user):
    _for_call(project, internal_deadline=timezone.now() - datetime.timedelta(hours=1))
    url = reverse("admin:projects_project_change", args=[project.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    # Every inline's management form says "no rows": the rows already there stay untouched.
    for formset in admin_client.get(url).context["inline_admin_formsets"]:
        for name in ("TOTAL_FORMS", "INITIAL_FORMS"):
            data[f"{formset.formset.prefix}-{name}"] = "0"
    prefix = "deadline_extensions"
    data[f"{prefix}-TOTAL_FORMS"] = "1"
    data[f"{prefix}-0-until_0"] = (timezone.localdate() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    data[f"{prefix}-0-until_1"] = "12:00"
    data[f"{prefix}-0-reason"] = "The Region extended its own deadline."
    data["areas"] = [area.pk for area in project.areas.all()]

    response = admin_client.post(url, data)

    assert response.status_code == 302, [
        (f.formset.prefix, f.formset.errors) for f in response.context["inline_admin_formsets"]
    ] + [response.context["adminform"].form.errors]
    extension = DeadlineExtension.objects.get(project=project)
    assert (extension.reason, extension.by) == ("The Region extended its own deadline.", admin_user)
