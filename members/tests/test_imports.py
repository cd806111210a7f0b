"""Import and export of organisations: French encodings, XLSX, atomicity, round trip, formula injection."""

import datetime
import io
import time
import zipfile

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
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Chosen" in text and "Not chosen" not in text


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused_by_its_content():
    png = members_import(content=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    xls = members_import(content=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)

    assert [(p.line, p.message) for p in png.errors] == [(1, "Ce fichier n\u2019est ni un CSV ni un XLSX.")]
    assert ".xlsx" in xls.errors[0].message
    assert Organisation.objects.count() == 0


# --- Bad input (issue 12, item 8): a clear error with its line and column, nothing written, never a traceback.


def problems_of(report) -> list[tuple[int, str]]:
    return [(problem.line, problem.column) for problem in report.errors]


def test_a_bom_followed_by_windows_1252_bytes_is_refused_with_its_line_and_column(areas):
    content = b"\xef\xbb\xbf" + csv_bytes([GOOD_ROWS[0], GOOD_ROWS[1]], encoding="cp1252")

    report = members_import(content=content)

    assert problems_of(report) == [(2, "nom")]  # the "ô" of "Hôpital": the first byte that is not UTF-8
    assert "0xF4" in report.errors[0].message and "UTF-8" in report.errors[0].message
    assert Organisation.objects.count() == 0


def test_a_cell_over_131072_characters_is_refused_with_its_line_and_column(areas):
    long_row = "732829320;Théra Biotech SAS;startup;active;;;;94000;Créteil;;;non;" + "x" * 131_073

    report = members_import(content=csv_bytes([GOOD_ROWS[0], long_row]))

    assert problems_of(report) == [(3, "description")]
    # The figure in the reader's language: "131,072" reads as a hundred and thirty-one in French.
    assert "dépasse 131\u202f072 caractères" in report.errors[0].message
    assert Organisation.objects.count() == 0


def test_a_tiny_xlsx_whose_one_cell_sits_at_xfd1048576_is_refused_at_once(areas):
    workbook = Workbook()
    workbook.active["XFD1048576"] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert len(buffer.getvalue()) < 10_000

    started = time.monotonic()
    report = members_import(content=buffer.getvalue())

    assert time.monotonic() - started < 5
    assert problems_of(report) == [(1048576, "XFD")]
    assert "XFD1048576" in report.errors[0].message
    assert "au plus 200\u202f000 lignes" in report.errors[0].message
    assert Organisation.objects.count() == 0


def test_an_xlsx_whose_recorded_size_lies_is_still_read_quickly(areas):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(";"))
    sheet["XFD1048576"] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    lying = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(lying, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:XFD1048576"/>', b'<dimension ref="A1:M1"/>')
            target.writestr(item, data)

    started = time.monotonic()
    report = members_import(content=lying.getvalue())

    assert time.monotonic() - started < 20  # rows are cut at the sheet's recorded size and 100 columns
    assert report.new == 0
    assert Organisation.objects.count() == 0


def test_duplicate_column_headers_are_refused_naming_the_column(areas):
    content = b"nom;categorie;ville;ville\nTh\xc3\xa9ra;startup;Paris;Lyon\n"

    report = members_import(content=content)

    assert problems_of(report) == [(1, "ville")]
    assert "C" in report.errors[0].message and "D" in report.errors[0].message
    assert Organisation.objects.count() == 0


def test_a_nul_byte_after_the_first_4_kb_is_refused_with_its_line_and_column(areas):
    filler = [f"{'':0};Organisation {n};startup;prospect;;;;75013;Paris;;;non;{'d' * 100}" for n in range(60)]
    rows = [*filler, "732829320;Théra\x00 Biotech;startup;active;;;;94000;Créteil;;;non;"]
    content = csv_bytes(rows)
    assert content.index(b"\x00") > 4096

    report = members_import(content=content)

    assert problems_of(report) == [(62, "nom")]
    assert "NUL" in report.errors[0].message
    assert Organisation.objects.count() == 0


@pytest.mark.parametrize(
    "content",
    [
        b"\xef\xbb\xbf" + "nom;categorie\nTh\xe9ra;startup\n".encode("latin-1"),
        ("nom;categorie;description\nA;startup;" + "x" * 140_000 + "\n").encode(),
        b"nom;categorie;nom\nA;startup;B\n",
        b"nom;categorie\n" + b"A;startup\n" * 500 + b"B\x00;startup\n",
    ],
    ids=["bom-then-cp1252", "long-cell", "duplicate-header", "late-nul"],
)
def test_the_admin_shows_bad_files_as_an_error_report_never_a_500(areas, content):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    upload = io.BytesIO(content)
    upload.name = "members.csv"

    response = client.post("/admin/members/organisation/import/", {"file": upload, "dry_run": ""})

    assert response.status_code == 200
    assert "rien n\u2019a été importé" in response.content.decode()
    assert Organisation.objects.count() == 0


def test_the_command_reports_a_bad_file_without_a_traceback(areas, tmp_path, capsys):
    path = tmp_path / "members.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "nom;categorie\nTh\xe9ra;startup\n".encode("latin-1"))

    with pytest.raises(CommandError):
        call_command("import_members", str(path))

    assert "ligne 2, colonne nom" in capsys.readouterr().err


# --- Bulk import (issue 16, item 1) ----------------------------------------------------------


def generated_rows(count: int, *, start: int = 0) -> list[str]:
    from stdnum import luhn

    rows = []
    for number in range(start, start + count):
        body = f"{10_000_000 + number * 7919:08d}"
        rows.append(
            f"{body}{luhn.calc_check_digit(body)};Organisation numéro {number};sme;active;01/02/2020;{number};"
            f"{number} rue de la Paix;75002;Paris;;imaging|digital-health;oui;Description {number}"
        )
    return rows


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_the_number_of_queries_of_an_import_does_not_grow_with_the_number_of_rows(
    areas, dry_run, django_assert_max_num_queries
):
    OrganisationFactory(name="Organisation numéro 3 bis", siren="")  # something to compare names with
    with django_assert_max_num_queries(20):
        small = members_import(content=csv_bytes(generated_rows(5)), dry_run=dry_run)
    with django_assert_max_num_queries(20):
        large = members_import(content=csv_bytes(generated_rows(200, start=5)), dry_run=dry_run)
    with django_assert_max_num_queries(20):
        again = members_import(content=csv_bytes(generated_rows(200, start=5)), dry_run=dry_run)

    assert small.ok and large.ok and again.ok, (small.errors, large.errors, again.errors)
    assert (small.new, large.new) == (5, 200)
    if not dry_run:
        assert Organisation.objects.count() == 206
        assert (again.new, again.updated, again.unchanged) == (0, 0, 200)
        organisation = Organisation.objects.get(name="Organisation numéro 42")
        assert sorted(organisation.das_interests.values_list("code", flat=True)) == ["digital-health", "imaging"]
        assert organisation.name_key == "organisationnumero42"
        assert organisation.search_key == "organisationnumero42|paris"


def test_an_organisation_twice_in_one_file_is_an_error_naming_both_lines(areas):
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[0].replace("Hôpital Saint-Louis", "Hôpital St-Louis")]

    report = members_import(content=csv_bytes(rows))

    assert problems_of(report) == [(4, "siren")]
    assert "2" in report.errors[0].message
    assert Organisation.objects.count() == 0


def test_new_organisations_get_unique_slugs_next_to_existing_ones(areas):
    OrganisationFactory(name="Cardio Imaging", slug="cardio-imaging", siren="")
    OrganisationFactory(name="Other", slug="cardio-imaging-2", siren="")
    rows = [
        "552100554;Cardio Imaging;sme;active;;;;75010;Paris;;;oui;",
        "732829320;Cardio Imaging;sme;active;;;;69001;Lyon;;;oui;",
    ]

    report = members_import(content=csv_bytes(rows))

    assert report.ok, report.errors
    # The first row gives the namesake without a SIREN its SIREN; the second, with another SIREN, is new.
    assert (report.new, report.updated) == (1, 1)
    assert Organisation.objects.get(siren="552100554").slug == "cardio-imaging"
    assert Organisation.objects.get(siren="732829320").slug == "cardio-imaging-3"
    assert [warning.line for warning in report.warnings] == [3]


def test_an_import_writes_the_audit_trail_and_a_blank_siren_never_erases_one(areas):
    from auditlog.models import LogEntry

    staff = UserFactory(is_staff=True)
    existing = OrganisationFactory(name="Théra Biotech", siren="732829320", city="Paris")
    rows = [GOOD_ROWS[0], ";Théra Biotech SAS;startup;;;;;94000;Créteil;;;non;"]

    report = members_import(content=csv_bytes(rows), by=staff)

    assert (report.new, report.updated) == (1, 1), report.errors
    existing.refresh_from_db()
    assert (existing.siren, existing.city, existing.status) == ("732829320", "Créteil", "active")
    entries = LogEntry.objects.filter(additional_data__source="import")
    assert entries.count() == 2
    update = entries.get(object_id=existing.pk)
    assert update.actor == staff and update.changes["city"] == ["Paris", "Créteil"]


# --- Large files from the admin: a worker imports them; the progress page survives a reload (issue 16, item 2).


def test_a_large_file_from_the_admin_is_imported_by_a_worker_with_a_progress_page_that_keeps_its_report(
    areas, settings, django_capture_on_commit_callbacks
):
    from members.models import ImportJob
    from members.tasks import run_import_job

    settings.MEMBERS_IMPORT_ASYNC_BYTES = 100
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    upload = io.BytesIO(csv_bytes(generated_rows(30)))
    upload.name = "network.csv"

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/admin/members/organisation/import/", {"file": upload, "dry_run": ""})

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/members/organisation/import/{job.pk}/"
    assert len(callbacks) == 1 and Organisation.objects.count() == 0
    waiting = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in waiting and "network.csv" in waiting

    run_import_job(job.pk)
    run_import_job(job.pk)  # delivered twice: claimed once, imported once

    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_total, bytes(job.content)) == ("done", 30, 30, b"")
    assert Organisation.objects.count() == 30
    assert job.report["new"] == 30
    for _reload in range(2):  # the report stays on the row
        page = client.get(f"/admin/members/organisation/import/{job.pk}/").content.decode()
        assert "30 nouvelles, 0 mises à jour" in page or "30 new" in page
        assert 'http-equiv="refresh"' not in page
    assert client.get("/admin/members/importjob/").status_code == 200


def test_a_failed_file_run_by_a_worker_keeps_its_error_report(areas):
    from members.imports import import_job_create, import_job_run

    job = import_job_create(content=csv_bytes(["123456789;Bad;startup;;;;;;;;;;"]), filename="bad.csv",
                            dry_run=False, by=None)  # fmt: skip

    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == "done" and job.report["errors"][0]["line"] == 2
    assert Organisation.objects.count() == 0
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert "123456789" in client.get(f"/admin/members/organisation/import/{job.pk}/").content.decode()


def test_only_staff_who_may_import_see_an_import_job(areas):
    from members.imports import import_job_create

    job = import_job_create(content=b"nom;categorie\n", filename="x.csv", dry_run=True, by=None)
    viewer = UserFactory(is_staff=True)
    client = Client()
    client.force_login(viewer)

    assert client.get(f"/admin/members/organisation/import/{job.pk}/").status_code == 403
    assert Client().get(f"/admin/members/organisation/import/{job.pk}/").status_code == 302
