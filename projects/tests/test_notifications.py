"""Each transition e-mails the proposer and staff through Celery, after commit, exactly once."""

import time

import pytest
from celery.exceptions import Retry

from conftest import wait_for
from projects import services
from projects.models import Notification, Project
from projects.services import TransientEmailError
from projects.tasks import send_project_notification

S = Project.Status


@pytest.mark.django_db
def test_a_transition_emails_proposer_and_staff_once_after_commit(
    project, owner, staff, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.project_transition(project=project, to=S.SUBMITTED, by=owner)
        assert mailoutbox == []  # nothing leaves before the commit

    for callback in callbacks:
        callback()

    assert sorted(tuple(m.to) for m in mailoutbox) == sorted([(owner.email,), (staff.email,)])
    assert all(project.acronym in m.subject for m in mailoutbox)
    assert set(Notification.objects.values_list("state", flat=True)) == {Notification.State.SENT}


@pytest.mark.django_db
def test_running_the_task_twice_sends_one_email(project, owner, staff, mailoutbox):
    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    notification = event.notifications.get(audience=Notification.Audience.APPLICANT)

    first = send_project_notification.apply(args=[notification.pk]).get()
    second = send_project_notification.apply(args=[notification.pk]).get()

    assert (first, second) == ("sent", "not pending")
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_applicant_email_never_names_the_staff_member(project, owner, staff, mailoutbox):
    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    services.project_transition(project=project, to=S.UNDER_REVIEW, by=staff)
    for notification in Notification.objects.all():
        send_project_notification.apply(args=[notification.pk])

    applicant_mails = [m for m in mailoutbox if m.to == [owner.email]]
    assert len(applicant_mails) == 2
    assert all(staff.email not in m.body for m in applicant_mails)
    assert event.notifications.count() == 2


@pytest.mark.django_db
def test_a_transient_smtp_error_releases_the_claim_and_the_task_retries(project, owner, staff, smtp_sink):
    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    notification = event.notifications.get(audience=Notification.Audience.APPLICANT)
    smtp_sink.fail_next(2, "451 4.3.0 Try again later")

    with pytest.raises(Retry):  # the task asks Celery to retry it later (capped backoff)
        send_project_notification.apply(args=[notification.pk])
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (Notification.State.PENDING, 1)
    with pytest.raises(TransientEmailError):  # the second attempt meets the second 451
        services.notification_send(notification_id=notification.pk, final_attempt=False)

    assert services.notification_send(notification_id=notification.pk, final_attempt=False) == "sent"
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (Notification.State.SENT, 3)
    assert len(smtp_sink.messages) == 1
    assert send_project_notification.retry_backoff_max <= 900 and send_project_notification.max_retries == 6


@pytest.mark.django_db
def test_a_permanent_smtp_error_is_recorded_and_not_retried(project, owner, staff, smtp_sink):
    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    notification = event.notifications.get(audience=Notification.Audience.APPLICANT)
    smtp_sink.fail_next(1, "550 5.1.1 No such user")

    send_project_notification.apply(args=[notification.pk])

    notification.refresh_from_db()
    assert notification.state == Notification.State.FAILED
    assert notification.attempts == 1
    assert "550" in notification.last_error
    assert smtp_sink.messages == []


@pytest.mark.django_db
def test_the_last_retry_records_the_failure(project, owner, staff):
    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    notification = event.notifications.get(audience=Notification.Audience.STAFF)
    from django.test import override_settings

    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=9
    ):
        outcome = services.notification_send(notification_id=notification.pk, final_attempt=True)

    notification.refresh_from_db()
    assert outcome == "failed"
    assert notification.state == Notification.State.FAILED
    assert notification.last_error


@pytest.mark.worker
def test_a_real_worker_sends_each_transition_once_even_when_the_task_is_sent_twice(
    start_celery_worker, smtp_sink, project, owner, staff
):
    start_celery_worker()
    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)  # enqueued on commit
    ids = list(event.notifications.values_list("pk", flat=True))
    for pk in ids:  # a duplicate delivery of each task
        send_project_notification.delay(pk)

    sent = Notification.objects.filter(pk__in=ids, state=Notification.State.SENT)
    assert wait_for(lambda: sent.count() == 2, timeout=60)
    assert wait_for(lambda: len(smtp_sink.messages) >= 2, timeout=10)
    time.sleep(2)  # give a duplicate the time to (wrongly) arrive
    assert sorted(m["To"] for m in smtp_sink.messages) == sorted([owner.email, staff.email])


@pytest.mark.django_db
def test_a_notification_whose_enqueue_was_lost_is_sent_by_the_periodic_scan(project, owner, staff, mailoutbox):
    import datetime

    from django.conf import settings

    from projects.models import ProjectEvent
    from projects.tasks import enqueue_stale_notifications

    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)  # on_commit never ran
    ProjectEvent.objects.filter(pk=event.pk).update(at=event.at - datetime.timedelta(minutes=11))
    recent = services.project_transition(project=project, to=S.WITHDRAWN, by=owner)

    assert enqueue_stale_notifications.apply().get() == 2

    assert len(mailoutbox) == 2
    assert set(recent.notifications.values_list("state", flat=True)) == {Notification.State.PENDING}
    assert enqueue_stale_notifications.apply().get() == 0  # sent ones are not picked up again
    assert "projects-enqueue-stale-notifications" in settings.CELERY_BEAT_SCHEDULE


@pytest.mark.django_db
def test_a_notification_whose_retry_message_was_lost_is_sent_by_the_periodic_scan(project, owner, staff, mailoutbox):
    import datetime

    from django.utils import timezone

    from projects.tasks import RETRY_BACKOFF_MAX, enqueue_stale_notifications

    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    now = timezone.now()
    lost, waiting = event.notifications.order_by("pk")
    # Both failed once with a 4xx and went back to pending for a retry. The retry of the first
    # never came (the broker lost it): its last attempt is older than the longest backoff plus
    # the stale delay. The second may still be waiting for its retry.
    Notification.objects.filter(pk=lost.pk).update(
        attempts=2, last_attempt_at=now - datetime.timedelta(seconds=RETRY_BACKOFF_MAX + 11 * 60)
    )
    Notification.objects.filter(pk=waiting.pk).update(attempts=2, last_attempt_at=now - datetime.timedelta(minutes=5))

    assert enqueue_stale_notifications.apply().get() == 1

    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert (lost.state, lost.attempts) == (Notification.State.SENT, 3)
    assert waiting.state == Notification.State.PENDING
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_re_enqueued_notification_does_not_start_a_new_series_of_attempts(project, owner, staff, settings):
    from django.test import override_settings

    from projects.services import NOTIFICATION_MAX_ATTEMPTS

    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    notification = event.notifications.first()
    Notification.objects.filter(pk=notification.pk).update(attempts=NOTIFICATION_MAX_ATTEMPTS - 1)

    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=9
    ):  # refused: a transient error
        outcome = services.notification_send(notification_id=notification.pk, final_attempt=False)

    notification.refresh_from_db()
    assert outcome == "failed"
    assert (notification.state, notification.attempts) == (Notification.State.FAILED, NOTIFICATION_MAX_ATTEMPTS)
