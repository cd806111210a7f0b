"""`Organisation.area_ids` ("," + the ids of its DAS + ","): the database keeps it in step with the M2M table,
whatever writes that table, and nothing Django saves overwrites it (members migration 0012)."""

import random
import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction
from faker import Faker

from members import services
from members.demo import seed_organisations
from members.imports import members_import
from members.models import Organisation
from members.tests.factories import OrganisationFactory, UserFactory
from members.tests.test_imports import GOOD_ROWS, csv_bytes

pytestmark = pytest.mark.django_db


def expected(organisation) -> str:
    ids = sorted(organisation.das_interests.values_list("pk", flat=True))
    return "," + ",".join(map(str, ids)) + "," if ids else ""


def stored(organisation) -> str:
    return Organisation.objects.values_list("area_ids", flat=True).get(pk=organisation.pk)


def test_adding_setting_removing_and_clearing_areas_keeps_the_column_in_step(areas):
    organisation = OrganisationFactory()
    assert stored(organisation) == ""

    organisation.das_interests.add(areas["techno-therapies"], areas["imaging"])
    assert stored(organisation) == expected(organisation) == f",{areas['imaging'].pk},{areas['techno-therapies'].pk},"
    organisation.das_interests.remove(areas["imaging"])
    assert stored(organisation) == f",{areas['techno-therapies'].pk},"
    organisation.das_interests.set([areas["digital-health"]])
    assert stored(organisation) == f",{areas['digital-health'].pk},"
    organisation.das_interests.clear()
    assert stored(organisation) == ""


def test_a_profile_update_and_a_deleted_area_keep_it_in_step(areas):
    organisation = OrganisationFactory()
    services.organisation_profile_update(
        organisation=organisation,
        by=UserFactory(is_staff=True),
        das_interests=[areas["imaging"], areas["biological-diagnostics"]],
        description="Imagerie.",
    )
    assert stored(organisation) == expected(organisation) != ""

    areas["imaging"].delete()
    assert stored(organisation) == f",{areas['biological-diagnostics'].pk},"


def test_an_import_of_new_and_updated_organisations_keeps_it_in_step(areas):
    assert members_import(content=csv_bytes(GOOD_ROWS)).ok
    changed = GOOD_ROWS[0].replace("imaging|biological-diagnostics", "digital-health")
    assert members_import(content=csv_bytes([changed, GOOD_ROWS[1]])).ok

    saint_louis, thera = Organisation.objects.get(siren="552100554"), Organisation.objects.get(siren="732829320")
    assert stored(saint_louis) == expected(saint_louis) == f",{areas['digital-health'].pk},"
    assert stored(thera) == expected(thera) == f",{areas['biotherapies-molecules'].pk},"


def test_the_demo_seed_keeps_it_in_step(areas):
    ids = seed_organisations(rng=random.Random(5), fake=Faker("fr_FR"), count=40)

    organisations = Organisation.objects.filter(pk__in=ids).prefetch_related("das_interests")
    assert [organisation.area_ids for organisation in organisations] == [
        "," + ",".join(str(area.pk) for area in sorted(organisation.das_interests.all(), key=lambda a: a.pk)) + ","
        if organisation.das_interests.all()
        else ""
        for organisation in organisations
    ]
    assert any(organisation.area_ids for organisation in organisations)


def test_saving_an_instance_read_before_its_areas_changed_does_not_overwrite_them(areas):
    organisation = OrganisationFactory()
    stale = Organisation.objects.get(pk=organisation.pk)
    organisation.das_interests.set([areas["imaging"]])

    stale.description = "Edited in another tab."
    stale.save()
    deferred = Organisation.objects.only("pk", "city").get(pk=organisation.pk)
    deferred.city = "Créteil"
    deferred.save()

    assert stored(organisation) == f",{areas['imaging'].pk},"
    assert Organisation.objects.get(pk=organisation.pk).description == "Edited in another tab."


def test_a_row_of_the_m2m_table_cannot_be_updated_behind_the_column_s_back(areas):
    organisation = OrganisationFactory()
    organisation.das_interests.set([areas["imaging"]])

    with pytest.raises(DatabaseError, match="never updated"), transaction.atomic():
        Organisation.das_interests.through.objects.filter(organisation=organisation).update(
            strategicarea=areas["digital-health"]
        )
    assert stored(organisation) == f",{areas['imaging'].pk},"


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite has one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_two_transactions_adding_areas_to_one_organisation_at_once_both_count(areas):
    organisation = OrganisationFactory()
    first_added, second_started = threading.Event(), threading.Event()

    def add(area, *, before_commit: threading.Event | None = None, signal: threading.Event) -> None:
        try:
            with transaction.atomic():
                organisation.das_interests.add(area)
                signal.set()
                if before_commit:
                    before_commit.wait(5)
                    time.sleep(0.3)  # the other one now waits for this one's lock on the organisation
        finally:
            connection.close()

    first = threading.Thread(
        target=add, args=(areas["imaging"],), kwargs={"before_commit": second_started, "signal": first_added}
    )
    first.start()
    first_added.wait(5)
    second = threading.Thread(target=add, args=(areas["digital-health"],), kwargs={"signal": second_started})
    second.start()
    first.join(10)
    second.join(10)

    assert stored(organisation) == expected(organisation) == f",{areas['imaging'].pk},{areas['digital-health'].pk},"
