"""The meeting models, taken over from das (das/migrations/0010) with their tables and rows.

The models keep their tables (Meta.db_table = "das_<model>"), so creating them is state only.
Their content types are renamed from das to meetings in place: the permissions hanging on them
(and so every group's and user's grant), the admin's history and the audit trail keep pointing
at the same rows.
"""

import django.db.models.deletion
import meetings.models
from django.db import migrations, models

MOVED = ["meeting", "topic", "topicvote", "agendaitem", "invitation", "delivery", "calendarfeed"]


def _relabel(apps, *, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        # On a new database neither exists yet (post_migrate creates the meetings ones); where both
        # exist (a database that ran this app before), the older one is left alone.
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_to_meetings(apps, schema_editor) -> None:
    _relabel(apps, source="das", target="meetings")


def content_types_back_to_das(apps, schema_editor) -> None:
    _relabel(apps, source="meetings", target="das")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ('das', '0010_meetings_move_to_their_app'),
        ('members', '0011_merge_changelist_index_and_applications'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('outbox', '0001_outgoing_messages'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CalendarFeed',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token', models.CharField(max_length=64, unique=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('person', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='meeting_feed', to='members.person')),
                    ],
                    options={
                        'verbose_name': 'calendar feed',
                        'verbose_name_plural': 'calendar feeds',
                        'db_table': 'das_calendarfeed',
                    },
                ),
                migrations.CreateModel(
                    name='Meeting',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('uid', models.UUIDField(editable=False, unique=True, verbose_name='calendar UID')),
                        ('title', models.CharField(max_length=200, verbose_name='title')),
                        ('committee', models.CharField(choices=[('kol_committee', 'KOL committee (all strategic areas)'), ('das_board', 'Board of one strategic area')], max_length=20, verbose_name='committee')),
                        ('starts_at', models.DateTimeField(verbose_name='starts at')),
                        ('ends_at', models.DateTimeField(verbose_name='ends at')),
                        ('place', models.CharField(blank=True, max_length=255, verbose_name='place')),
                        ('video_url', models.URLField(blank=True, verbose_name='video link')),
                        ('agenda', models.TextField(blank=True, verbose_name='agenda')),
                        ('status', models.CharField(choices=[('draft', 'In preparation'), ('scheduled', 'Scheduled'), ('cancelled', 'Cancelled'), ('held', 'Held')], default='scheduled', max_length=20, verbose_name='status')),
                        ('minutes', models.TextField(blank=True, verbose_name='minutes')),
                        ('reminder_offsets', models.JSONField(default=meetings.models.default_reminder_offsets, validators=[meetings.models.validate_reminder_offsets], verbose_name='reminders (minutes before the start)')),
                        ('sequence', models.PositiveIntegerField(default=0, verbose_name='revision')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                        ('area', models.ForeignKey(blank=True, help_text='Only for the meeting of one DAS board.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='meetings', to='das.strategicarea', verbose_name='strategic area')),
                    ],
                    options={
                        'verbose_name': 'committee meeting',
                        'verbose_name_plural': 'committee meetings',
                        'db_table': 'das_meeting',
                        'ordering': ['-starts_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Invitation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('email', models.EmailField(max_length=254, verbose_name='e-mail')),
                        ('source', models.CharField(choices=[('mandate', 'Mandate holder'), ('staff', 'Added by staff')], default='staff', max_length=20, verbose_name='source')),
                        ('response', models.CharField(blank=True, choices=[('', 'No answer yet'), ('accepted', 'Accepted'), ('tentative', 'Tentative'), ('declined', 'Declined')], default='', max_length=20, verbose_name='answer')),
                        ('responded_at', models.DateTimeField(blank=True, null=True, verbose_name='answered at')),
                        ('attended', models.BooleanField(blank=True, null=True, verbose_name='attended')),
                        ('withdrawn_at', models.DateTimeField(blank=True, null=True, verbose_name='withdrawn at')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='invited at')),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='members.person', verbose_name='person')),
                        ('meeting', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='invitations', to='meetings.meeting', verbose_name='meeting')),
                    ],
                    options={
                        'verbose_name': 'invitation',
                        'verbose_name_plural': 'invitations',
                        'db_table': 'das_invitation',
                        'ordering': ['person__last_name', 'person__first_name'],
                    },
                ),
                migrations.CreateModel(
                    name='Delivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('invitation', 'Invitation'), ('update', 'Updated invitation'), ('cancellation', 'Cancellation'), ('reminder', 'Reminder')], max_length=20, verbose_name='kind')),
                        ('offset_minutes', models.PositiveIntegerField(default=0, verbose_name='offset (minutes)')),
                        ('sequence', models.PositiveIntegerField(default=0, verbose_name='revision')),
                        ('email', models.EmailField(max_length=254, verbose_name='e-mail')),
                        ('due_at', models.DateTimeField(verbose_name='due at')),
                        ('skip_reason', models.CharField(blank=True, choices=[('cancelled', 'The meeting was cancelled.'), ('started', 'The meeting had already started when this e-mail came due.'), ('declined', 'The invitee declined.'), ('superseded', 'Superseded by a later version of the invitation.'), ('invited_late', "The invitation was sent after this reminder's moment."), ('moved_past', "The meeting was rescheduled and this reminder's moment had already passed."), ('removed', 'This reminder was removed from the meeting.'), ('uninvited', 'The invitee was removed from the meeting.'), ('anonymised', 'The invitee left and was anonymised.')], max_length=20, verbose_name='skipped because')),
                        ('variant', models.CharField(blank=True, help_text="Reminder or 'please reply'.", max_length=20, verbose_name='variant')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                        ('message', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='outbox.message', verbose_name='outgoing e-mail')),
                        ('invitation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='meetings.invitation', verbose_name='invitation')),
                        ('meeting', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='meetings.meeting', verbose_name='meeting')),
                    ],
                    options={
                        'verbose_name': 'e-mail delivery',
                        'verbose_name_plural': 'e-mail deliveries',
                        'db_table': 'das_delivery',
                        'ordering': ['due_at', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Topic',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=200, verbose_name='title')),
                        ('description', models.TextField(blank=True, verbose_name='description')),
                        ('status', models.CharField(choices=[('proposed', 'Proposed'), ('selected', 'Selected'), ('set_aside', 'Set aside')], default='proposed', max_length=20, verbose_name='status')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='proposed on')),
                        ('areas', models.ManyToManyField(related_name='topics', to='das.strategicarea', verbose_name='strategic areas')),
                        ('proposed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='members.person', verbose_name='proposed by')),
                        ('selected_at', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='selected_topics', to='meetings.meeting', verbose_name='selected at')),
                    ],
                    options={
                        'verbose_name': 'topic',
                        'verbose_name_plural': 'topics',
                        'db_table': 'das_topic',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='AgendaItem',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveSmallIntegerField(default=0)),
                        ('selected', models.BooleanField(default=False, verbose_name='selected by the committee')),
                        ('meeting', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='agenda_items', to='meetings.meeting', verbose_name='meeting')),
                        ('topic', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='agenda_items', to='meetings.topic')),
                    ],
                    options={
                        'verbose_name': 'agenda item',
                        'verbose_name_plural': 'agenda items',
                        'db_table': 'das_agendaitem',
                        'ordering': ['position', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='TopicVote',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='members.person')),
                        ('topic', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='votes', to='meetings.topic')),
                    ],
                    options={
                        'verbose_name': 'topic vote',
                        'verbose_name_plural': 'topic votes',
                        'db_table': 'das_topicvote',
                    },
                ),
                migrations.AddIndex(
                    model_name='meeting',
                    index=models.Index(fields=['status', 'starts_at'], name='das_meeting_status_450dda_idx'),
                ),
                migrations.AddConstraint(
                    model_name='meeting',
                    constraint=models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='meeting_ends_after_it_starts', violation_error_message='A meeting must end after it starts.'),
                ),
                migrations.AddConstraint(
                    model_name='meeting',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('committee', 'das_board'), ('area__isnull', False)), models.Q(('committee', 'kol_committee'), ('area__isnull', True)), _connector='OR'), name='meeting_board_has_one_area', violation_error_message='Choose the strategic area of a board meeting, and none for the committee.'),
                ),
                migrations.AddConstraint(
                    model_name='invitation',
                    constraint=models.UniqueConstraint(fields=('meeting', 'person'), name='invitation_person_once'),
                ),
                migrations.AddConstraint(
                    model_name='invitation',
                    constraint=models.UniqueConstraint(fields=('meeting', 'email'), name='invitation_address_once'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(condition=models.Q(('message__isnull', True), ('skip_reason', '')), fields=['due_at'], name='delivery_waiting'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(fields=['meeting', 'kind'], name='das_deliver_meeting_2209e9_idx'),
                ),
                migrations.AddConstraint(
                    model_name='delivery',
                    constraint=models.UniqueConstraint(fields=('invitation', 'kind', 'offset_minutes', 'sequence'), name='delivery_once_per_purpose'),
                ),
                migrations.AddConstraint(
                    model_name='agendaitem',
                    constraint=models.UniqueConstraint(fields=('meeting', 'topic'), name='agenda_item_topic_once'),
                ),
                migrations.AddConstraint(
                    model_name='topicvote',
                    constraint=models.UniqueConstraint(fields=('topic', 'person'), name='topic_vote_once_per_person'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_meetings, content_types_back_to_das),
    ]
