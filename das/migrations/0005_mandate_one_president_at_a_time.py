"""One president per DAS at any time, enforced by PostgreSQL: an exclusion constraint over the
mandate's date range [start_date, end_date) — open-ended when end_date is empty.

PostgreSQL only (btree_gist lets the area's equality share the GiST index with the range
overlap): SQLite keeps the partial unique constraint on the open-ended presidency and the
check in Mandate.clean(), which also gives the admin form its message.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

NAME = "mandate_one_president_at_a_time"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE das_mandate ADD CONSTRAINT {NAME} EXCLUDE USING gist "
        "(area_id WITH =, daterange(start_date, end_date, '[)') WITH &&) WHERE (role = 'president')"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE das_mandate DROP CONSTRAINT IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("das", "0004_mandate_as_published_and_seed_record")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, drop_constraint),
    ]
