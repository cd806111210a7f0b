"""Fast inserts of many rows, for seeding: COPY on PostgreSQL, bulk_create elsewhere.

`bulk_create` builds a model instance and prepares every value in Python; at 100,000
organisations and their contacts that costs more than the database's own work. COPY takes
plain tuples. Values must already be what the column stores (str, int, bool, date,
Decimal, None); the model's other fields get their defaults, computed once per call, and
no `save()` or signal runs — as with `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections, router
from django.db.models import Model

BULK_CREATE_BATCH = 5000


def bulk_insert(model: type[Model], fields: Sequence[str], rows: Iterable[tuple], *, with_ids: bool = False) -> list:
    """Insert `rows` (tuples of values for `fields`) into `model`'s table; return their ids if asked."""
    rows = list(rows)
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql":
        return copy_insert(model, fields, rows, with_ids=with_ids, connection=connection)
    return bulk_create_insert(model, fields, rows, with_ids=with_ids)


def bulk_create_insert(model: type[Model], fields: Sequence[str], rows: list[tuple], *, with_ids: bool) -> list:
    created = model._default_manager.bulk_create(
        [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=BULK_CREATE_BATCH
    )
    return [instance.pk for instance in created] if with_ids else []


def copy_insert(model: type[Model], fields: Sequence[str], rows: list[tuple], *, with_ids: bool, connection) -> list:
    opts = model._meta
    prototype = model()
    given = set(fields)
    defaults = [
        (field.column, field.get_db_prep_save(field.pre_save(prototype, add=True), connection))
        for field in opts.concrete_fields
        if not field.primary_key and field.name not in given and field.attname not in given
    ]
    columns = [opts.get_field(name).column for name in fields] + [column for column, _value in defaults]
    tail = tuple(value for _column, value in defaults)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        ids: list = []
        if with_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [opts.db_table, opts.pk.column, len(rows)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            columns.insert(0, opts.pk.column)
        sql = f"COPY {quote(opts.db_table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:  # the psycopg cursor under Django's wrapper
            if with_ids:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, *row, *tail))
            else:
                for row in rows:
                    copy.write_row((*row, *tail))
    return ids
