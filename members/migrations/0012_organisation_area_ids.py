"""`Organisation.area_ids`: the ids of its DAS (",2,5,"), kept by the database from the M2M table.

The directory's count for a DAS and a département intersected the area's pairs (36,000 at
100,000 organisations) with the département's listed members: 8 to 11 ms. With the ids on the
organisation's row and in the listed members' (postcode, id) index, it is one index-only scan
of the département (about 2 ms); the cards read them with the page, without a second query.

Triggers on the M2M table keep the column in step whatever writes it (a form's .set(), the
import's COPY, a cascade): on PostgreSQL one UPDATE per statement, from its transition table,
after locking the organisations' rows so two transactions adding areas to one organisation
cannot overwrite each other; on SQLite, one per row.
"""

from django.db import migrations, models

OF = """coalesce((
    SELECT ',' || string_agg(t.strategicarea_id::text, ',' ORDER BY t.strategicarea_id) || ','
    FROM members_organisation_das_interests t WHERE t.organisation_id = o.id), '')"""

POSTGRESQL = [
    f"""
    CREATE FUNCTION members_organisation_area_ids_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM members_organisation WHERE id IN (SELECT organisation_id FROM changed) ORDER BY id FOR UPDATE;
        UPDATE members_organisation o SET area_ids = {OF}
        WHERE o.id IN (SELECT organisation_id FROM changed);
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER members_organisation_area_ids_insert AFTER INSERT ON members_organisation_das_interests
       REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION members_organisation_area_ids_sync()""",
    """CREATE TRIGGER members_organisation_area_ids_delete AFTER DELETE ON members_organisation_das_interests
       REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION members_organisation_area_ids_sync()""",
    # Django never updates a row of the M2M table; refused, so nothing can leave the column behind.
    """CREATE TRIGGER members_organisation_area_ids_update BEFORE UPDATE ON members_organisation_das_interests
       FOR EACH STATEMENT EXECUTE FUNCTION members_organisation_area_ids_refuse()""",
    f"UPDATE members_organisation o SET area_ids = {OF}",
    # The directory's (postcode, id) index of listed members, now with the areas.
    """CREATE INDEX organisation_listed_postcode_areas ON members_organisation (postcode varchar_pattern_ops, id)
       INCLUDE (area_ids) WHERE directory_opt_in AND status = 'active'""",
    "DROP INDEX IF EXISTS organisation_listed_postcode_prefix",
    # And in the (category) one: a DAS and a category are counted from it alone too.
    """CREATE INDEX organisation_listed_category_areas ON members_organisation (category)
       INCLUDE (area_ids) WHERE directory_opt_in AND status = 'active'""",
    "DROP INDEX IF EXISTS organisation_listed_category",
]
POSTGRESQL.insert(
    1,
    """CREATE FUNCTION members_organisation_area_ids_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'members_organisation_das_interests rows are inserted and deleted, never updated';
    END $$""",
)
POSTGRESQL_REVERSE = [
    """CREATE INDEX IF NOT EXISTS organisation_listed_category ON members_organisation (category)
       WHERE directory_opt_in AND status = 'active'""",
    "DROP INDEX IF EXISTS organisation_listed_category_areas",
    """CREATE INDEX IF NOT EXISTS organisation_listed_postcode_prefix ON members_organisation
       (postcode varchar_pattern_ops, id) WHERE directory_opt_in AND status = 'active'""",
    "DROP INDEX IF EXISTS organisation_listed_postcode_areas",
    "DROP TRIGGER IF EXISTS members_organisation_area_ids_insert ON members_organisation_das_interests",
    "DROP TRIGGER IF EXISTS members_organisation_area_ids_delete ON members_organisation_das_interests",
    "DROP TRIGGER IF EXISTS members_organisation_area_ids_update ON members_organisation_das_interests",
    "DROP FUNCTION IF EXISTS members_organisation_area_ids_sync()",
    "DROP FUNCTION IF EXISTS members_organisation_area_ids_refuse()",
]

SQLITE_OF = """coalesce((
    SELECT ',' || group_concat(strategicarea_id, ',') || ',' FROM (
        SELECT strategicarea_id FROM members_organisation_das_interests
        WHERE organisation_id = {row}.organisation_id ORDER BY strategicarea_id)), '')"""
SQLITE = [
    f"""CREATE TRIGGER members_organisation_area_ids_insert AFTER INSERT ON members_organisation_das_interests
        BEGIN UPDATE members_organisation SET area_ids = {SQLITE_OF.format(row="NEW")} WHERE id = NEW.organisation_id; END""",
    f"""CREATE TRIGGER members_organisation_area_ids_delete AFTER DELETE ON members_organisation_das_interests
        BEGIN UPDATE members_organisation SET area_ids = {SQLITE_OF.format(row="OLD")} WHERE id = OLD.organisation_id; END""",
    """CREATE TRIGGER members_organisation_area_ids_update BEFORE UPDATE ON members_organisation_das_interests
        BEGIN SELECT RAISE(ABORT, 'members_organisation_das_interests rows are inserted and deleted, never updated'); END""",
    """UPDATE members_organisation SET area_ids = coalesce((
        SELECT ',' || group_concat(strategicarea_id, ',') || ',' FROM (
            SELECT strategicarea_id FROM members_organisation_das_interests t
            WHERE t.organisation_id = members_organisation.id ORDER BY strategicarea_id)), '')""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS members_organisation_area_ids_insert",
    "DROP TRIGGER IF EXISTS members_organisation_area_ids_delete",
    "DROP TRIGGER IF EXISTS members_organisation_area_ids_update",
]


def create_triggers(apps, schema_editor):
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    statements = {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("members", "0011_merge_changelist_index_and_applications")]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="area_ids",
            field=models.CharField(default="", editable=False, max_length=200, verbose_name="strategic area ids"),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
