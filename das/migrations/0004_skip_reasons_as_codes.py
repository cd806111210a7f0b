"""Skip reasons are stored as codes (Delivery.SkipReason) instead of English sentences."""

from django.db import migrations

SENTENCES = {
    "The meeting was cancelled.": "cancelled",
    "The meeting had already started when this e-mail came due.": "started",
    "The invitee declined.": "declined",
    "Superseded by a later version of the invitation.": "superseded",
    "The invitation was sent after this reminder's moment.": "invited_late",
    "The meeting was rescheduled and this reminder's moment had already passed.": "moved_past",
    "This reminder was removed from the meeting.": "removed",
    "The invitee was removed from the meeting.": "uninvited",
    "The invitee left and was anonymised.": "anonymised",
}


def to_codes(apps, schema_editor):
    Delivery = apps.get_model("das", "Delivery")
    for sentence, code in SENTENCES.items():
        Delivery.objects.filter(reason=sentence).update(reason=code)


def to_sentences(apps, schema_editor):
    Delivery = apps.get_model("das", "Delivery")
    for sentence, code in SENTENCES.items():
        Delivery.objects.filter(reason=code).update(reason=sentence)


class Migration(migrations.Migration):
    dependencies = [("das", "0003_delivery_handed_at")]

    operations = [migrations.RunPython(to_codes, to_sentences)]
