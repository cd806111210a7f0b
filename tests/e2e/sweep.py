"""The data the page sweep (test_pages.py) walks through, added to the e2e stack's database.

Run inside the stack's environment, after the journeys:
`python manage.py shell -c "from tests.e2e.sweep import create; create()"`.
It adds seed_demo's synthetic members and projects (few of them: the sweep visits one page
of each kind, it does not measure volume) and its three demo logins with the suite's
password, then a reviewer login: a vice-president of a strategic area with one review
assigned and not yet submitted. It prints, as one JSON line, the logins and the objects the
sweep starts from.

seed_demo attaches the KOL demo login to the first area's president, who is also the
journeys' KOL: the sweep therefore runs after the journeys (its module sorts after theirs).
"""

from __future__ import annotations

import json
import os

REVIEWER_EMAIL = "reviewer@medicen.example"
DEMO = {"staff": "staff@medicen.example", "contact": "contact@medicen.example", "kol": "kol@medicen.example"}


def create() -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    settings.DEMO_PASSWORD = os.environ["E2E_PASSWORD"]
    call_command("seed_demo", members=60, projects=40, seed=2019, stdout=open(os.devnull, "w"))  # noqa: SIM115
    with transaction.atomic():
        print(json.dumps(_reviewer_and_objects(os.environ["E2E_PASSWORD"])))


def _reviewer_and_objects(password: str) -> dict:
    from committees.models import Letter
    from das.models import Mandate
    from members.demo import demo_login
    from members.models import Organisation, User
    from projects.models import Project, Review

    kol = User.objects.get(email=DEMO["kol"])
    mandate = (
        Mandate.objects.current()
        .filter(role=Mandate.Role.VICE_PRESIDENT, person__user__isnull=True)
        .exclude(person=kol.person)
        .select_related("person", "area")
        .order_by("area__position", "pk")
        .first()
    )
    demo_login(email=REVIEWER_EMAIL, password=password, person=mandate.person)
    project = (
        Project.objects.filter(status=Project.Status.UNDER_REVIEW, primary_area=mandate.area)
        .exclude(reviews__reviewer=mandate.person)
        .order_by("pk")
        .first()
    ) or Project.objects.filter(status=Project.Status.UNDER_REVIEW).order_by("pk").first()
    review = Review.objects.create(project=project, reviewer=mandate.person, state=Review.State.ASSIGNED)

    contact = User.objects.get(email=DEMO["contact"])
    organisation = contact.person.organisation
    draft = Project.objects.filter(lead_organisation=organisation, status=Project.Status.DRAFT).order_by("pk").first()
    listed = Organisation.objects.filter(status=Organisation.Status.ACTIVE, directory_opt_in=True).order_by("pk")
    return {
        "logins": {**DEMO, "reviewer": REVIEWER_EMAIL},
        "review": review.pk,
        "review_project": project.pk,
        "contact_organisation": organisation.slug,
        "contact_draft": draft.pk if draft else None,
        "listed_organisation": listed.first().slug,
        # A labelling letter's public check (seed_demo's session, or journey 5's): linked from no page.
        "letter": Letter.objects.order_by("pk").values_list("reference", flat=True).first(),
    }
