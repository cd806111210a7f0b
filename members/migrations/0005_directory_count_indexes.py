"""Indexes that let the directory's counts be answered from the index alone (index-only scans).

Each directory page with a filter counts its matches. Without these, PostgreSQL reads every
matching row from the table (14 ms for the SMEs, 33 ms for a DAS and a département at 100,000
organisations); with them, and the visibility map a vacuum sets, 2 ms and 16–18 ms. PostgreSQL
only, like 0003: on SQLite the same queries run without them.
"""

from django.db import migrations

LISTED = "WHERE directory_opt_in AND status = 'active'"
INDEXES = {
    "organisation_listed_category": f"members_organisation (category) {LISTED}",
    "organisation_listed_postcode_prefix": f"members_organisation (postcode varchar_pattern_ops, id) {LISTED}",
    # The DAS filter starts from the area: Django's own index of the M2M table leads with the organisation.
    "organisation_das_interests_area": "members_organisation_das_interests (strategicarea_id, organisation_id)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("members", "0004_user_language_person_anonymised")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
