"""Renewal reminders: exactly once per organisation and year (through the outbox), retries, recorded failures."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from members import services, tasks
from members.models import MembershipYear
from members.tests.factories import MembershipYearFactory, OrganisationFactory, PersonFactory, UserFactory
from outbox import services as outbox
from outbox.models import Message
from tests.support import wait_for

Reminder = MembershipYear.ReminderStatus
DECEMBER = datetime.date(2026, 12, 1)


def send_due(now=None):
    """What the outbox's worker does after commit (its every-minute scan, here in-process)."""
    return outbox.scan(now=now, send=outbox.send_synchronously(now=now))


def reminder_of(membership_year_id: int) -> MembershipYear:
    return MembershipYear.objects.select_related("reminder_message").get(pk=membership_year_id)


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
    fee_grid, december, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(outbox, "dispatch", outbox.send_synchronously())  # the worker, in this process
    make_members(3)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.renewal_reminders_scan()

    assert sorted(message.to[0] for message in mailoutbox) == [
        "billing0@member.example",
        "billing1@member.example",
        "billing2@member.example",
    ]
    assert "2027" in mailoutbox[0].subject
    assert "600,00" in mailoutbox[0].body
    years = MembershipYear.objects.filter(year=2027).select_related("reminder_message")
    assert {year.reminder_status for year in years} == {Reminder.SENT}


@pytest.mark.django_db
def test_nothing_is_sent_before_the_reminder_window(fee_grid, monkeypatch, mailoutbox, settings):
    settings.MEMBERS_RENEWAL_REMINDER_DAYS = 30
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: datetime.date(2026, 11, 30))
    make_members(1)

    assert tasks.renewal_reminders_scan() == 0
    assert not MembershipYear.objects.filter(year=2027).exists()


@pytest.mark.django_db
def test_a_second_request_finds_the_reminder_given_and_adds_nothing(fee_grid, mailoutbox):
    make_members(1)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)

    assert services.renewal_reminders_enqueue(membership_year_ids=[membership_year_id]) == [membership_year_id]
    assert services.renewal_reminders_enqueue(membership_year_ids=[membership_year_id]) == []
    assert services.renewal_reminders_due(today=DECEMBER) == []
    send_due()
    send_due()
    assert len(mailoutbox) == 1
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_a_transient_smtp_error_is_retried_by_a_later_scan(fee_grid, smtp_sink):
    make_members(1)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)
    services.renewal_reminders_enqueue(membership_year_ids=[membership_year_id])
    smtp_sink.fail_next(1, "451 4.3.0 Try again later")

    send_due()
    row = reminder_of(membership_year_id)
    assert (row.reminder_status, row.reminder_attempts) == (Reminder.SENDING, 1)
    assert "451" in row.reminder_error

    later = timezone.now() + datetime.timedelta(minutes=2)
    send_due(later)
    assert len(smtp_sink.messages) == 1
    assert reminder_of(membership_year_id).reminder_status == Reminder.SENT


@pytest.mark.django_db
def test_a_permanent_smtp_error_is_recorded_as_a_failure(fee_grid, smtp_sink):
    make_members(1)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)
    services.renewal_reminders_enqueue(membership_year_ids=[membership_year_id])
    smtp_sink.fail_next(1, "550 5.1.1 No such user")

    send_due()
    row = reminder_of(membership_year_id)
    assert row.reminder_status == Reminder.FAILED
    assert "550" in row.reminder_error
    assert smtp_sink.messages == []


@pytest.mark.django_db
def test_an_organisation_without_billing_contact_is_recorded_not_skipped_silently(fee_grid, mailoutbox):
    organisation = OrganisationFactory(category="startup")
    MembershipYearFactory(organisation=organisation, year=2026)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)
    services.renewal_reminders_enqueue(membership_year_ids=[membership_year_id])

    send_due()
    row = reminder_of(membership_year_id)
    assert row.reminder_status == Reminder.FAILED
    assert "no recipient" in row.reminder_error
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_reminder_interrupted_after_the_hand_over_is_flagged_not_resent(fee_grid, mailoutbox):
    make_members(1)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)
    services.renewal_reminders_enqueue(membership_year_ids=[membership_year_id])
    message = reminder_of(membership_year_id).reminder_message
    two_hours_ago = timezone.now() - datetime.timedelta(hours=2)
    # The worker handed it to the SMTP server and died before the answer.
    Message.objects.filter(pk=message.pk).update(
        status="sending", claimed_at=two_hours_ago, handed_at=two_hours_ago, claim_token="dead", attempts=1
    )

    assert send_due().flagged_uncertain == 1
    assert services.renewal_reminders_due(today=DECEMBER) == []
    assert reminder_of(membership_year_id).reminder_status == Reminder.FAILED
    assert mailoutbox == []


@pytest.mark.django_db
def test_staff_send_a_reminder_now_from_the_admin_once(
    fee_grid, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(outbox, "dispatch", outbox.send_synchronously())
    (organisation,) = make_members(1)
    staff = UserFactory(email="staff@medicen.example", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/admin/members/organisation/",
                {"action": "send_renewal_reminder_now", "_selected_action": [organisation.pk]},
            )
        assert response.status_code == 302

    assert [message.to for message in mailoutbox] == [["billing0@member.example"]]
    assert client.get("/admin/members/membershipyear/?reminder_message__status=sent").status_code == 200


@pytest.mark.django_db
def test_staff_send_again_a_reminder_that_failed_for_good_to_the_contacts_of_today(fee_grid, mailoutbox):
    (organisation,) = make_members(1)
    (membership_year_id,) = services.renewal_reminders_due(today=DECEMBER)
    services.renewal_reminders_enqueue(membership_year_ids=[membership_year_id])
    Message.objects.update(status="failed", last_error="SMTP error (permanent): 550")
    organisation.people.filter(is_billing_contact=True).update(email="new-billing@member.example")

    ids, already = services.renewal_reminders_request(organisations=[organisation], today=DECEMBER)
    assert (ids, already) == ([membership_year_id], 0)
    send_due()
    assert [message.to for message in mailoutbox] == [["new-billing@member.example"]]
    assert reminder_of(membership_year_id).reminder_status == Reminder.SENT


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_reminders_go_once_through_a_real_worker_even_when_the_scan_runs_twice(
    fee_grid, smtp_sink, start_celery_worker, monkeypatch, settings
):
    # The worker's clock is its own: the window is made wide enough to be open today.
    monkeypatch.setenv("MEMBERS_RENEWAL_REMINDER_DAYS", "366")
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

    sent = Message.objects.filter(kind="members.renewal_reminder", status="sent")
    assert wait_for(lambda: sent.count() == 2 and Message.objects.filter(status="pending").count() == 1, timeout=60)
    # The backoff passes; the every-minute scan hands the retried one to the worker.
    Message.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    outbox.scan()
    assert wait_for(lambda: sent.count() == 3, timeout=60)
    wait_for(lambda: False, timeout=2)  # give any duplicate the time to arrive
    assert sorted(message["To"] for message in smtp_sink.messages) == [
        "billing0@worker.example",
        "billing1@worker.example",
        "billing2@worker.example",
    ]
