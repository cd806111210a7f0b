"""The membership lifecycle across a year, with the clock moved."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from members import services, tasks
from members.models import MembershipYear, Organisation
from members.tests.factories import MembershipYearFactory, OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db
Status = MembershipYear.Status


@pytest.fixture
def member(fee_grid, settings):
    settings.MEMBERS_GRACE_DAYS = 90
    settings.MEMBERS_RENEWAL_REMINDER_DAYS = 45
    organisation = OrganisationFactory(
        name="CardioLab", category="sme", headcount=60, member_since=datetime.date(2012, 1, 1)
    )
    PersonFactory(organisation=organisation, email="billing@cardiolab.example", is_billing_contact=True)
    MembershipYearFactory(organisation=organisation, year=2026, status=Status.ACTIVE)
    return organisation


def move_clock(monkeypatch, day: datetime.date) -> None:
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: day)


def year_of(organisation, year):
    return MembershipYear.objects.get(organisation=organisation, year=year)


def test_a_member_who_does_not_pay_goes_through_grace_to_lapsed_and_back_when_paying(member, monkeypatch):
    # Early December: the renewal window opens next year's membership with the grid's fee.
    move_clock(monkeypatch, datetime.date(2026, 12, 1))
    tasks.renewal_reminders_scan()
    renewal = year_of(member, 2027)
    assert (renewal.status, renewal.fee) == (Status.PENDING, Decimal("2500.00"))

    # New year: unpaid, the member is in its grace period and still active.
    move_clock(monkeypatch, datetime.date(2027, 1, 1))
    tasks.membership_statuses_daily()
    assert year_of(member, 2027).status == Status.GRACE
    assert Organisation.objects.get(pk=member.pk).status == Organisation.Status.ACTIVE

    # Last day of grace (90 days): still grace. The day after: lapsed.
    move_clock(monkeypatch, datetime.date(2027, 3, 31))
    tasks.membership_statuses_daily()
    assert year_of(member, 2027).status == Status.GRACE
    move_clock(monkeypatch, datetime.date(2027, 4, 1))
    tasks.membership_statuses_daily()
    assert year_of(member, 2027).status == Status.LAPSED
    assert Organisation.objects.get(pk=member.pk).status == Organisation.Status.LAPSED

    # Late payment: active again, and "member since" has not moved.
    services.membership_record_payment(
        organisation=member, year=2027, paid_on=datetime.date(2027, 4, 10), invoice_reference="F2027-0042"
    )
    renewal = year_of(member, 2027)
    assert (renewal.status, renewal.paid_on, renewal.invoice_reference) == (
        Status.ACTIVE,
        datetime.date(2027, 4, 10),
        "F2027-0042",
    )
    organisation = Organisation.objects.get(pk=member.pk)
    assert organisation.status == Organisation.Status.ACTIVE
    assert organisation.member_since == datetime.date(2012, 1, 1)


def test_the_daily_task_is_idempotent(member, monkeypatch):
    move_clock(monkeypatch, datetime.date(2027, 1, 2))

    first = tasks.membership_statuses_daily()
    snapshot = list(MembershipYear.objects.order_by("pk").values_list("pk", "year", "status"))
    second = tasks.membership_statuses_daily()

    assert first == {"opened": 1, "grace": 1, "lapsed": 0}
    assert second == {"opened": 0, "grace": 0, "lapsed": 0}
    assert list(MembershipYear.objects.order_by("pk").values_list("pk", "year", "status")) == snapshot


def test_a_renewal_paid_before_the_new_year_stays_active(member, monkeypatch):
    move_clock(monkeypatch, datetime.date(2026, 12, 1))
    tasks.renewal_reminders_scan()
    services.membership_record_payment(organisation=member, year=2027, paid_on=datetime.date(2026, 12, 15))

    move_clock(monkeypatch, datetime.date(2027, 6, 1))
    tasks.membership_statuses_daily()

    assert year_of(member, 2027).status == Status.ACTIVE
    assert Organisation.objects.get(pk=member.pk).status == Organisation.Status.ACTIVE


def test_unpaid_years_of_the_past_lapse(fee_grid):
    old = MembershipYearFactory(year=2025, status=Status.PENDING)

    services.membership_statuses_advance(today=datetime.date(2026, 2, 1))

    old.refresh_from_db()
    assert old.status == Status.LAPSED


def test_a_first_payment_sets_member_since_once(fee_grid):
    organisation = OrganisationFactory(status=Organisation.Status.PROSPECT, member_since=None)

    services.membership_record_payment(organisation=organisation, year=2026, paid_on=datetime.date(2026, 3, 3))
    services.membership_record_payment(organisation=organisation, year=2027, paid_on=datetime.date(2027, 1, 5))

    organisation.refresh_from_db()
    assert organisation.member_since == datetime.date(2026, 1, 1)
    assert organisation.status == Organisation.Status.ACTIVE


def test_a_resignation_records_its_date_and_reason_and_ends_later_years(member, monkeypatch):
    move_clock(monkeypatch, datetime.date(2026, 12, 1))
    tasks.renewal_reminders_scan()

    services.membership_resign(organisation=member, on=datetime.date(2026, 12, 10), reason="Company acquired")

    for year in (2026, 2027):
        membership = year_of(member, year)
        assert (membership.status, membership.resigned_on, membership.resignation_reason) == (
            Status.RESIGNED,
            datetime.date(2026, 12, 10),
            "Company acquired",
        )
    member.refresh_from_db()
    assert member.status == Organisation.Status.RESIGNED
    # A resigned member is not renewed next year.
    assert services.membership_statuses_advance(today=datetime.date(2027, 1, 5)).opened == 0


def test_a_resignation_without_a_reason_is_refused(member):
    with pytest.raises(ValidationError):
        services.membership_resign(organisation=member, on=datetime.date(2026, 6, 1), reason=" ")

    assert year_of(member, 2026).status == Status.ACTIVE


def test_the_workflow_refuses_a_transition_it_does_not_allow(member):
    membership = year_of(member, 2026)
    services.membership_resign(organisation=member, on=datetime.date(2026, 6, 1), reason="Budget")
    membership.refresh_from_db()

    with pytest.raises(ValidationError):
        services.membership_year_transition(membership_year=membership, to=Status.ACTIVE, paid_on=datetime.date.today())
    assert year_of(member, 2026).status == Status.RESIGNED


def test_a_stale_copy_cannot_move_a_row_someone_else_moved(member):
    membership = year_of(member, 2026)
    stale = MembershipYear.objects.get(pk=membership.pk)
    services.membership_year_transition(
        membership_year=membership, to=Status.RESIGNED, resigned_on=datetime.date(2026, 5, 1), resignation_reason="x"
    )

    with pytest.raises(services.ConcurrentUpdate):
        services.membership_year_transition(
            membership_year=stale, to=Status.RESIGNED, resigned_on=datetime.date(2026, 5, 2), resignation_reason="y"
        )


def test_the_fee_follows_the_grid_by_category_and_headcount(fee_grid):
    small = OrganisationFactory(category="startup", headcount=4)
    grown = OrganisationFactory(category="startup", headcount=25)
    hospital = OrganisationFactory(category="hospital", headcount=None)

    assert services.membership_year_open(organisation=small, year=2027).fee == Decimal("600.00")
    assert services.membership_year_open(organisation=grown, year=2027).fee == Decimal("900.00")
    assert services.membership_year_open(organisation=hospital, year=2027).fee == Decimal("3000.00")


def test_staff_change_a_status_in_the_admin_only_along_the_workflow(member):
    from django.test import Client

    from members.tests.factories import UserFactory

    membership = year_of(member, 2026)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/members/membershipyear/{membership.pk}/change/"
    data = {
        "organisation": member.pk,
        "year": 2026,
        "fee": "2500.00",
        "invoice_reference": "",
        "paid_on": "01/02/2026",
        "resigned_on": "",
        "resignation_reason": "",
    }

    refused = client.post(url, {**data, "status": Status.PENDING})
    assert refused.status_code == 200
    assert year_of(member, 2026).status == Status.ACTIVE

    no_reason = client.post(url, {**data, "status": Status.RESIGNED, "resigned_on": "15/06/2026"})
    assert no_reason.status_code == 200

    done = client.post(
        url, {**data, "status": Status.RESIGNED, "resigned_on": "15/06/2026", "resignation_reason": "Rachat"}
    )
    assert done.status_code == 302
    membership = year_of(member, 2026)
    assert (membership.status, membership.resigned_on) == (Status.RESIGNED, datetime.date(2026, 6, 15))
    assert Organisation.objects.get(pk=member.pk).status == Organisation.Status.RESIGNED


def test_staff_find_membership_years_by_organisation_or_invoice(member):
    from django.test import Client

    from members.tests.factories import UserFactory

    MembershipYear.objects.filter(organisation=member).update(invoice_reference="F2026-0042")
    other = MembershipYearFactory(year=2026, organisation=OrganisationFactory(name="Autre"))
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    for term in ("cardio lab", "f2026-0042"):
        response = client.get("/admin/members/membershipyear/", {"q": term})
        assert [row.pk for row in response.context["cl"].result_list] == [year_of(member, 2026).pk]
    assert other.pk not in [row.pk for row in response.context["cl"].result_list]
