"""Deterministic synthetic projects for development and benchmarks (used by seed_demo)."""

from __future__ import annotations

import random

from das.models import StrategicArea
from members.models import Organisation
from projects.models import Project

BATCH = 5000
TOPICS = [
    "Point-of-care diagnosis of sepsis",
    "AI triage of chest CT scans",
    "Bioprinted cartilage implants",
    "CAR-T manufacturing at the hospital",
    "Remote monitoring of heart failure",
    "Exoskeleton for stroke rehabilitation",
    "Liquid biopsy for early lung cancer",
    "Robotic assistance for the operating room",
    "Nanoparticles for targeted radiotherapy",
    "Federated learning on hospital data",
]


def seed_projects(*, rng: random.Random, count: int, organisation_ids: list[int]) -> list[int]:
    """Bulk-create `count` projects led by companies among `organisation_ids`, spread over every status."""
    companies = (
        list(
            Organisation.objects.filter(
                pk__in=organisation_ids, category__in=Organisation.COMPANY_CATEGORIES
            ).values_list("pk", flat=True)
        )
        or organisation_ids
    )
    area_ids = list(StrategicArea.objects.values_list("pk", flat=True))
    statuses = list(Project.Status.values)
    projects = []
    for number in range(count):
        topic = rng.choice(TOPICS)
        acronym = "".join(word[0] for word in topic.split() if word[0].isalpha()).upper()[:6] + f"{number + 1:04d}"
        projects.append(
            Project(
                title=topic,
                acronym=acronym,
                lead_organisation_id=rng.choice(companies),
                status=rng.choice(statuses),
            )
        )
    created = Project.objects.bulk_create(projects, batch_size=BATCH)
    through = Project.areas.through
    links = []
    for project in created:
        for area_id in rng.sample(area_ids, k=min(len(area_ids), rng.choice([1, 1, 1, 2, 3]))):
            links.append(through(project_id=project.pk, strategicarea_id=area_id))
    through.objects.bulk_create(links, batch_size=BATCH)
    return [project.pk for project in created]
