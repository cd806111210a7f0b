"""Demo data of labelling committees for `seed_demo` (named in settings.SEED_DEMO_LATER)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from committees.models import Item, Letter, Session
from das.models import Mandate
from members.models import Organisation, Person, User
from projects.models import Project
from projects.selectors import impact_changed

S = Project.Status


def seed_committees_demo(*, by: User | None, organisation: Organisation) -> list[str]:
    """One session held three weeks ago that decided three proposals of a DAS: the demo contact's
    labelled project (its letter shows on the project's page), another one labelled (funded
    since) and one not labelled. Written as recorded, without e-mails. Once: nothing if a session exists."""
    if Session.objects.exists():
        return []
    labelled = (
        Project.objects.filter(lead_organisation=organisation, status=S.LABELLED, primary_area__isnull=False)
        .order_by("pk")
        .first()
    ) or Project.objects.filter(status=S.LABELLED, primary_area__isnull=False).order_by("pk").first()
    if labelled is None:
        return []
    area = labelled.primary_area
    in_area = Project.objects.filter(primary_area=area).exclude(pk=labelled.pk).order_by("pk")
    decided = [(labelled, Item.Decision.LABELLED, "")]
    if other := in_area.filter(status__in=[S.FUNDED, S.SUBMITTED_TO_FUNDER, S.COMPLETED]).first():
        decided.append((other, Item.Decision.LABELLED, "Consortium solide\u202f; budget à préciser."))
    if refused := in_area.filter(status=S.NOT_LABELLED).first():
        decided.append((refused, Item.Decision.NOT_LABELLED, "Le besoin clinique reste à démontrer."))

    held_at = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate() - datetime.timedelta(days=21), datetime.time(14, 0))
    )
    session = Session.objects.create(
        area=area, held_at=held_at, place="Medicen, Paris — salle du conseil", created_by=by,
        notes="Séance ordinaire du comité de labellisation.",
    )  # fmt: skip
    day = held_at.date()
    session.members.set(Person.objects.filter(pk__in=Mandate.objects.as_of(day).filter(area=area).values("person_id")))
    items = Item.objects.bulk_create(
        Item(session=session, project=project, position=position, decision=decision, comment=comment,
             decided_at=held_at + datetime.timedelta(hours=2), decided_by=by)
        for position, (project, decision, comment) in enumerate(decided)
    )  # fmt: skip
    letters = Letter.objects.bulk_create(
        Letter(project=item.project, item=item, language="fr")
        for item in items
        if item.decision == Item.Decision.LABELLED and not Letter.objects.filter(project=item.project).exists()
    )
    impact_changed()
    return [
        f"Committee session: {session} ({len(items)} decisions), labelling letters: "
        + ", ".join(f"{letter.project.acronym} {letter.reference}" for letter in letters)
    ]
