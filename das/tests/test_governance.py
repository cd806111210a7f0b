import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from das.models import Mandate, StrategicArea
from das.services import governance_load
from das.tests.factories import MandateFactory, StrategicAreaFactory
from members.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _snapshot() -> list:
    return [
        list(StrategicArea.objects.order_by("pk").values()),
        list(Mandate.objects.order_by("pk").values()),
        list(Mandate.objects.order_by("pk").values("person__civility", "person__position", "person__affiliation")),
    ]


def test_seed_loads_five_areas_five_presidents_and_nine_vice_presidents():
    governance_load()

    board = Mandate.objects.as_of(datetime.date(2019, 10, 10))
    assert StrategicArea.objects.count() == 5
    assert board.filter(role=Mandate.Role.PRESIDENT).count() == 5
    assert board.filter(role=Mandate.Role.VICE_PRESIDENT).count() == 9
    assert set(StrategicArea.objects.values_list("name_en", flat=True)) == {
        "Biological diagnostics",
        "Imaging",
        "Biotherapies and molecules",
        "Digital health",
        "Techno-therapies",
    }


@pytest.mark.parametrize(
    ("area", "role", "full_name", "affiliation"),
    [
        ("biological-diagnostics", "president", "Jérôme Sallette", "Cerba Healthcare"),
        ("biological-diagnostics", "vice_president", "Prof. Patrice Debré", "Hôpital Pitié-Salpêtrière (AP-HP)"),
        ("imaging", "president", "François Kotian", "GE Healthcare"),
        ("imaging", "vice_president", "Prof. Valérie Vilgrain", "Hôpital Beaujon, AP-HP"),
        ("biotherapies-molecules", "president", "Hugues Dolgos", "Servier"),
        ("biotherapies-molecules", "vice_president", "Prof. Jérôme Larghero", "Hôpital Saint-Louis (AP-HP)"),
        ("techno-therapies", "president", "Antoine Groheux", "Medtronic France"),
        (
            "techno-therapies",
            "vice_president",
            "Dr Jean-Marc Collombet",
            "Institut de Recherche Biomédicale des Armées (IRBA)",
        ),
        ("digital-health", "president", "Carlos Jaime", "InterSystems France"),
        ("digital-health", "vice_president", "Philippe Gesnouin", "Inria"),
    ],
)
def test_seed_places_each_published_board_member_in_the_right_area(area, role, full_name, affiliation):
    governance_load()

    names = {
        (m.person.full_name, m.person.affiliation)
        for m in Mandate.objects.current().filter(area__code=area, role=role).select_related("person")
    }
    assert (full_name, affiliation) in names


def test_seed_mandates_start_on_the_announcement_date():
    governance_load()

    assert set(Mandate.objects.values_list("start_date", flat=True)) == {datetime.date(2019, 10, 10)}
    assert Mandate.objects.as_of(datetime.date(2019, 10, 9)).count() == 0


def test_running_the_seed_twice_changes_nothing():
    governance_load()
    before = _snapshot()

    created = governance_load()

    assert created == {"areas": 0, "people": 0, "mandates": 0}
    assert _snapshot() == before


def test_database_refuses_a_second_current_president_in_one_area():
    area = StrategicAreaFactory()
    MandateFactory(area=area, role=Mandate.Role.PRESIDENT)

    with pytest.raises(IntegrityError), transaction.atomic():
        MandateFactory(area=area, role=Mandate.Role.PRESIDENT)

    assert Mandate.objects.filter(area=area, role=Mandate.Role.PRESIDENT).count() == 1


def test_a_president_can_follow_one_whose_mandate_ended():
    area = StrategicAreaFactory()
    MandateFactory(area=area, role=Mandate.Role.PRESIDENT, end_date=datetime.date(2023, 1, 1))
    successor = Mandate(
        person=PersonFactory(), area=area, role=Mandate.Role.PRESIDENT, start_date=datetime.date(2023, 1, 1)
    )

    successor.full_clean()
    successor.save()

    assert [m.person for m in Mandate.objects.as_of(datetime.date(2024, 6, 1)).filter(area=area)] == [successor.person]
    assert successor.person not in [m.person for m in Mandate.objects.as_of(datetime.date(2022, 6, 1))]


def test_validation_refuses_a_dated_president_mandate_that_overlaps_another():
    area = StrategicAreaFactory()
    MandateFactory(area=area, role=Mandate.Role.PRESIDENT, end_date=datetime.date(2023, 1, 1))
    overlapping = Mandate(
        person=PersonFactory(), area=area, role=Mandate.Role.PRESIDENT, start_date=datetime.date(2022, 1, 1)
    )

    with pytest.raises(ValidationError, match="déjà un président sur cette période"):
        overlapping.full_clean()


def test_governance_as_of_a_date_is_one_query(django_assert_num_queries):
    governance_load()

    with django_assert_num_queries(1):
        board = list(Mandate.objects.as_of(datetime.date(2020, 1, 1)).select_related("person", "area"))

    assert len(board) == 14
