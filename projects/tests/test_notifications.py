"""Each transition e-mails the people it concerns, through the outbox: after commit, exactly once,
by name, and never about what they did themselves."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from members.tests.factories import UserFactory
from outbox import services as outbox
from outbox.models import Message
from projects import services
from projects.forms import ProjectForm
from projects.models import Notification, Project
from tests.support import wait_for

S = Project.Status


def send_due():
    """What the outbox's worker does after commit (the every-minute scan, here in-process)."""
    return outbox.scan(send=outbox.send_synchronously())


@pytest.fixture
def staff_colleague(db):
    """Another staff member, told about what `staff` does."""
    return UserFactory(is_staff=True, email="staff_colleague@medicen.example", first_name="Camille", last_name="Durand")


@pytest.mark.django_db
def test_a_submission_emails_staff_after_commit_and_not_the_proposer_who_made_it(
    project, owner, staff, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(outbox, "dispatch", outbox.send_synchronously())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.project_transition(project=project, to=S.SUBMITTED, by=owner)
        assert mailoutbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()

    assert [m.to for m in mailoutbox] == [[staff.email]]
    assert project.acronym in mailoutbox[0].subject
    assert Notification.objects.get().message.status == Message.Status.SENT


@pytest.mark.django_db
def test_a_move_by_staff_greets_the_proposer_and_the_other_staff_by_name_and_spares_its_author(
    project, owner, staff, staff_colleague, mailoutbox
):
    owner.first_name, owner.last_name = "Ada", "Lovelace"
    owner.save()
    services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    services.project_transition(project=project, to=S.UNDER_REVIEW, by=staff)
    send_due()

    review_mails = {tuple(m.to): m for m in mailoutbox if "Submitted" not in m.subject and "Déposé" not in m.subject}
    assert set(review_mails) == {(owner.email,), (staff_colleague.email,)}
    assert review_mails[(owner.email,)].body.startswith("Bonjour Ada Lovelace,")
    assert review_mails[(staff_colleague.email,)].body.startswith("Bonjour Camille Durand,")
    assert not [m for m in mailoutbox if m.to == [staff.email] and "examen" in m.subject.lower()]


@pytest.mark.django_db
def test_sending_twice_sends_one_email(project, owner, staff, mailoutbox):
    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    message = event.notifications.get().message
    outbox.messages_send(message_ids=[message.pk])
    outbox.messages_send(message_ids=[message.pk])
    send_due()
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_applicant_email_never_names_the_staff_member(project, owner, staff, mailoutbox):
    services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    services.project_transition(project=project, to=S.UNDER_REVIEW, by=staff)
    send_due()
    applicant_mails = [m for m in mailoutbox if m.to == [owner.email]]
    assert len(applicant_mails) == 1
    assert staff.email not in applicant_mails[0].body


@pytest.mark.django_db
def test_a_transient_smtp_error_is_retried_by_a_later_scan_and_sent_once(project, owner, staff, smtp_sink):
    import datetime

    from django.utils import timezone

    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    smtp_sink.fail_next(1, "451 4.3.0 Try again later")
    send_due()
    message = event.notifications.get().message
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.PENDING, 1)
    later = timezone.now() + datetime.timedelta(minutes=2)
    outbox.scan(now=later, send=outbox.send_synchronously(now=later))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert [m["To"] for m in smtp_sink.messages] == [staff.email]


@pytest.mark.django_db
def test_a_permanent_smtp_error_is_recorded_and_not_retried(project, owner, staff, smtp_sink):
    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    smtp_sink.fail_next(1, "550 5.1.1 No such user")
    send_due()
    send_due()
    message = event.notifications.get().message
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "550" in message.last_error
    assert smtp_sink.messages == []


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["acronym", "title"])
@pytest.mark.parametrize("value", ["ACRO\r\nBcc: x@example.org", "ACRO\nX", "A\x00B", "A\tB"])
def test_titles_and_acronyms_refuse_control_characters(project, field, value):
    setattr(project, field, value)
    with pytest.raises(ValidationError) as error:
        project.full_clean()
    assert field in error.value.message_dict
    form = ProjectForm(data={"title": "Titre", "acronym": "ACR", field: value}, instance=project)
    # In French whatever an earlier test's request left active (a test client's English page does).
    with translation.override("fr"):
        assert not form.is_valid()
        # Django's form field refuses a NUL byte itself, with its own message.
        expected = "caractère nul" if "\x00" in value else "caractères de contrôle"
        assert expected in str(form.errors[field])


@pytest.mark.django_db
def test_a_notification_that_cannot_be_built_is_failed_with_its_reason_and_staff_see_it(
    project, owner, staff, mailoutbox, client
):
    # A row written before the validator existed (or by a bulk import).
    Project.objects.filter(pk=project.pk).update(acronym="ACRO\r\nBcc: everyone@example.org")
    project.refresh_from_db()
    event = services.project_transition(project=project, to=S.SUBMITTED, by=owner)
    send_due()
    message = event.notifications.get().message
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "Could not be built: BadHeaderError" in message.last_error
    assert mailoutbox == []
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    page = client.get("/admin/projects/notification/")
    assert page.status_code == 200
    assert "BadHeaderError" in page.content.decode()


@pytest.mark.worker
def test_a_real_worker_sends_each_transition_once_even_when_the_task_is_sent_twice(
    start_celery_worker, smtp_sink, project, owner, staff, staff_colleague
):
    start_celery_worker()
    services.project_transition(project=project, to=S.SUBMITTED, by=owner)  # enqueued on commit
    event = services.project_transition(project=project, to=S.UNDER_REVIEW, by=staff)
    ids = list(Message.objects.values_list("pk", flat=True))
    outbox.dispatch(ids)  # a duplicate delivery of the task

    sent = Message.objects.filter(pk__in=ids, status=Message.Status.SENT)
    assert wait_for(lambda: sent.count() == 4, timeout=60)
    time.sleep(2)  # give a duplicate the time to (wrongly) arrive
    assert sorted(m["To"] for m in smtp_sink.messages) == sorted(
        [staff.email, staff_colleague.email, owner.email, staff_colleague.email]
    )
    assert event.notifications.count() == 2
