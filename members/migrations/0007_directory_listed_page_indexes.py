"""Indexes that let a directory page be found from an index alone, at any page and for a search.

Measured at 100,000 organisations (70,000 listed), bench/members_directory.py: page 200 of the
directory read 4,800 table rows to skip them (27 ms); the (name, id) index of listed members
answers the page's ids from the index (index-only scan), and the rows of the 24 ids are then
read by primary key. A search ("cardio") counted its matches by rechecking 4,010 rows against
the listed condition (20 ms); the trigram index restricted to listed members holds only those.
PostgreSQL only, like 0003 and 0005.
"""

from django.db import migrations

LISTED = "WHERE directory_opt_in AND status = 'active'"
INDEXES = {
    "organisation_listed_name_id": f"members_organisation (name, id) {LISTED}",
    "organisation_listed_search_trgm": f"members_organisation USING gin (search_key gin_trgm_ops) {LISTED}",
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
    dependencies = [("members", "0006_import_job")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
