"""The impact dashboard's figures are sums over the records, never hard-coded."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import translation

from das.tests.factories import StrategicAreaFactory
from projects.models import FundingDecision, Product, Project
from projects.selectors import impact_figures
from projects.tests.factories import ProjectFactory, granted_decision

pytestmark = pytest.mark.django_db
S = Project.Status


@pytest.fixture
def records(db):
    imaging = StrategicAreaFactory(code="imaging", name_fr="Imagerie", name_en="Imaging", position=2)
    digital = StrategicAreaFactory(code="digital", name_fr="Santé numérique", name_en="Digital health", position=4)
    a = ProjectFactory(status=S.FUNDED, primary_area=imaging, total_investment=Decimal("3000000"))
    granted_decision(a, granted="800000", aid="800000", scope="national", year=2021)
    granted_decision(a, granted="200000", aid="150000", scope="regional", year=2022)
    Product.objects.create(project=a, name="ScanFast", launched_on=datetime.date(2024, 3, 1))
    b = ProjectFactory(status=S.COMPLETED, primary_area=digital, total_investment=Decimal("1500000"))
    granted_decision(b, granted="600000", scope="european", year=2022)
    Product.objects.create(project=b, name="CareFlow", launched_on=datetime.date(2025, 1, 1))
    Product.objects.create(project=b, name="CareFlow Pro", launched_on=datetime.date(2026, 1, 1))
    # Not counted: labelled but not funded, not funded with a refusal.
    c = ProjectFactory(status=S.NOT_FUNDED, primary_area=imaging, total_investment=Decimal("999"))
    FundingDecision.objects.create(project=c, funder="anr", scope="national", amount_requested=1, amount_granted=0,
                                   public_aid=0, decision_date=datetime.date(2022, 1, 1))  # fmt: skip
    ProjectFactory(status=S.LABELLED, primary_area=digital, total_investment=Decimal("777"))
    return a, b


def test_overall_figures_equal_sums_over_the_records(records):
    funded = Project.objects.funded()
    impact = impact_figures()

    assert impact.overall.projects_funded == funded.count() == 2
    assert impact.overall.products_launched == Product.objects.filter(project__in=funded).count() == 3
    assert impact.overall.total_investment == funded.aggregate(s=Sum("total_investment"))["s"] == Decimal("4500000")
    expected_aid = FundingDecision.objects.filter(project__in=funded).aggregate(s=Sum("public_aid"))["s"]
    assert impact.overall.public_aid == expected_aid == Decimal("1550000")


def test_every_breakdown_adds_up_to_the_overall_figures(records):
    impact = impact_figures()

    for rows in (impact.by_area, impact.by_year):
        assert sum(f.projects_funded for _, f in rows) == impact.overall.projects_funded
        assert sum(f.products_launched for _, f in rows) == impact.overall.products_launched
        assert sum(f.total_investment for _, f in rows) == impact.overall.total_investment
        assert sum(f.public_aid for _, f in rows) == impact.overall.public_aid
    assert sum(f.public_aid for _, f in impact.by_scope) == impact.overall.public_aid
    assert sum(f.total_investment for _, f in impact.by_scope) == impact.overall.total_investment


def test_breakdowns_by_das_year_and_scope(records):
    with translation.override("en"):
        impact = impact_figures()

    by_year = {label: f for label, f in impact.by_year}
    assert by_year["2021"].projects_funded == 1 and by_year["2022"].projects_funded == 1
    by_scope = {label: f for label, f in impact.by_scope}
    assert by_scope["Regional"].public_aid == Decimal("150000")
    assert by_scope["National"].public_aid == Decimal("800000")
    assert by_scope["European"].public_aid == Decimal("600000")
    by_area = {label: f for label, f in impact.by_area}
    assert by_area["Imaging"].products_launched == 1
    assert by_area["Digital health"].products_launched == 2


def test_the_public_page_shows_the_summary_and_svg_charts_without_the_detail(client, records):
    text = client.get("/impact/").content.decode()

    assert 'data-figure="projects_funded">2<' in text
    assert "<svg" in text and "<rect" in text
    assert "cdn" not in text.lower()
    assert 'id="detail"' not in text


def test_staff_see_every_funded_project(client, records):
    from members.tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True))

    text = client.get("/impact/").content.decode()

    assert 'id="detail"' in text
    assert records[0].acronym in text and records[1].acronym in text


def test_the_csv_export_holds_the_same_figures(client, records):
    response = client.get("/impact/export.csv")

    # Written as the member export is: semicolons, UTF-8 with a BOM, so French Excel opens it in columns.
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert response["Content-Disposition"].startswith("attachment;")
    assert rows[1] == ["overall", "", "2", "3", "4500000.00", "1550000.00"]
    assert client.get("/impact/export.csv?detail=1").status_code == 404


def test_large_amounts_are_shortened_in_millions_on_the_cards():
    from projects.templatetags.projects_tags import money_short

    with translation.override("fr"):
        assert money_short(Decimal("1043071000")).replace("\u202f", " ") == "1 043,1 M€"
        assert money_short(Decimal("950000.4")).replace("\u202f", " ") == "950 000 €"


# --- The cached figures -------------------------------------------------------------------------


def test_the_figures_are_cached_per_language(records):
    with translation.override("fr"):
        french = impact_figures()
    with translation.override("en"):
        english = impact_figures()
    with translation.override("fr"):
        assert impact_figures() == french

    assert [label for label, _figures in french.by_area] == ["Imagerie", "Santé numérique"]
    assert [label for label, _figures in english.by_area] == ["Imaging", "Digital health"]


def test_a_funding_decision_shows_at_once(records, django_capture_on_commit_callbacks):
    from members.tests.factories import UserFactory
    from projects.services import funding_decision_record

    a, _b = records
    before = impact_figures().overall.public_aid

    with django_capture_on_commit_callbacks(execute=True):
        funding_decision_record(
            project=a, by=UserFactory(is_staff=True), funder="bpifrance", programme="i-Nov", scope="national",
            amount_requested=Decimal("100000"), amount_granted=Decimal("50000"), public_aid=Decimal("50000"),
            decision_date=datetime.date(2026, 6, 1),
        )  # fmt: skip

    assert impact_figures().overall.public_aid == before + Decimal("50000")


def test_a_product_and_an_admin_delete_show_at_once(records, django_capture_on_commit_callbacks, client):
    from members.tests.factories import UserFactory
    from projects.services import product_add

    a, _b = records
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert impact_figures().overall.products_launched == 3

    with django_capture_on_commit_callbacks(execute=True):
        product = product_add(project=a, by=staff, name="ScanFast 2", launched_on=datetime.date(2026, 5, 1))
    assert impact_figures().overall.products_launched == 4

    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/projects/product/{product.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert impact_figures().overall.products_launched == 3


def test_a_cache_time_of_zero_computes_every_time(records, settings):
    settings.PROJECTS_IMPACT_CACHE_SECONDS = 0
    assert impact_figures().overall.products_launched == 3
    Product.objects.create(project=records[0], name="Silent", launched_on=datetime.date(2026, 1, 1))  # no service
    assert impact_figures().overall.products_launched == 4


# --- Per call -----------------------------------------------------------------------------------


@pytest.fixture
def call_records(db):
    from calls.tests.factories import CallFactory

    call = CallFactory(title_fr="Appel i-Démo 2027", title_en="i-Démo 2027 call")
    for status in (S.DRAFT, S.WITHDRAWN):  # not counted: never sent, or taken back
        ProjectFactory(call=call, status=status)
    for status in (S.SUBMITTED, S.NOT_LABELLED, S.LABELLED, S.NOT_FUNDED, S.FUNDED):
        ProjectFactory(call=call, status=status)
    CallFactory(title_fr="Appel sans proposition")  # only a draft: not shown
    ProjectFactory(call=CallFactory(title_fr="Appel encore vide"), status=S.DRAFT)
    CallFactory(title_fr="Appel non publié", is_published=False)
    return call


def test_figures_per_call_count_proposals_sent_labelled_and_funded(call_records):
    with translation.override("fr"):
        table = impact_figures().outcomes[0]

    assert table.key == "call"
    [row] = table.rows
    assert row.label == "Appel i-Démo 2027"
    # Sent: submitted, not labelled, labelled, not funded, funded; the label is kept once given.
    assert (row.proposals, row.labelled, row.not_labelled, row.funded, row.awaiting) == (5, 3, 1, 1, 1)
    # Labelled ÷ decided on (labelled or not: the one under review does not count yet), funded ÷ labelled.
    assert (row.labelled_rate, row.funded_rate) == (75, 33)
    assert row.url == f"/calls/{call_records.pk}/"


def test_the_public_page_shows_each_call_with_its_rates_defined(client, call_records):
    text = client.get("/impact/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert 'id="outcomes-call"' in text and 'id="outcomes-definition"' in text
    assert f'href="/calls/{call_records.pk}/">Appel i-Démo 2027</a>' in text
    assert "75\u202f%" in text and "33\u202f%" in text and "1 projet en attente de décision" in text
    assert "Appel encore vide" not in text and "Appel non publié" not in text


def test_the_csv_export_holds_the_figures_per_call(client, call_records):
    response = client.get("/impact/export.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header = rows.index(
        ["dimension", "key", "proposals", "labelled", "not_labelled", "funded", "labelled_rate", "funded_rate"]
    )
    assert rows[header - 1] == []
    assert rows[header + 1][0] == "call" and rows[header + 1][2:] == ["5", "3", "1", "1", "0.75", "0.33"]


def test_a_call_whose_proposals_are_all_under_review_shows_no_rate(client, db):
    from calls.tests.factories import CallFactory

    call = CallFactory()
    ProjectFactory(call=call, status=S.UNDER_REVIEW)

    [row] = impact_figures().outcomes[0].rows
    assert (row.proposals, row.awaiting, row.labelled_rate, row.funded_rate) == (1, 1, None, None)
    assert 'data-figure="labelled_rate"' not in client.get("/impact/").content.decode()


def test_a_call_without_proposals_says_so(client, db):
    text = client.get("/impact/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "No call has received a proposal yet." in text
    assert 'id="outcomes-committee_session"' not in text  # no session with an agenda: no table
