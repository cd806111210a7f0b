"""The meeting models leave das for the meetings app (meetings/migrations/0001), tables and all.

State only: the tables keep their names (das_meeting, das_delivery, ...: the models' Meta.db_table)
and their rows; nothing is done to the database here.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("das", "0009_delivery_on_the_outbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="calendarfeed",
                    name="person",
                ),
                migrations.RemoveField(
                    model_name="delivery",
                    name="invitation",
                ),
                migrations.RemoveField(
                    model_name="delivery",
                    name="meeting",
                ),
                migrations.RemoveField(
                    model_name="delivery",
                    name="message",
                ),
                migrations.RemoveField(
                    model_name="invitation",
                    name="meeting",
                ),
                migrations.RemoveField(
                    model_name="invitation",
                    name="person",
                ),
                migrations.RemoveField(
                    model_name="meeting",
                    name="area",
                ),
                migrations.RemoveField(
                    model_name="topic",
                    name="selected_at",
                ),
                migrations.RemoveField(
                    model_name="topic",
                    name="areas",
                ),
                migrations.RemoveField(
                    model_name="topic",
                    name="proposed_by",
                ),
                migrations.RemoveField(
                    model_name="topicvote",
                    name="topic",
                ),
                migrations.RemoveField(
                    model_name="topicvote",
                    name="person",
                ),
                migrations.DeleteModel(
                    name="AgendaItem",
                ),
                migrations.DeleteModel(
                    name="CalendarFeed",
                ),
                migrations.DeleteModel(
                    name="Delivery",
                ),
                migrations.DeleteModel(
                    name="Invitation",
                ),
                migrations.DeleteModel(
                    name="Meeting",
                ),
                migrations.DeleteModel(
                    name="Topic",
                ),
                migrations.DeleteModel(
                    name="TopicVote",
                ),
            ],
            database_operations=[],
        ),
    ]
