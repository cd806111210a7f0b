import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

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


# --- Loading the seed once (issue 12, item 12) ---------------------------------------------


def test_a_second_seed_run_keeps_what_staff_corrected():
    governance_load()
    kotian = Mandate.objects.get(person__last_name="Kotian")
    kotian.position_fr = "Directeur de l'ingénierie"
    kotian.save()
    person = kotian.person
    person.position = "Chief technology officer"
    person.save()

    created = governance_load()

    assert created == {"areas": 0, "people": 0, "mandates": 0}
    kotian.refresh_from_db()
    person.refresh_from_db()
    assert kotian.position_fr == "Directeur de l'ingénierie"
    assert person.position == "Chief technology officer"


def test_a_mandate_staff_deleted_is_not_brought_back_by_the_seed():
    governance_load()
    Mandate.objects.filter(person__last_name="Gesnouin").delete()

    governance_load()

    assert not Mandate.objects.filter(person__last_name="Gesnouin").exists()


def test_a_later_seed_run_adds_only_the_entries_new_in_the_data_file(tmp_path):
    from das.services import GOVERNANCE_FILE

    governance_load()
    before = _snapshot()
    text = GOVERNANCE_FILE.read_text(encoding="utf-8")
    text = text.replace(
        '  role = "president"\n  civility = ""\n  first_name = "Carlos"',
        '  role = "vice_president"\n  civility = "Dr"\n  first_name = "Anne"\n  last_name = "Neuve"\n'
        '  position = "Chief medical officer"\n  position_fr = "Directrice médicale"\n  feminine = true\n'
        '  affiliation = "Nouvelle Santé"\n\n  [[areas.board]]\n'
        '  role = "president"\n  civility = ""\n  first_name = "Carlos"',
    )
    changed = tmp_path / "governance.toml"
    changed.write_text(text, encoding="utf-8")

    created = governance_load(path=changed)

    assert created == {"areas": 0, "people": 1, "mandates": 1}
    assert _snapshot()[0] == before[0]
    neuve = Mandate.objects.get(person__last_name="Neuve")
    assert (neuve.area.code, neuve.role, neuve.position_fr) == (
        "digital-health",
        "vice_president",
        "Directrice médicale",
    )


def test_a_seed_entry_loaded_before_the_record_existed_only_gets_its_empty_fields_filled():
    from das.models import SeedRecord

    governance_load()
    SeedRecord.objects.all().delete()  # a database seeded by the former loader
    vilgrain = Mandate.objects.get(person__last_name="Vilgrain")
    Mandate.objects.filter(pk=vilgrain.pk).update(feminine_title=False, position_fr="", affiliation="Hôpital Beaujon")

    governance_load()

    vilgrain.refresh_from_db()
    assert vilgrain.feminine_title is True
    assert vilgrain.position_fr == "Cheffe du service d\u2019imagerie médicale"
    assert vilgrain.affiliation == "Hôpital Beaujon"  # not empty: as staff left it


# --- Titles and affiliations kept on the mandate (issue 12, items 11 and 14) ----------------


def test_a_mandate_keeps_its_published_title_when_the_persons_record_moves_on():
    governance_load()
    person = Mandate.objects.get(person__last_name="Kotian").person
    person.position, person.affiliation = "Retired", "None"
    person.save()

    mandate = Mandate.objects.get(person=person)
    assert (mandate.position_en, mandate.affiliation) == ("Chief engineer", "GE Healthcare")


def test_the_seed_links_an_affiliation_to_the_member_organisation_of_that_name():
    from members.tests.factories import OrganisationFactory

    ge = OrganisationFactory(name="GE HealthCare SAS")

    governance_load()

    assert Mandate.objects.get(person__last_name="Kotian").organisation == ge
    assert Mandate.objects.get(person__last_name="Frija").organisation is None


def test_a_later_seed_run_links_a_member_organisation_that_joined_since():
    from members.tests.factories import OrganisationFactory

    governance_load()
    cerba = OrganisationFactory(name="Cerba Healthcare")

    governance_load()

    assert Mandate.objects.get(person__last_name="Sallette").organisation == cerba


def test_the_seed_gives_french_titles_and_the_feminine_form():
    from django.utils import translation

    governance_load()
    vilgrain = Mandate.objects.get(person__last_name="Vilgrain")
    frija = Mandate.objects.get(person__last_name="Frija")

    with translation.override("fr"):
        assert (vilgrain.title, vilgrain.position) == ("Vice-présidente", "Cheffe du service d\u2019imagerie médicale")
        assert (frija.title, frija.position) == ("Vice-président", "Radiologue")
    with translation.override("en"):
        assert (vilgrain.title, vilgrain.position) == ("Vice-president", "Head of Medical Imaging Department")


# --- One president at a time, by the database (issue 12, item 13) ---------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's (CI runs it)")
def test_postgresql_refuses_two_overlapping_dated_presidencies_of_one_area():
    area = StrategicAreaFactory()
    MandateFactory(
        area=area, role=Mandate.Role.PRESIDENT, start_date=datetime.date(2020, 1, 1), end_date=datetime.date(2023, 1, 1)
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        MandateFactory(
            area=area,
            role=Mandate.Role.PRESIDENT,
            start_date=datetime.date(2022, 1, 1),
            end_date=datetime.date(2024, 1, 1),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        MandateFactory(area=area, role=Mandate.Role.PRESIDENT, start_date=datetime.date(2019, 1, 1))  # open-ended

    MandateFactory(  # the day the first one ends: no overlap
        area=area, role=Mandate.Role.PRESIDENT, start_date=datetime.date(2023, 1, 1), end_date=datetime.date(2025, 1, 1)
    )
    MandateFactory(area=StrategicAreaFactory(), role=Mandate.Role.PRESIDENT, start_date=datetime.date(2022, 1, 1))
    MandateFactory(area=area, role=Mandate.Role.VICE_PRESIDENT, start_date=datetime.date(2022, 1, 1))
    assert Mandate.objects.filter(area=area, role=Mandate.Role.PRESIDENT).count() == 2


def test_anonymising_a_former_board_member_removes_the_titles_published_on_their_mandates():
    from members.services import person_anonymise
    from members.tests.factories import UserFactory

    governance_load()
    frija = Mandate.objects.get(person__last_name="Frija")
    Mandate.objects.filter(pk=frija.pk).update(end_date=datetime.date(2022, 1, 1))

    person_anonymise(person=frija.person, by=UserFactory(is_staff=True))

    frija.refresh_from_db()
    assert (frija.position_fr, frija.position_en, frija.affiliation) == ("", "", "")
    assert (frija.role, frija.start_date) == ("vice_president", datetime.date(2019, 10, 10))


def test_the_admin_says_why_when_two_overlapping_presidencies_are_entered_together(client):
    from members.tests.factories import UserFactory

    area = StrategicAreaFactory(code="imaging", name_fr="Imagerie", name_en="Imaging")
    first, second = PersonFactory(), PersonFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    data = {
        "code": "imaging",
        "name_fr": "Imagerie",
        "name_en": "Imaging",
        "description_fr": "",
        "description_en": "",
        "position": "2",
        "mandates-TOTAL_FORMS": "2",
        "mandates-INITIAL_FORMS": "0",
        "mandates-MIN_NUM_FORMS": "0",
        "mandates-MAX_NUM_FORMS": "1000",
    }
    for i, (person, start, end) in enumerate(((first, "2020-01-01", "2023-01-01"), (second, "2022-01-01", ""))):
        data |= {
            f"mandates-{i}-person": str(person.pk),
            f"mandates-{i}-role": "president",
            f"mandates-{i}-start_date": start,
            f"mandates-{i}-end_date": end,
            f"mandates-{i}-position_fr": "",
            f"mandates-{i}-affiliation": "",
            f"mandates-{i}-organisation": "",
        }

    response = client.post(f"/admin/das/strategicarea/{area.pk}/change/", data)

    assert response.status_code == 200
    assert "déjà un président sur cette période" in response.content.decode()
    assert not Mandate.objects.filter(area=area).exists()
