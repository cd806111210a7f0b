""" "Mark as renewed" applies to members only, and says why it does not elsewhere (issue 11, item 18)."""

import datetime

import pytest
from django.test import Client

from members.models import MembershipYear, Organisation
from members.tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_marking_a_prospect_as_renewed_changes_nothing_and_says_why(areas, fee_grid):
    prospect = OrganisationFactory(name="Prospect SAS", status=Organisation.Status.PROSPECT, member_since=None)
    member = OrganisationFactory(name="Member SAS", category="sme", headcount=12)
    resigned = OrganisationFactory(name="Gone SAS", status=Organisation.Status.RESIGNED)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/members/organisation/",
        {"action": "mark_renewed", "_selected_action": [prospect.pk, member.pk, resigned.pk]},
        follow=True,
    )

    page = response.content.decode()
    prospect.refresh_from_db()
    assert (prospect.status, prospect.member_since) == ("prospect", None)
    assert not MembershipYear.objects.filter(organisation__in=[prospect, resigned]).exists()
    assert MembershipYear.objects.filter(organisation=member, status="active").exists()
    assert "1 organisation renouvelée" in page or "1 organisation renewed" in page
    assert "Prospect SAS" in page and "Gone SAS" in page
    assert 'class="warning"' in page


def test_a_lapsed_member_marked_as_renewed_is_active_again(areas, fee_grid):
    from members import services

    lapsed = OrganisationFactory(name="Lapsed SAS", category="sme", headcount=12, status=Organisation.Status.LAPSED,
                                 member_since=datetime.date(2020, 1, 1))  # fmt: skip
    MembershipYear.objects.create(organisation=lapsed, year=2026, fee=1500, status="lapsed")

    outcome = services.membership_renew(organisations=[lapsed], today=datetime.date(2026, 6, 1))

    lapsed.refresh_from_db()
    assert [o.pk for o in outcome.renewed] == [lapsed.pk] and outcome.refused == []
    assert (lapsed.status, lapsed.member_since) == ("active", datetime.date(2020, 1, 1))
