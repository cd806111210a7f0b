"""Deterministic synthetic projects for development and benchmarks (used by seed_demo).

Proposals in every status, each with a consortium, a timeline consistent with its status,
reviews by the governance of its DAS, and — once labelled — funding decisions and products,
so the dashboard and the admin show realistic data. Rows are bulk-created.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from das.models import Mandate, StrategicArea
from members.models import Organisation
from projects.models import (
    FUNDER_SCOPE,
    AidRateCeiling,
    Funder,
    FundingDecision,
    Partner,
    Product,
    Project,
    ProjectEvent,
    Review,
)
from projects.selectors import impact_changed

BATCH = 5000
S = Project.Status
# Demo data is what French users see first: titles and texts in French (issue 11, item 14).
TOPICS = [
    "Diagnostic rapide du sepsis au lit du patient",
    "Tri des scanners thoraciques par intelligence artificielle",
    "Implants de cartilage bio-imprimés",
    "Production de CAR-T à l\u2019hôpital",
    "Télésurveillance de l\u2019insuffisance cardiaque",
    "Exosquelette pour la rééducation après un AVC",
    "Biopsie liquide pour le dépistage précoce du cancer du poumon",
    "Assistance robotisée au bloc opératoire",
    "Nanoparticules pour la radiothérapie ciblée",
    "Apprentissage fédéré sur les données hospitalières",
]
COLLABORATIVE, SINGLE_COMPANY = "projet de R&D collaboratif", "projet de R&D d\u2019une seule entreprise"
# Words of a title left out of its acronym.
ACRONYM_SKIP = {"au", "d", "de", "des", "du", "l", "la", "le", "les", "par", "pour", "sur", "à", "après", "un", "une"}
PRODUCT_WORDS = ["Sense", "Scan", "Care", "Flow", "Track", "Cyte", "Print", "Guard"]
# The statuses a proposal went through to reach each status.
PATHS = {
    S.DRAFT: [S.DRAFT],
    S.SUBMITTED: [S.DRAFT, S.SUBMITTED],
    S.WITHDRAWN: [S.DRAFT, S.SUBMITTED, S.WITHDRAWN],
    S.UNDER_REVIEW: [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW],
    S.INFO_REQUESTED: [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.INFO_REQUESTED],
    S.RESUBMITTED: [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.INFO_REQUESTED, S.RESUBMITTED],
    S.NOT_LABELLED: [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.NOT_LABELLED],
    S.LABELLED: [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.LABELLED],
    S.SUBMITTED_TO_FUNDER: [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.LABELLED, S.SUBMITTED_TO_FUNDER],
    S.NOT_FUNDED: [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.LABELLED, S.SUBMITTED_TO_FUNDER, S.NOT_FUNDED],
    S.FUNDED: [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.LABELLED, S.SUBMITTED_TO_FUNDER, S.FUNDED],
    S.COMPLETED: [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.LABELLED, S.SUBMITTED_TO_FUNDER, S.FUNDED, S.COMPLETED],
}
STATUS_WEIGHTS = {
    S.DRAFT: 6,
    S.SUBMITTED: 4,
    S.WITHDRAWN: 2,
    S.UNDER_REVIEW: 5,
    S.INFO_REQUESTED: 3,
    S.RESUBMITTED: 2,
    S.NOT_LABELLED: 5,
    S.LABELLED: 4,
    S.SUBMITTED_TO_FUNDER: 5,
    S.NOT_FUNDED: 8,
    S.FUNDED: 34,
    S.COMPLETED: 22,
}
REVIEWED = {S.INFO_REQUESTED, S.RESUBMITTED, S.NOT_LABELLED, S.LABELLED, S.SUBMITTED_TO_FUNDER, S.NOT_FUNDED}
REVIEWED |= {S.FUNDED, S.COMPLETED}
FUNDERS = [Funder.BPIFRANCE, Funder.REGION_IDF, Funder.ANR, Funder.FUI, Funder.FRANCE_2030, Funder.HORIZON_EUROPE]
FUNDERS += [Funder.EIC, Funder.IHI, Funder.EUROSTARS]
PROGRAMMES = {
    Funder.BPIFRANCE: ["i-Nov", "Aide pour projet d\u2019innovation", "i-Démo"],
    Funder.REGION_IDF: ["Innov'up", "PM'up", "PIA régionalisé"],
    Funder.ANR: ["PRCE", "PRC"],
    Funder.FUI: ["FUI AAP 25", "FUI AAP 23"],
    Funder.FRANCE_2030: ["Santé numérique", "Dispositifs médicaux innovants"],
    Funder.HORIZON_EUROPE: ["Cluster Health"],
    Funder.EIC: ["EIC Accelerator"],
    Funder.IHI: ["IHI call 6"],
    Funder.EUROSTARS: ["Eurostars-3"],
}


def _aware(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def seed_projects(*, rng: random.Random, count: int, organisation_ids: list[int]) -> list[int]:
    """Bulk-create `count` proposals in every status (each status at least once when count ≥ 12)."""
    organisations = list(Organisation.objects.filter(pk__in=organisation_ids).values("pk", "category", "name"))
    companies = [o for o in organisations if o["category"] in Organisation.COMPANY_CATEGORIES] or organisations
    research = [o for o in organisations if o["category"] in Organisation.RESEARCH_CLINICAL_CATEGORIES]
    research = research or organisations
    area_ids = list(StrategicArea.objects.values_list("pk", flat=True))
    governance: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for mandate in Mandate.objects.current().values("area_id", "person_id", "person__organisation_id"):
        governance[mandate["area_id"]].append((mandate["person_id"], mandate["person__organisation_id"]))

    statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    today = datetime.date.today()
    plans = []
    projects = []
    for number in range(count):
        status = statuses[number] if number < len(statuses) else rng.choices(statuses, weights)[0]
        topic = rng.choice(TOPICS)
        initials = (word[0] for word in topic.replace("'", " ").split() if word.lower() not in ACRONYM_SKIP)
        acronym = "".join(letter for letter in initials if letter.isalpha()).upper()[:6] + f"{number + 1:04d}"
        lead = rng.choice(companies)
        collaborative = rng.random() < 0.8
        budget = Decimal(rng.randrange(300, 12000) * 1000)
        funder = rng.choice(FUNDERS)
        length = len(PATHS[status])
        # Finished projects started long ago; proposals still in progress are recent.
        start = today - datetime.timedelta(days=rng.randrange(30 * length, 365 * 13 if length > 5 else 400))
        primary = rng.choice(area_ids) if area_ids and (status != S.DRAFT or rng.random() < 0.7) else None
        project = Project(
            title=topic,
            acronym=acronym,
            lead_organisation_id=lead["pk"],
            summary=f"{topic}\u202f: {COLLABORATIVE if collaborative else SINGLE_COMPANY}.",
            objectives="Atteindre le TRL visé et préparer la validation clinique.",
            primary_area_id=primary,
            kind=Project.Kind.COLLABORATIVE if collaborative else Project.Kind.INDIVIDUAL,
            trl_start=(trl := rng.randrange(2, 6)),
            trl_target=min(9, trl + rng.randrange(1, 4)),
            duration_months=rng.choice([18, 24, 36, 48]),
            total_budget=budget,
            requested_aid=(budget * Decimal(rng.choice([35, 45, 50, 60])) / 100).quantize(Decimal(1)),
            target_funder=funder,
            target_programme=rng.choice(PROGRAMMES[funder]),
            target_scope=FUNDER_SCOPE[funder],
            status=status,
        )
        projects.append(project)
        plans.append((project, lead, collaborative, start))
    Project.objects.bulk_create(projects, batch_size=BATCH)

    through = Project.areas.through
    links, partners, events, reviews, decisions, products = [], [], [], [], [], []
    # The funders' aid-rate ceilings by partner category: a demo proposal asks at most what its
    # consortium may get, so it is eligible as a real one would be (projects/eligibility.py).
    ceilings = {(c.funder, c.category): c.max_rate for c in AidRateCeiling.objects.all()}
    category_of = {o["pk"]: o["category"] for o in organisations}
    for project, lead, collaborative, start in plans:
        extra_areas = rng.sample(area_ids, k=min(len(area_ids), rng.choice([0, 0, 0, 1, 2])))
        for area_id in {project.primary_area_id, *extra_areas} - {None}:
            links.append(through(project_id=project.pk, strategicarea_id=area_id))
        # Consortium: the lead company, then for collaborative projects a second company and a lab or hospital.
        members = [(lead, Partner.Role.LEAD)]
        if collaborative:
            other = rng.choice([c for c in companies if c["pk"] != lead["pk"]] or companies)
            members += [(other, Partner.Role.PARTNER), (rng.choice(research), Partner.Role.PARTNER)]
            if rng.random() < 0.3:
                members.append((None, Partner.Role.SUBCONTRACTOR))
        shares = {1: [100], 3: [45, 30, 25], 4: [40, 25, 25, 10]}[len(members)]
        seen = set()
        for position, ((organisation, role), share) in enumerate(zip(members, shares, strict=True)):
            if organisation is not None and organisation["pk"] in seen:
                organisation = None
            partners.append(
                Partner(
                    project_id=project.pk,
                    organisation_id=organisation["pk"] if organisation else None,
                    name="" if organisation else "Laboratoire d\u2019essais " + rng.choice(PRODUCT_WORDS),
                    category="" if organisation else Organisation.Category.OTHER,
                    role=role,
                    budget_share=Decimal(share),
                    contact_name=f"Contact {position + 1}",
                    position=position,
                )
            )
            if organisation:
                seen.add(organisation["pk"])
        allowed = sum(
            (
                project.total_budget * partner.budget_share / 100
                * ceilings.get((project.target_funder, category_of.get(partner.organisation_id, partner.category)), 100)
                / 100
                for partner in partners[-len(members):]
            ),
            Decimal(0),
        )  # fmt: skip
        project.requested_aid = min(project.requested_aid, allowed.quantize(Decimal(1), rounding="ROUND_DOWN"))

        # Timeline.
        path = PATHS[project.status]
        moment = start
        previous = ""
        event_days = []
        for status in path:
            events.append(
                ProjectEvent(
                    project_id=project.pk,
                    from_status=previous,
                    to_status=status,
                    at=_aware(moment),
                    comment="Données de démonstration." if status in (S.INFO_REQUESTED, S.NOT_LABELLED) else "",
                )
            )
            event_days.append(moment)
            previous = status
            moment = min(datetime.date.today(), moment + datetime.timedelta(days=rng.randrange(14, 120)))
        project.created_at = project.updated_at = _aware(event_days[0], 9)
        project.updated_at = _aware(event_days[-1])
        if len(path) > 1:
            project.submitted_at = _aware(event_days[1])

        if project.status in REVIEWED and project.primary_area_id and governance.get(project.primary_area_id):
            consortium = {p.organisation_id for p in partners[-len(members) :]}
            pool = [g for g in governance[project.primary_area_id] if g[1] is None or g[1] not in consortium]
            for person_id, _org in rng.sample(pool, k=min(len(pool), 2)):
                scores = [rng.randrange(2, 6) for _ in Review.CRITERIA]
                reviews.append(
                    Review(
                        project_id=project.pk,
                        reviewer_id=person_id,
                        state=Review.State.SUBMITTED,
                        recommendation=Review.Recommendation.DO_NOT_LABEL
                        if project.status == S.NOT_LABELLED
                        else Review.Recommendation.LABEL,
                        comments="Besoin clinique fort\u202f; préciser la stratégie réglementaire.",
                        comments_shared=rng.random() < 0.5,
                        submitted_at=_aware(event_days[2], 15),
                        **dict(zip(Review.CRITERIA, scores, strict=True)),
                    )
                )

        if project.status in (S.FUNDED, S.COMPLETED, S.NOT_FUNDED):
            decided_on = event_days[path.index(project.status if project.status != S.COMPLETED else S.FUNDED)]
            requested = project.requested_aid
            granted = (
                Decimal(0)
                if project.status == S.NOT_FUNDED
                else (requested * Decimal(rng.randrange(70, 101)) / 100).quantize(Decimal(1))
            )
            decisions.append(
                FundingDecision(
                    project_id=project.pk,
                    funder=project.target_funder,
                    programme=project.target_programme,
                    scope=project.target_scope,
                    amount_requested=requested,
                    amount_granted=granted,
                    public_aid=granted,
                    decision_date=decided_on,
                )
            )
            if granted:
                project.total_investment = project.total_budget
                if rng.random() < 0.45:
                    launch = decided_on + datetime.timedelta(days=rng.randrange(180, 1500))
                    if launch <= today:
                        products.append(
                            Product(
                                project_id=project.pk,
                                name=f"{rng.choice(PRODUCT_WORDS)}{project.acronym[:3].title()}",
                                launched_on=launch,
                                description=f"Produit issu du projet {project.acronym}.",
                            )
                        )
    through.objects.bulk_create(links, batch_size=BATCH)
    Partner.objects.bulk_create(partners, batch_size=BATCH)
    ProjectEvent.objects.bulk_create(events, batch_size=BATCH)
    Review.objects.bulk_create(reviews, batch_size=BATCH, ignore_conflicts=True)
    FundingDecision.objects.bulk_create(decisions, batch_size=BATCH)
    Product.objects.bulk_create(products, batch_size=BATCH)
    Project.objects.bulk_update(
        projects, ["created_at", "updated_at", "submitted_at", "total_investment", "requested_aid"], batch_size=500
    )
    impact_changed()
    return [project.pk for project in projects]


def give_demo_contact_projects(*, organisation: Organisation, user) -> int:
    """Make the demo contact's organisation propose a few demo projects, so their pages are not empty."""
    moved = 0
    for status in (S.DRAFT, S.UNDER_REVIEW, S.LABELLED, S.FUNDED):
        if Project.objects.filter(lead_organisation=organisation, status=status).exists():
            continue
        project = (
            Project.objects.filter(status=status, kind=Project.Kind.COLLABORATIVE)
            .exclude(partners__organisation=organisation)
            .order_by("pk")
            .first()
        )
        if project is None:
            continue
        Project.objects.filter(pk=project.pk).update(lead_organisation=organisation, proposer=user)
        Partner.objects.filter(project=project, role=Partner.Role.LEAD).update(organisation=organisation)
        moved += 1
    return moved


def attach_demo_proposals_to_calls() -> int:
    """Give the demo calls proposals, so the impact dashboard has figures per call: the closed
    round gets a dozen decided proposals, each open call a couple sent to the cluster."""
    from calls.demo import CLOSED_PROGRAMME
    from calls.models import Call

    if Project.objects.filter(call__isnull=False).exists():
        return 0
    attached = 0
    decided = [S.NOT_LABELLED, S.LABELLED, S.SUBMITTED_TO_FUNDER, S.FUNDED, S.NOT_FUNDED, S.COMPLETED]
    for call in Call.objects.order_by("pk"):
        statuses = decided if call.programme == CLOSED_PROGRAMME else [S.SUBMITTED, S.UNDER_REVIEW]
        count = 12 if call.programme == CLOSED_PROGRAMME else 2
        ids = list(
            Project.objects.filter(status__in=statuses, call__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:count]
        )
        attached += Project.objects.filter(pk__in=ids).update(call=call)
    impact_changed()
    return attached
