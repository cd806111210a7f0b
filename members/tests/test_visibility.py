"""One answer to "who sees which organisation": the object checks, the pages and the directory agree
with members.permissions.visible_organisations / private_organisations (issue 13, item 6)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from members import permissions
from members.models import Organisation
from members.selectors import directory_organisations
from members.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
ROLES = ["owner", "colleague", "outsider", "staff", "anonymous"]
# owner and colleague: contacts of A (listed); outsider: contact of B (listed). C is unlisted (not in
# the directory), D has lapsed; both have no contact here.
PUBLIC = {
    "owner": {"a", "b"},
    "colleague": {"a", "b"},
    "outsider": {"a", "b"},
    "staff": {"a", "b", "c", "d"},
    "anonymous": {"a", "b"},
}
PRIVATE = {"owner": {"a"}, "colleague": {"a"}, "outsider": {"b"}, "staff": {"a", "b", "c", "d"}, "anonymous": set()}


@pytest.fixture
def world(organisation, other_organisation, owner, colleague, outsider, staff):
    organisations = {
        "a": organisation,
        "b": other_organisation,
        "c": OrganisationFactory(name="Quiet Labs", slug="quiet", directory_opt_in=False),
        "d": OrganisationFactory(name="Former Member", slug="former", status=Organisation.Status.LAPSED),
    }
    users = {"owner": owner, "colleague": colleague, "outsider": outsider, "staff": staff, "anonymous": AnonymousUser()}
    return {"organisations": organisations, "users": users}


@pytest.mark.parametrize("role", ROLES)
def test_the_object_checks_the_querysets_and_the_expected_organisations_agree(world, role):
    user = world["users"][role]
    name = {organisation.pk: key for key, organisation in world["organisations"].items()}
    every = Organisation.objects.all()

    public = {name[o.pk] for o in every if permissions.can_view_organisation(user, o)}
    private = {name[o.pk] for o in every if permissions.can_view_organisation_private(user, o)}

    assert public == {name[o.pk] for o in permissions.visible_organisations(user)} == PUBLIC[role]
    assert private == {name[o.pk] for o in permissions.private_organisations(user)} == PRIVATE[role]


def test_the_directory_lists_what_everyone_may_see():
    assert set(directory_organisations()) == set(permissions.visible_organisations(AnonymousUser()))


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_the_public_and_membership_pages_answer_as_the_querysets_say(client, world, role):
    user = world["users"][role]
    client.force_login(user)
    public, private = set(permissions.visible_organisations(user)), set(permissions.private_organisations(user))

    for organisation in world["organisations"].values():
        assert (client.get(f"/members/{organisation.slug}/").status_code == 200) == (organisation in public)
        assert (client.get(f"/members/{organisation.slug}/membership/").status_code == 200) == (organisation in private)
