"""Import and export of organisations: French encodings, XLSX, atomicity, round trip, formula injection."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import Workbook, load_workbook

from members.imports import members_export, members_import
from members.models import Organisation
from members.tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "siren;nom;categorie;statut;adherent_depuis;effectif;adresse;code_postal;ville;site_web;das;annuaire;description"
)
GOOD_ROWS = [
    "552100554;Hôpital Saint-Louis (AP-HP);hospital;active;01/03/2012;;1 avenue Claude-Vellefaux;75010;Paris;"
    "https://hopital-saintlouis.aphp.fr;imaging|biological-diagnostics;oui;Hôpital universitaire",
    "732829320;Théra Biotech SAS;Startup;active;15/09/2021;12;12 rue de l'Église;94000;Créteil;;"
    "biotherapies-molecules;non;Thérapies géniques",
]


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode(encoding)


def test_a_utf8_csv_with_bom_and_semicolons_is_imported(areas):
    report = members_import(content=csv_bytes(GOOD_ROWS))

    assert report.ok, report.errors
    assert (report.new, report.updated, report.encoding) == (2, 0, "UTF-8 (BOM)")
    hospital = Organisation.objects.get(siren="552100554")
    assert hospital.name == "Hôpital Saint-Louis (AP-HP)"
    assert hospital.member_since == datetime.date(2012, 3, 1)
    assert hospital.directory_opt_in is True
    assert sorted(hospital.das_interests.values_list("code", flat=True)) == ["biological-diagnostics", "imaging"]
    startup = Organisation.objects.get(siren="732829320")
    assert (startup.category, startup.headcount, startup.city) == ("startup", 12, "Créteil")


def test_a_windows_1252_csv_is_imported_with_its_accents(areas):
    report = members_import(content=csv_bytes(GOOD_ROWS, encoding="cp1252"))

    assert report.ok, report.errors
    assert report.encoding == "Windows-1252"
    assert Organisation.objects.get(siren="732829320").address == "12 rue de l'Église"


def test_an_xlsx_file_is_imported_with_real_dates_and_numbers(areas):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(";"))
    sheet.append(
        [552100554, "Hôpital Saint-Louis (AP-HP)", "hospital", "active", datetime.datetime(2012, 3, 1), None, "",
         7501, "Paris", "", "imaging", "oui", ""]
    )  # fmt: skip
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = members_import(content=buffer.getvalue())

    assert report.ok, report.errors
    hospital = Organisation.objects.get(siren="552100554")
    assert hospital.member_since == datetime.date(2012, 3, 1)
    assert hospital.postcode == "07501"  # the spreadsheet dropped the leading zero


def test_one_invalid_row_writes_nothing_and_every_error_names_its_line_column_and_reason(areas):
    rows = [
        GOOD_ROWS[0],
        "123456789;Bad Siren;startup;active;01/01/2020;;;75013;Paris;;;oui;",
        "732829320;Bad Date;startup;active;31/02/2020;;;75013;Paris;;;oui;",
        ";Bad Category;laboratoire;active;;;;75013;Paris;;inconnu;peut-être;",
    ]

    report = members_import(content=csv_bytes(rows))

    assert not report.ok
    assert Organisation.objects.count() == 0
    problems = {(problem.line, problem.column) for problem in report.errors}
    assert (3, "siren") in problems
    assert (4, "adherent_depuis") in problems
    assert {(5, "categorie"), (5, "das"), (5, "annuaire")} <= problems
    messages = " ".join(problem.message for problem in report.errors)
    assert "123456789" in messages  # the invalid SIREN is named
    assert "jj/mm/aaaa" in messages or "dd/mm/yyyy" in messages
    assert "inconnu" in messages


def test_the_command_exits_non_zero_and_reports_errors(areas, tmp_path, capsys):
    path = tmp_path / "members.csv"
    path.write_bytes(csv_bytes([GOOD_ROWS[0], ";;startup;;;;;;;;;;"]))

    with pytest.raises(CommandError):
        call_command("import_members", str(path))

    assert "ligne 3, colonne nom" in capsys.readouterr().err
    assert Organisation.objects.count() == 0


def test_a_dry_run_reports_but_writes_nothing(areas, tmp_path, capsys):
    path = tmp_path / "members.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS))

    call_command("import_members", str(path), "--dry-run")

    assert "2 new" in capsys.readouterr().out
    assert Organisation.objects.count() == 0


def test_export_then_import_changes_nothing(areas, tmp_path):
    members_import(content=csv_bytes(GOOD_ROWS))
    OrganisationFactory(name='=HYPERLINK("http://evil")', description="+33 1 23 45 67 89", siren="")
    before = list(Organisation.objects.order_by("pk").values())
    path = tmp_path / "export.csv"
    call_command("export_members", str(path))

    report = members_import(content=path.read_bytes())

    assert report.ok, report.errors
    assert (report.new, report.updated, report.unchanged) == (0, 0, 3)
    assert list(Organisation.objects.order_by("pk").values()) == before


def test_an_xlsx_export_imports_back_unchanged(areas):
    members_import(content=csv_bytes(GOOD_ROWS))

    report = members_import(content=members_export(file_format="xlsx"))

    assert report.ok, report.errors
    assert (report.new, report.updated, report.unchanged) == (0, 0, 2)


def test_exported_cells_that_look_like_formulas_are_neutralised(areas):
    OrganisationFactory(name="=cmd|' /C calc'!A0", description="@SUM(A1)", address="-2+3", siren="")

    text = members_export(file_format="csv").decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(members_export(file_format="xlsx"))).active
    cells = [cell.value for row in sheet.iter_rows() for cell in row if cell.value]

    assert "'=cmd|' /C calc'!A0" in text
    assert "'@SUM(A1)" in text and "'-2+3" in text
    assert not any(isinstance(value, str) and value[:1] in "=+-@" for value in cells)
    assert sheet.cell(row=2, column=2).data_type == "s"


def test_an_existing_organisation_is_matched_by_siren_then_by_normalised_name(areas):
    by_siren = OrganisationFactory(name="Ancien nom", siren="552100554")
    by_name = OrganisationFactory(name="Théra Biotech", siren="")

    report = members_import(content=csv_bytes(GOOD_ROWS))

    assert report.ok, report.errors
    assert (report.new, report.updated) == (0, 2)
    by_siren.refresh_from_db()
    by_name.refresh_from_db()
    assert by_siren.name == "Hôpital Saint-Louis (AP-HP)"
    assert by_name.siren == "732829320"  # the name matched "Théra Biotech SAS"; the SIREN is filled in


def test_a_new_row_that_looks_like_an_existing_organisation_is_warned_about(areas):
    OrganisationFactory(name="Hopital Saint Louis - APHP", siren="552100554")
    other = "775690126;Hôpital Saint-Louis (AP-HP) ;hospital;active;;;;75010;Paris;;;oui;"

    report = members_import(content=csv_bytes([other]), dry_run=True)

    assert report.ok
    assert report.warnings and report.warnings[0].line == 2
    assert "Hopital Saint Louis - APHP" in report.warnings[0].message


def test_an_unknown_column_is_refused_before_any_row(areas):
    report = members_import(content=b"nom;categorie;couleur\nA;startup;bleu\n")

    assert [(p.line, p.column) for p in report.errors] == [(1, "couleur")]


def test_staff_import_from_the_admin_and_see_the_error_report(areas):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    bad = io.BytesIO(csv_bytes([GOOD_ROWS[0], "123456789;Bad;startup;;;;;;;;;;"]))
    bad.name = "members.csv"

    response = client.post("/admin/members/organisation/import/", {"file": bad})

    assert response.status_code == 200
    page = response.content.decode()
    assert "rien n\u2019a été importé" in page
    assert "123456789" in page
    assert Organisation.objects.count() == 0

    good = io.BytesIO(csv_bytes(GOOD_ROWS))
    good.name = "members.csv"
    client.post("/admin/members/organisation/import/", {"file": good})
    assert Organisation.objects.count() == 2


def test_staff_export_a_selection_from_the_admin(areas):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    chosen = OrganisationFactory(name="Chosen")
    OrganisationFactory(name="Not chosen")

    response = client.post(
        "/admin/members/organisation/", {"action": "export_selected_csv", "_selected_action": [chosen.pk]}
    )

    assert response["Content-Disposition"].startswith("attachment;")
    text = response.content.decode("utf-8-sig")
    assert "Chosen" in text and "Not chosen" not in text


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused_by_its_content():
    png = members_import(content=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    xls = members_import(content=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)

    assert [(p.line, p.message) for p in png.errors] == [(1, "Ce fichier n\u2019est ni un CSV ni un XLSX.")]
    assert ".xlsx" in xls.errors[0].message
    assert Organisation.objects.count() == 0
