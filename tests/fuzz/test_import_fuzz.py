"""Bad input to the members import: never an exception, and all or nothing.

Files are built from the real columns with hostile cells (wrong types, dates, SIRENs,
categories, accents, separators, NUL, formulas), in the encodings offices write, and also
as raw bytes. Whatever the file, `members_import` returns a report; if it reports an error,
or runs dry, the organisations and their DAS interests are exactly as before.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from hypothesis import event, given, settings
from hypothesis import strategies as st

from members.imports import members_import
from members.models import Organisation
from members.resources import OrganisationResource
from members.tests.factories import OrganisationFactory, UserFactory
from tests.fuzz.common import FUZZ, text

pytestmark = pytest.mark.django_db

COLUMNS = OrganisationResource.column_names()
GOOD = {
    "siren": ["552100554", "732829320", "", "123456789", "55210055", "552 100 554"],
    "nom": ["Hôpital Saint-Louis (AP-HP)", "Théra Biotech SAS", "Existing SAS", "", "x" * 300],
    "categorie": ["hospital", "Startup", "sme", "university", "nope", ""],
    "statut": ["active", "prospect", "lapsed", "resigned", "gone", ""],
    "adherent_depuis": ["01/03/2012", "2021-09-15", "31/02/2024", "demain", ""],
    "effectif": ["12", "0", "-3", "douze", "1e9", ""],
    "code_postal": ["75010", "94000", "2A004", "ABCDE", "750100", ""],
    "site_web": ["https://hopital-saintlouis.aphp.fr", "javascript:alert(1)", "not a url", ""],
    "das": ["imaging|biological-diagnostics", "imaging", "unknown-das", "|", ""],
    "annuaire": ["oui", "non", "peut-être", "1", ""],
}


def cell_for(column: str):
    plausible = st.sampled_from(GOOD.get(column, ["Paris", "1 avenue Claude-Vellefaux", ""]))
    return st.one_of(plausible, plausible, plausible, plausible, text)  # mostly plausible, so some files pass


@st.composite
def spreadsheets(draw) -> bytes:
    headers = draw(
        st.one_of(
            st.just(COLUMNS),
            st.lists(st.sampled_from([*COLUMNS, "", "Nom", "colonne inconnue"]), min_size=1, max_size=14),
        )
    )
    rows = draw(
        st.lists(st.fixed_dictionaries({h: cell_for(h) for h in dict.fromkeys(headers)}), min_size=0, max_size=4)
    )
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row[h] for h in headers][: draw(st.integers(0, len(headers) + 2)) or None])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return buffer.getvalue().encode(encoding, errors="replace")


def snapshot() -> list:
    organisations = list(Organisation.objects.order_by("pk").values())
    interests = list(Organisation.das_interests.through.objects.order_by("pk").values_list("pk", flat=True))
    return [organisations, interests]


@pytest.fixture
def existing(areas):
    return OrganisationFactory(name="Existing SAS", siren="552100554")


@FUZZ
@given(content=st.one_of(spreadsheets(), st.binary(max_size=400)), dry_run=st.booleans())
def test_an_import_reports_or_writes_everything_never_half(existing, content, dry_run):
    before = snapshot()
    count = Organisation.objects.count()

    report = members_import(content=content, dry_run=dry_run)
    event("written" if report.written else "refused or dry run")  # --hypothesis-show-statistics

    if report.written:
        assert Organisation.objects.count() == count + report.new
    else:
        assert snapshot() == before, report.errors


@settings(FUZZ, max_examples=20)
@given(content=spreadsheets())
def test_the_admin_import_page_never_fails(existing, content):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    upload = io.BytesIO(content)
    upload.name = "members.csv"

    response = client.post("/admin/members/organisation/import/", {"file": upload})

    assert response.status_code in (200, 302)
