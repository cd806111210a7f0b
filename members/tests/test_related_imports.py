"""The contacts and membership-years files of the import and export: keyed by SIREN, French formats, all or nothing."""

import datetime
import io
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from members.imports import members_export, members_import
from members.models import MembershipYear, Organisation, Person
from members.tests.factories import MembershipYearFactory, OrganisationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTACTS = "siren;civilite;prenom;nom;fonction;email;roles"
YEARS = "siren;annee;cotisation;statut;date_paiement"
YEARS_EXPORTED = YEARS + ";date_demission;motif_demission"


def csv_bytes(header: str, rows: list[str]) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8-sig")


@pytest.fixture
def members(db):
    hospital = OrganisationFactory(name="Hôpital Saint-Louis", siren="552100554", category="hospital")
    startup = OrganisationFactory(name="Théra Biotech", siren="732829320")
    PersonFactory(
        organisation=hospital, first_name="Claire", last_name="Dubois", email="claire@aphp.example", civility="Prof.",
        position="Cheffe de service", is_primary_contact=True, is_scientific_contact=True,
    )  # fmt: skip
    PersonFactory(organisation=startup, first_name="Léa", last_name="Moreau", email="lea@thera.example",
                  is_billing_contact=True)  # fmt: skip
    MembershipYearFactory(organisation=hospital, year=2025, fee=Decimal("3000.00"), status="active")
    MembershipYearFactory(organisation=hospital, year=2026, fee=Decimal("3000.00"), status="pending")
    MembershipYearFactory(organisation=startup, year=2026, fee=Decimal("1234.50"), status="lapsed")
    MembershipYearFactory(
        organisation=startup, year=2024, fee=Decimal("600.00"), status="resigned",
        resigned_on=datetime.date(2024, 6, 30), resignation_reason="Fin d'activité; rachat",
    )  # fmt: skip
    return hospital, startup


def snapshot() -> tuple[list, list, list]:
    return (
        list(Organisation.objects.order_by("pk").values()),
        list(Person.objects.order_by("pk").values()),
        list(MembershipYear.objects.order_by("pk").values()),
    )


def test_the_three_files_are_french_csv_keyed_by_siren(members):
    contacts = members_export(kind="contacts").decode("utf-8")
    years = members_export(kind="years").decode("utf-8")

    assert contacts.startswith("\ufeff" + CONTACTS + "\r\n")
    assert "552100554;Prof.;Claire;Dubois;Cheffe de service;claire@aphp.example;principal|scientifique\r\n" in contacts
    assert years.startswith("\ufeff" + YEARS_EXPORTED + "\r\n")
    assert "552100554;2025;3000,00;active;01/02/2025;;\r\n" in years
    assert "732829320;2026;1234,50;lapsed;;;\r\n" in years
    assert '732829320;2024;600,00;resigned;;30/06/2024;"Fin d\'activité; rachat"\r\n' in years


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import_of_every_file_changes_nothing(members, tmp_path, file_format):
    paths = {}
    for kind in ("organisations", "contacts", "years"):
        paths[kind] = tmp_path / f"{kind}.{file_format}"
        call_command("export_members", str(paths[kind]), "--kind", kind, "--no-progress")
    before = snapshot()

    reports = [members_import(content=paths[kind].read_bytes()) for kind in ("organisations", "contacts", "years")]

    for report in reports:
        assert report.ok, report.errors
        assert (report.new, report.updated) == (0, 0)
    assert [report.unchanged for report in reports] == [2, 2, 4]
    assert snapshot() == before


def test_a_contacts_file_adds_people_and_changes_roles_with_the_audit_trail(members):
    staff = UserFactory(is_staff=True)
    content = csv_bytes(CONTACTS, [
        "552100554;Prof.;Claire;Dubois;Cheffe de service;CLAIRE@aphp.example;principal",
        "552 100 554;Dr;Paul;Martin;;paul@aphp.example;facturation|communication",
    ])  # fmt: skip

    report = members_import(content=content, by=staff)

    assert report.ok, report.errors
    assert (report.new, report.updated) == (1, 1)
    claire = Person.objects.get(email="claire@aphp.example")
    assert claire.is_primary_contact and not claire.is_scientific_contact
    paul = Person.objects.get(email="paul@aphp.example")
    assert paul.organisation.siren == "552100554"
    assert (paul.civility, paul.is_billing_contact, paul.is_communication_contact) == ("Dr", True, True)
    entries = LogEntry.objects.filter(content_type__model="person", actor=staff)
    assert sorted(entry.action for entry in entries) == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]


def test_a_broken_contacts_file_imports_nothing_and_names_each_line_and_column_in_french(members):
    content = csv_bytes(CONTACTS, [
        "552100554;;Paul;Martin;;paul@aphp.example;facturation",
        "552100554;;Anne;Petit;;pas-une-adresse;principal",
        "123456782;;Marc;Roux;;marc@roux.example;",
        "732829320;;Jean;Blanc;;jean@thera.example;tresorier",
        "732829320;;;Vide;;vide@thera.example;",
        "552100554;;Paul;Martin;;PAUL@aphp.example;",
    ])  # fmt: skip
    before = snapshot()

    with translation.override("fr"):
        report = members_import(content=content)
        problems = [str(problem) for problem in report.errors]

    assert not report.ok
    assert [(p.line, p.column) for p in report.errors] == [
        (3, "email"), (4, "siren"), (5, "roles"), (6, "prenom"), (7, "email"),
    ]  # fmt: skip
    assert "ligne 3, colonne email" in problems[0] and "adresse" in problems[0]
    assert "Aucune organisation n\u2019a ce SIREN" in problems[1]
    assert "tresorier" in problems[2]
    assert "déjà à la ligne 2" in problems[4]
    assert snapshot() == before


def test_two_people_sharing_an_address_are_told_apart_by_name_and_a_name_is_corrected(members):
    _hospital, startup = members
    PersonFactory(organisation=startup, first_name="Marc", last_name="Roux", email="equipe@thera.example")
    PersonFactory(organisation=startup, first_name="Anne", last_name="Petit", email="equipe@thera.example")
    content = csv_bytes(CONTACTS, [
        "732829320;;Marc;Roux;CTO;equipe@thera.example;",
        "732829320;;Anne;Petit;CFO;equipe@thera.example;facturation",
        "552100554;Prof.;Claire;Dubois-Martin;Cheffe de service;claire@aphp.example;principal|scientifique",
    ])  # fmt: skip

    report = members_import(content=content)

    assert report.ok, report.errors
    assert (report.new, report.updated) == (0, 3)
    assert Person.objects.get(first_name="Anne").position == "CFO"
    assert Person.objects.get(email="claire@aphp.example").last_name == "Dubois-Martin"


def test_a_year_with_a_bad_fee_is_refused_and_nothing_is_imported(members):
    content = csv_bytes(YEARS, [
        "732829320;2027;1 500,00;pending;",
        "732829320;2028;douze;pending;",
        "732829320;2029;-10;pending;",
        "732829320;2030;12,345;pending;",
        "732829320;2031;900;active;",
        "732829320;20x1;900;pending;",
        "732829320;2032;900;resigned;",
    ])  # fmt: skip
    before = snapshot()

    with translation.override("fr"):
        report = members_import(content=content)
        problems = [str(problem) for problem in report.errors]

    assert [(p.line, p.column) for p in report.errors] == [
        (3, "cotisation"), (4, "cotisation"), (5, "cotisation"), (6, "date_paiement"), (7, "annee"),
        (8, "date_demission"),
    ]  # fmt: skip
    assert "« douze » n\u2019est pas un montant" in problems[0].replace("\u202f", " ")
    assert snapshot() == before


def test_a_years_file_adds_and_updates_years_in_french_formats(members):
    hospital, startup = members
    content = csv_bytes(YEARS, [
        "552100554;2026;3 000,00;active;15/03/2026",
        "732829320;2027;1\u202f500,5;;",
    ])  # fmt: skip

    report = members_import(content=content)

    assert report.ok, report.errors
    assert (report.new, report.updated, report.unchanged) == (1, 1, 0)
    paid = MembershipYear.objects.get(organisation=hospital, year=2026)
    assert (paid.status, paid.paid_on) == ("active", datetime.date(2026, 3, 15))
    new = MembershipYear.objects.get(organisation=startup, year=2027)
    assert (new.fee, new.status) == (Decimal("1500.50"), "pending")


@pytest.mark.parametrize("kind", ["contacts", "years"])
def test_the_number_of_queries_does_not_grow_with_the_number_of_rows(kind, django_assert_max_num_queries):
    def rows(count: int, start: int) -> bytes:
        organisations = OrganisationFactory.create_batch(count)
        if kind == "contacts":
            lines = [f"{o.siren};;Prénom{n};Nom{n};;p{start + n}@example.org;principal|facturation"
                     for n, o in enumerate(organisations)]  # fmt: skip
            return csv_bytes(CONTACTS, lines)
        lines = [f"{o.siren};2027;1 200,00;active;02/01/2027" for o in organisations]
        return csv_bytes(YEARS, lines)

    small, large = rows(3, 0), rows(150, 100)
    counts = []
    for content in (small, large, large):
        with django_assert_max_num_queries(25) as captured:
            report = members_import(content=content)
        assert report.ok, report.errors
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]
    assert report.unchanged == 150  # the same file again changes nothing


def test_staff_export_contacts_and_years_from_the_admin(members):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/admin/members/organisation/export/", {"kind": "contacts", "file_format": "csv"})

    body = b"".join(response.streaming_content).decode("utf-8")
    assert response.status_code == 200
    assert "medicen-contacts-" in response["Content-Disposition"]
    assert body.startswith("\ufeff" + CONTACTS)


def test_staff_import_a_contacts_file_from_the_admin_which_names_the_bad_line(members):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    upload = io.BytesIO(csv_bytes(CONTACTS, ["552100554;;Paul;Martin;;paul@aphp.example;trésorier"]))
    upload.name = "contacts.csv"

    response = client.post("/admin/members/organisation/import/", {"file": upload})

    page = response.content.decode()
    assert response.status_code == 200
    assert "rien n\u2019a été importé" in page
    assert "trésorier" in page
    assert not Person.objects.filter(email="paul@aphp.example").exists()
