"""Fill the normalised names, load the default fee grid, and add trigram search indexes.

The trigram (pg_trgm) GIN indexes, and the pattern indexes for prefixes, make the admin's and the directory's "contains" searches
use an index at 100,000 organisations. They exist only on PostgreSQL; on SQLite the
searches work the same without them.
"""

from decimal import Decimal

from django.db import migrations

TRIGRAM_INDEXES = {
    "organisation_search_key_trgm": "members_organisation USING gin (search_key gin_trgm_ops)",
    "person_email_trgm": "members_person USING gin (UPPER(email::text) gin_trgm_ops)",
    # Prefix searches (LIKE 'x%'): the database's collation is not C, so a plain b-tree cannot serve them.
    "organisation_siren_prefix": "members_organisation (siren varchar_pattern_ops)",
    "organisation_postcode_prefix": "members_organisation (postcode varchar_pattern_ops)",
}

# Yearly fees (€ excl. VAT) of a Paris-region health cluster; staff edit them in the admin.
DEFAULT_FEE_GRID = [
    ("startup", 0, 9, "600"),
    ("startup", 10, None, "900"),
    ("sme", 0, 49, "1500"),
    ("sme", 50, None, "2500"),
    ("midsize", 0, None, "5000"),
    ("large", 0, None, "12000"),
    ("research", 0, None, "3000"),
    ("university", 0, None, "3000"),
    ("hospital", 0, None, "3000"),
    ("authority", 0, None, "2000"),
    ("investor", 0, None, "2500"),
    ("other", 0, None, "500"),
]


def fill_name_keys(apps, schema_editor):
    from members.models import organisation_name_key, organisation_search_key

    Organisation = apps.get_model("members", "Organisation")
    batch = []
    for organisation in Organisation.objects.only("pk", "name", "city").iterator(chunk_size=2000):
        organisation.name_key = organisation_name_key(organisation.name)
        organisation.search_key = organisation_search_key(organisation.name, organisation.city)
        batch.append(organisation)
        if len(batch) == 2000:
            Organisation.objects.bulk_update(batch, ["name_key", "search_key"])
            batch = []
    Organisation.objects.bulk_update(batch, ["name_key", "search_key"])


def load_fee_grid(apps, schema_editor):
    FeeRate = apps.get_model("members", "FeeRate")
    for category, low, high, amount in DEFAULT_FEE_GRID:
        FeeRate.objects.get_or_create(
            category=category, headcount_min=low, defaults={"headcount_max": high, "amount": Decimal(amount)}
        )


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in TRIGRAM_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    # With the default sample, PostgreSQL guesses that LIKE '%term%' matches ~1% of rows and walks the
    # name index filtering row by row (80-160 ms at 100,000 rows); a finer sample makes it estimate the
    # few hundred real matches and use the trigram index (~1 ms).
    schema_editor.execute("ALTER TABLE members_organisation ALTER COLUMN search_key SET STATISTICS 1000")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("members", "0002_membership_contacts_directory")]

    operations = [
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.RunPython(load_fee_grid, migrations.RunPython.noop),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
