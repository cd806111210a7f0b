from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from calls.models import Call, Funder


class CallFactory(factory.django.DjangoModelFactory):
    """A published Bpifrance call open since last week, closing in a month (internal deadline)."""

    class Meta:
        model = Call
        skip_postgeneration_save = True

    funder = Funder.BPIFRANCE
    programme = "i-Démo"
    title_fr = factory.Sequence(lambda n: f"Appel à projets santé numérique {n}")
    title_en = factory.Sequence(lambda n: f"Digital health call {n}")
    description_fr = "Projets de R&D structurants."
    description_en = "Large R&D projects."
    opens_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=7))
    internal_deadline = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
    funder_deadline = factory.LazyAttribute(lambda call: call.internal_deadline + datetime.timedelta(days=21))
    documents_required = "Annexe financière\nLettres d'engagement des partenaires"
    url = "https://www.bpifrance.fr/"
    is_published = True

    @factory.post_generation
    def areas(self, create, extracted, **kwargs):
        if create and extracted:
            self.areas.set(extracted)
