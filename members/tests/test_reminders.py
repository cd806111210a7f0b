"""Renewal reminders: exactly once per organisation and year, retries, recorded failures."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from conftest import wait_for
from members import services, tasks
from members.models import MembershipYear
from members.tests.factories import MembershipYearFactory, OrganisationFactory, PersonFactory, UserFactory

Reminder = MembershipYear.ReminderStatus
DECEMBER = datetime.date(2026, 12, 1)


def make_members(count: int) -> list:
    organisations = []
    for n in range(count):
        organisation = OrganisationFactory(name=f"Member {n}", category="startup", headcount=5)
        PersonFactory(organisation=organisation, email=f"billing{n}@member.example", is_billing_contact=True)
        PersonFactory(organisation=organisation, email=f"science{n}@member.example", is_scientific_contact=True)
        MembershipYearFactory(organisation=organisation, year=2026)
        organisations.append(organisation)
    return organisations


@pytest.fixture
def december(monkeypatch, settings):
    settings.MEMBERS_RENEWAL_REMINDER_DAYS = 45
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: DECEMBER)


@pytest.mark.django_db
def test_reminders_are_sent_once_when_the_scan_runs_twice(
    fee_grid, december, mailoutbox, django_capture_on_commit_callbacks
):
    from medicen_portal.celery import app

    # The send tasks the scan enqueues on commit run here, in this process.
    app.conf.task_always_eager = True
    try:
        make_members(3)
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                tasks.renewal_reminders_scan()
    finally:
        app.conf.task_always_eager = False

    assert sorted(message.to[0] for message in mailoutbox) == [
        "billing0@member.example",
        "billing1@member.example",
        "billing2@member.example",
    ]
    assert "2027" in mailoutbox[0].subject
    assert "600,00" in mailoutbox[0].body
    assert set(MembershipYear.objects.filter(year=2027).values_list("reminder_status", flat=True)) == {Reminder.SENT}


@pytest.mark.django_db
def test_nothing_is_sent_before_the_reminder_window(fee_grid, monkeypatch, mailoutbox, settings):
    settings.MEMBERS_RENEWAL_REMINDER_DAYS = 30
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: datetime.date(2026, 11, 30))
    make_members(1)

    assert tasks.renewal_reminders_scan() == 0
    assert not MembershipYear.objects.filter(year=2027).exists()


@pytest.mark.django_db
def test_a_second_sender_finds_the_row_claimed_and_sends_nothing(fee_grid, mailoutbox):
    make_members(1)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)

    assert services.renewal_reminder_claim(membership_year_id=membership_year_id)
    assert services.renewal_reminder_send(membership_year_id=membership_year_id) == "already-claimed"
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_transient_smtp_error_releases_the_claim_for_a_retry(fee_grid, smtp_sink):
    make_members(1)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)
    smtp_sink.fail_next(1, "451 4.3.0 Try again later")

    with pytest.raises(services.TransientEmailError):
        services.renewal_reminder_send(membership_year_id=membership_year_id)
    row = MembershipYear.objects.get(pk=membership_year_id)
    assert (row.reminder_status, row.reminder_attempts) == (Reminder.NOT_SENT, 1)
    assert "451" in row.reminder_error

    assert services.renewal_reminder_send(membership_year_id=membership_year_id) == "sent"
    assert len(smtp_sink.messages) == 1
    assert MembershipYear.objects.get(pk=membership_year_id).reminder_status == Reminder.SENT


@pytest.mark.django_db
def test_a_permanent_smtp_error_is_recorded_as_a_failure(fee_grid, smtp_sink):
    make_members(1)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)
    smtp_sink.fail_next(1, "550 5.1.1 No such user")

    assert services.renewal_reminder_send(membership_year_id=membership_year_id) == "failed"
    row = MembershipYear.objects.get(pk=membership_year_id)
    assert row.reminder_status == Reminder.FAILED
    assert "550" in row.reminder_error
    assert smtp_sink.messages == []


@pytest.mark.django_db
def test_an_organisation_without_billing_contact_is_recorded_not_skipped_silently(fee_grid, mailoutbox):
    organisation = OrganisationFactory(category="startup")
    MembershipYearFactory(organisation=organisation, year=2026)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)

    assert services.renewal_reminder_send(membership_year_id=membership_year_id) == "failed"
    assert "contact" in MembershipYear.objects.get(pk=membership_year_id).reminder_error
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_reminder_interrupted_mid_send_is_marked_failed_not_resent(fee_grid, mailoutbox):
    make_members(1)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)
    services.renewal_reminder_claim(membership_year_id=membership_year_id)  # the worker then dies
    MembershipYear.objects.filter(pk=membership_year_id).update(
        reminder_claimed_at=timezone.now() - datetime.timedelta(hours=2)
    )

    assert services.renewal_reminders_interrupted(older_than=datetime.timedelta(hours=1)) == 1
    assert services.renewal_reminders_due(today=DECEMBER) == []
    assert MembershipYear.objects.get(pk=membership_year_id).reminder_status == Reminder.FAILED
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_backoff_doubles_and_is_capped(settings):
    settings.MEMBERS_EMAIL_RETRY_SECONDS = 30

    assert [tasks.backoff(n) for n in range(8)] == [30, 60, 120, 240, 480, 960, 1800, 1800]


@pytest.mark.django_db
def test_staff_send_a_reminder_now_from_the_admin_once(fee_grid, mailoutbox, django_capture_on_commit_callbacks):
    (organisation,) = make_members(1)
    staff = UserFactory(email="staff@medicen.example", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    from medicen_portal.celery import app

    app.conf.task_always_eager = True
    try:
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(
                    "/admin/members/organisation/",
                    {"action": "send_renewal_reminder_now", "_selected_action": [organisation.pk]},
                )
            assert response.status_code == 302
    finally:
        app.conf.task_always_eager = False

    assert [message.to for message in mailoutbox] == [["billing0@member.example"]]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_reminders_go_once_through_a_real_worker_even_when_the_scan_runs_twice(
    fee_grid, smtp_sink, start_celery_worker, monkeypatch, settings
):
    # The worker's clock is its own: the window is made wide enough to be open today.
    monkeypatch.setenv("MEMBERS_RENEWAL_REMINDER_DAYS", "366")
    monkeypatch.setenv("MEMBERS_EMAIL_RETRY_SECONDS", "1")
    settings.MEMBERS_RENEWAL_REMINDER_DAYS = 366
    this_year = datetime.date.today().year
    for n in range(3):
        organisation = OrganisationFactory(name=f"Worker member {n}", category="startup", headcount=5)
        PersonFactory(organisation=organisation, email=f"billing{n}@worker.example", is_billing_contact=True)
        MembershipYearFactory(organisation=organisation, year=this_year)
    smtp_sink.fail_next(1, "451 4.3.0 Try again later")  # one transient refusal: retried, not duplicated
    start_celery_worker(concurrency=2, pool="threads")

    tasks.renewal_reminders_scan.delay()
    tasks.renewal_reminders_scan.delay()

    assert wait_for(
        lambda: MembershipYear.objects.filter(year=this_year + 1, reminder_status=Reminder.SENT).count() == 3,
        timeout=60,
    )
    wait_for(lambda: False, timeout=2)  # give any duplicate the time to arrive
    assert sorted(message["To"] for message in smtp_sink.messages) == [
        "billing0@worker.example",
        "billing1@worker.example",
        "billing2@worker.example",
    ]
