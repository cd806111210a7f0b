"""The synthetic members of seed_demo: realistic, consistent and reproducible."""

import random

import pytest
from django.core.validators import validate_email
from django.db.models import Count, Q
from faker import Faker

from members.demo import SeededOrganisation, _seed_people, seed_organisations
from members.models import MembershipYear, Organisation, Person
from members.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def _seed(count: int, seed: int = 5) -> list[int]:
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    return seed_organisations(rng=random.Random(seed), fake=fake, count=count)


def test_every_organisation_has_contacts_das_and_membership_years(areas, fee_grid):
    ids = _seed(60)

    assert sorted(ids) == sorted(Organisation.objects.values_list("pk", flat=True))
    organisations = Organisation.objects.annotate(
        contacts=Count("people", distinct=True),
        primary=Count("people", filter=Q(people__is_primary_contact=True), distinct=True),
    )
    assert {(row.contacts in (1, 2, 3), row.primary) for row in organisations} == {(True, 1)}
    assert not Organisation.objects.filter(das_interests=None).exists()
    # Members (not prospects) have this year's membership, with the grid's fee for startups and SMEs.
    members = Organisation.objects.exclude(member_since=None)
    assert members.exists()
    assert set(members.values_list("pk", flat=True)) == set(
        MembershipYear.objects.values_list("organisation_id", flat=True)
    )
    for year in MembershipYear.objects.filter(organisation__category="startup").select_related("organisation"):
        assert year.fee == (600 if (year.organisation.headcount or 0) <= 9 else 900)
    # Normalised keys are filled (no save() runs in a bulk insert) and e-mails are unique per person.
    assert not Organisation.objects.filter(name_key="").exists()
    assert Person.objects.values("email").distinct().count() == Person.objects.count()


def test_the_same_seed_gives_the_same_members(areas, fee_grid):
    _seed(30, seed=9)
    first = list(Organisation.objects.order_by("pk").values_list("name", "siren", "city", "member_since"))
    people = list(Person.objects.order_by("pk").values_list("first_name", "last_name", "email"))
    Person.objects.all().delete()
    Organisation.objects.all().delete()

    _seed(30, seed=9)

    assert list(Organisation.objects.order_by("pk").values_list("name", "siren", "city", "member_since")) == first
    assert list(Person.objects.order_by("pk").values_list("first_name", "last_name", "email")) == people


def test_seeded_contacts_have_addresses_the_contacts_import_accepts(db):
    """A slug cut at 40 characters may end with a hyphen: the domain must not (RFC 1035)."""
    organisation = OrganisationFactory(slug="laboratoire-de-recherche-en-imagerie-de-sante-paris", name="Labo")
    seeded = SeededOrganisation(
        pk=organisation.pk,
        slug=organisation.slug,
        category="research",
        status="active",
        member_since=None,
        headcount=None,
    )

    _seed_people(rng=random.Random(1), fake=Faker("fr_FR"), organisations=[seeded])

    for email in organisation.people.values_list("email", flat=True):
        validate_email(email)
