import datetime

import factory

from das.models import Mandate, StrategicArea
from members.tests.factories import PersonFactory


class StrategicAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategicArea
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"area-{n}")
    name_fr = factory.Sequence(lambda n: f"Domaine {n}")
    name_en = factory.Sequence(lambda n: f"Area {n}")


class MandateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mandate

    person = factory.SubFactory(PersonFactory)
    area = factory.SubFactory(StrategicAreaFactory)
    role = Mandate.Role.VICE_PRESIDENT
    start_date = datetime.date(2019, 10, 10)
