"""Renewal reminders and invitations are sent by the outbox: their rows point at outbox messages.

What was already recorded is carried over as outbox rows (sent, failed, or an interrupted send
flagged as uncertain), so nothing already sent is sent again and nothing failed is forgotten.
"""

import django.db.models.deletion
from django.db import migrations, models


def carry_over(apps, schema_editor):
    MembershipYear = apps.get_model("members", "MembershipYear")
    Person = apps.get_model("members", "Person")
    Message = apps.get_model("outbox", "Message")
    for year in MembershipYear.objects.exclude(reminder_status="not_sent").iterator():
        status = {"sent": "sent", "failed": "failed"}.get(year.reminder_status, "sending")
        message = Message.objects.create(
            key=f"renewal-reminder:{year.pk}",
            kind="members.renewal_reminder",
            subject=f"(renewal reminder {year.year}, sent before the outbox)",
            status=status,
            attempts=year.reminder_attempts,
            next_attempt_at=year.reminder_claimed_at or year.updated_at,
            claimed_at=year.reminder_claimed_at,
            handed_at=year.reminder_claimed_at if status == "sending" else None,
            uncertain_at=year.updated_at if status == "sending" else None,
            sent_at=year.reminder_sent_at,
            last_error=year.reminder_error,
        )
        MembershipYear.objects.filter(pk=year.pk).update(reminder_message=message)
    for person in Person.objects.filter(invitation_sent_at__isnull=False).iterator():
        message = Message.objects.create(
            key=f"member-invitation:{person.pk}:before-outbox",
            kind="members.invitation",
            subject="(account invitation, sent before the outbox)",
            status="sent",
            next_attempt_at=person.invitation_sent_at,
            sent_at=person.invitation_sent_at,
        )
        Person.objects.filter(pk=person.pk).update(invitation_message=message)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0005_directory_count_indexes"),
        ("outbox", "0001_outgoing_messages"),
    ]

    operations = [
        migrations.AddField(
            model_name="membershipyear",
            name="reminder_message",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="outbox.message",
                verbose_name="renewal reminder e-mail",
            ),
        ),
        migrations.AddField(
            model_name="person",
            name="invitation_message",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="outbox.message",
                verbose_name="invitation e-mail",
            ),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="membershipyear", name="members_mem_year_36cf0f_idx"),
        migrations.RemoveField(model_name="membershipyear", name="reminder_attempts"),
        migrations.RemoveField(model_name="membershipyear", name="reminder_claimed_at"),
        migrations.RemoveField(model_name="membershipyear", name="reminder_error"),
        migrations.RemoveField(model_name="membershipyear", name="reminder_sent_at"),
        migrations.RemoveField(model_name="membershipyear", name="reminder_status"),
        migrations.RemoveField(model_name="person", name="invitation_sent_at"),
    ]
