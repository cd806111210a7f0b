"""One answer to "who sees which call": the object check, the call page and the list agree with
calls.permissions.visible_calls (issue 13, item 6)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from calls import permissions
from calls.models import Call
from calls.selectors import accepting_calls
from calls.tests.factories import CallFactory
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(db):
    member = UserFactory()
    PersonFactory(user=member, organisation=OrganisationFactory(), email=member.email)
    return {"member": member, "outsider": UserFactory(), "staff": UserFactory(is_staff=True), "anonymous": None}


@pytest.mark.parametrize(
    ("role", "sees_the_draft"), [("member", False), ("outsider", False), ("staff", True), ("anonymous", False)]
)
def test_the_object_check_the_page_and_the_queryset_agree(client, users, role, sees_the_draft):
    published, draft = CallFactory(), CallFactory(is_published=False)
    user = users[role] or AnonymousUser()
    if users[role] is not None:
        client.force_login(users[role])

    by_check = {call for call in Call.objects.all() if permissions.can_view_call(user, call)}
    by_page = {call for call in Call.objects.all() if client.get(f"/calls/{call.pk}/").status_code == 200}

    assert (
        by_check
        == by_page
        == set(permissions.visible_calls(user))
        == ({published, draft} if sees_the_draft else {published})
    )
    assert set(accepting_calls()) <= set(permissions.visible_calls(AnonymousUser()))  # the public list: published only
