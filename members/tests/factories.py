import datetime
from decimal import Decimal

import factory
from stdnum import luhn

from members.models import MembershipYear, Organisation, Person, User


def _siren(n: int) -> str:
    body = f"{10_000_000 + n:08d}"
    return body + luhn.calc_check_digit(body)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    password = "correct-horse-battery"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, **kwargs)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    category = Organisation.Category.STARTUP
    siren = factory.Sequence(_siren)
    postcode = "75013"
    city = "Paris"
    status = Organisation.Status.ACTIVE
    directory_opt_in = True


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    organisation = factory.SubFactory(OrganisationFactory)


class MembershipYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MembershipYear

    organisation = factory.SubFactory(OrganisationFactory)
    year = 2026
    fee = Decimal("600.00")
    status = MembershipYear.Status.ACTIVE
    paid_on = factory.LazyAttribute(
        lambda o: datetime.date(o.year, 2, 1) if o.status == MembershipYear.Status.ACTIVE else None
    )


def contact(organisation: Organisation, *, email: str, **roles):
    """A person of `organisation` with a login; returns the user."""
    user = UserFactory(email=email)
    PersonFactory(organisation=organisation, user=user, email=email, **roles)
    return user
