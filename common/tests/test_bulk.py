"""bulk_insert: COPY on PostgreSQL, bulk_create elsewhere; both give the same rows."""

import datetime
from decimal import Decimal

import pytest

from common.bulk import bulk_create_insert, bulk_insert
from members.models import MembershipYear, Organisation, Person

pytestmark = pytest.mark.django_db

FIELDS = ("name", "slug", "category", "status", "member_since", "headcount", "directory_opt_in")
ROWS = [
    ("Imagia SAS", "imagia-sas", "startup", "active", datetime.date(2019, 10, 1), 12, True),
    ("Hôpital Necker (AP-HP)", "hopital-necker-ap-hp", "hospital", "active", None, None, False),
]


def _stored(ids):
    return list(
        Organisation.objects.filter(pk__in=ids).order_by("pk").values_list(*FIELDS, "siren", "name_key", "website")
    )


def test_rows_are_inserted_with_their_ids_and_the_model_defaults():
    ids = bulk_insert(Organisation, FIELDS, ROWS, with_ids=True)

    assert len(ids) == 2 and ids == sorted(ids)
    # Fields not given take the model's defaults (empty SIREN, name key, website).
    assert _stored(ids) == [(*row, "", "", "") for row in ROWS]
    # The id sequence moved past the inserted rows: the ORM's next insert does not collide.
    later = Organisation.objects.create(name="Later", slug="later", category="sme")
    assert later.pk > max(ids)


def test_foreign_keys_decimals_and_auto_timestamps():
    (organisation_id,) = bulk_insert(Organisation, FIELDS, ROWS[:1], with_ids=True)
    bulk_insert(
        MembershipYear,
        ("organisation_id", "year", "fee", "status", "paid_on"),
        [(organisation_id, 2026, Decimal("600.00"), "active", datetime.date(2026, 2, 3))],
    )
    bulk_insert(
        Person,
        ("first_name", "last_name", "email", "organisation_id"),
        [("Ada", "Lovelace", "a@x.example", organisation_id)],
    )

    year = MembershipYear.objects.get(organisation_id=organisation_id)
    assert (year.fee, year.paid_on, year.reminder_message_id) == (Decimal("600.00"), datetime.date(2026, 2, 3), None)
    assert year.created_at is not None and year.updated_at is not None
    assert Person.objects.get(organisation_id=organisation_id).is_primary_contact is False


def test_the_bulk_create_path_stores_the_same_rows():
    ids = bulk_create_insert(Organisation, FIELDS, ROWS, with_ids=True)
    assert _stored(ids) == [(*row, "", "", "") for row in ROWS]
