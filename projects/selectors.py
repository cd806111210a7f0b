"""Reads spanning several models: reviewers, partner suggestions, the impact figures."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from calls.models import Call
from calls.selectors import SENT
from common.cache import cached, changed, generation
from das.models import Mandate, StrategicArea
from members.models import Organisation, Person
from projects.models import FundingDecision, FundingScope, Notification, Partner, Product, Project, Review


def proposal_list(proposals: QuerySet[Project], *, status: str = "", query: str = "") -> QuerySet[Project]:
    """The proposals list: `proposals` (permissions.visible_proposals) in a status, their title or
    acronym containing `query`, most recently changed first. An unknown status filters nothing."""
    proposals = proposals.select_related("lead_organisation", "primary_area").order_by("-updated_at", "-pk")
    if status in Project.Status.values:
        proposals = proposals.filter(status=status)
    if query:
        proposals = proposals.filter(Q(title__icontains=query) | Q(acronym__icontains=query))
    return proposals


def consortium_organisation_ids(project: Project) -> set[int]:
    ids = set(project.partners.exclude(organisation=None).values_list("organisation_id", flat=True))
    ids.add(project.lead_organisation_id)
    return ids


def project_area_ids(project: Project) -> set[int]:
    ids = set(project.areas.values_list("pk", flat=True))
    if project.primary_area_id:
        ids.add(project.primary_area_id)
    return ids


# --- Conflicts of interest ---------------------------------------------------------------------
# One rule, written once (`conflict_organisations`), checked at every read and write of a review
# (assignment, the review page, the proposal and its attachments, the submission, the labelling,
# the lists of permissions.visible_proposals): a reviewer is in conflict when one of "their"
# organisations — their own, and the member organisations of the mandates they hold today
# (François Kotian sits for GE Healthcare on the imaging board) — is in the consortium, the
# proposing organisation included. The consortium may change after the assignment (the applicants
# edit it when more information is requested), so this is read as it is now, never stored.


def _deeper(value):
    """`value` as seen from a subquery one level further in (an OuterRef needs one more level)."""
    return OuterRef(value) if isinstance(value, OuterRef) else value


def conflict_organisations(
    *, person_id, person_organisation_id, project_id, lead_organisation_id, day: datetime.date | None = None
) -> QuerySet[Organisation]:
    """The consortium organisations `person` is tied to (none: no conflict of interest).

    Each argument is a value or an `OuterRef` to the row of the query this one is used in
    (a review, a person, a proposal), so lists and single checks share this one rule.
    """
    day = day or timezone.localdate()
    seats = Mandate.objects.as_of(day).filter(person_id=_deeper(person_id), organisation__isnull=False)
    partners = Partner.objects.filter(project_id=_deeper(project_id), organisation__isnull=False)
    return Organisation.objects.filter(
        Q(pk=lead_organisation_id) | Q(pk__in=partners.values("organisation_id")),
        Q(pk=person_organisation_id) | Q(pk__in=seats.values("organisation_id")),
    )


def review_set_aside() -> Exists:
    """For a query on reviews: true when the reviewer is (now) tied to the proposal's consortium."""
    return Exists(
        conflict_organisations(
            person_id=OuterRef("reviewer_id"),
            person_organisation_id=OuterRef("reviewer__organisation_id"),
            project_id=OuterRef("project_id"),
            lead_organisation_id=OuterRef("project__lead_organisation_id"),
        )
    )


def conflict_organisation_ids(project: Project, person: Person) -> set[int]:
    """The organisations of the consortium that `person` is tied to (empty: no conflict)."""
    return set(
        conflict_organisations(
            person_id=person.pk,
            person_organisation_id=person.organisation_id,
            project_id=project.pk,
            lead_organisation_id=project.lead_organisation_id,
        ).values_list("pk", flat=True)
    )


def review_is_set_aside(review: Review) -> bool:
    """A review whose reviewer is (now) tied to the consortium: it sees nothing and does not count."""
    return Review.objects.filter(review_set_aside(), pk=review.pk).exists()


def counting_reviews(project: Project) -> list[Review]:
    """The submitted reviews whose scores count: those not set aside for a conflict of interest."""
    return list(project.reviews.filter(~review_set_aside(), state=Review.State.SUBMITTED).select_related("reviewer"))


def reviewer_exclusion_reason(project: Project, person: Person) -> str | None:
    """Why `person` may not review `project` (None when they may)."""
    if not Mandate.objects.current().filter(person=person, area_id__in=project_area_ids(project)).exists():
        return _("%(name)s is not on the governance board of this proposal's strategic areas.") % {
            "name": person.full_name
        }
    conflicts = conflict_organisation_ids(project, person)
    if conflicts:
        return _("Conflict of interest: %(name)s works for %(organisation)s, which is in the consortium.") % {
            "name": person.full_name,
            "organisation": ", ".join(Organisation.objects.filter(pk__in=conflicts).values_list("name", flat=True)),
        }
    if person.user_id is None:
        return _("%(name)s has no login on the portal yet.") % {"name": person.full_name}
    return None


@dataclass
class ReviewerCandidate:
    person: Person
    areas: list[str]
    excluded_because: str | None
    already_assigned: bool
    in_conflict: bool = False

    @property
    def can_be_invited(self) -> bool:
        """No login yet, but an e-mail address: staff can send the portal's invitation."""
        return self.person.user_id is None and bool(self.person.email)

    @property
    def has_no_login(self) -> bool:
        return self.person.user_id is None


def reviews_for_staff(project: Project) -> list[Review]:
    """The proposal's reviews, each with `set_aside` (in conflict of interest with the consortium now)
    and `conflict_with` (the consortium organisations concerned)."""
    reviews = list(project.reviews.select_related("reviewer__organisation").annotate(set_aside=review_set_aside()))
    for review in reviews:
        # The names only for the few set aside: one query each.
        review.conflict_with = (
            sorted(
                Organisation.objects.filter(pk__in=conflict_organisation_ids(project, review.reviewer)).values_list(
                    "name", flat=True
                )
            )
            if review.set_aside
            else []
        )
    return reviews


def reviewer_candidates(project: Project) -> list[ReviewerCandidate]:
    """The current governance of the proposal's DAS, each with the reason they are excluded, if any."""
    mandates = (
        Mandate.objects.current()
        .filter(area_id__in=project_area_ids(project))
        .select_related("person__organisation", "person__user", "area")
        .order_by("area__position", "role", "person__last_name")
    )
    assigned = set(project.reviews.values_list("reviewer_id", flat=True))
    mandates = list(mandates)
    tied = conflict_organisations(
        person_id=OuterRef("pk"),
        person_organisation_id=OuterRef("organisation_id"),
        project_id=project.pk,
        lead_organisation_id=project.lead_organisation_id,
    )
    in_conflict_ids = set(
        Person.objects.filter(Exists(tied), pk__in={mandate.person_id for mandate in mandates}).values_list(
            "pk", flat=True
        )
    )
    by_person: dict[int, ReviewerCandidate] = {}
    for mandate in mandates:
        person = mandate.person
        candidate = by_person.get(person.pk)
        if candidate is None:
            reason = None
            in_conflict = person.pk in in_conflict_ids
            if in_conflict:
                reason = _("Conflict of interest: works for %(organisation)s, which is in the consortium.") % {
                    "organisation": person.organisation.name if person.organisation_id else person.display_affiliation
                }
            elif person.user_id is None:
                reason = _("No login on the portal yet.")
            candidate = by_person[person.pk] = ReviewerCandidate(
                person, [], reason, person.pk in assigned, in_conflict=in_conflict
            )
        candidate.areas.append(f"{mandate.area.name} ({mandate.get_role_display()})")
    return list(by_person.values())


# --- Partner suggestions ---------------------------------------------------------------------


@dataclass
class Suggestion:
    gap: str
    organisations: list[Organisation]


def organisations_active_in(area_ids: set[int]) -> QuerySet[Organisation]:
    """Listed members that work in these DAS: they declared an interest in one (their profile),
    took part in a project there, or sit on its board — so a lab with no past project counts too.
    """
    declared = Organisation.das_interests.through.objects.filter(strategicarea_id__in=area_ids).values(
        "organisation_id"
    )
    in_projects = Partner.objects.filter(
        Q(project__areas__in=area_ids) | Q(project__primary_area__in=area_ids), organisation__isnull=False
    ).values("organisation_id")
    led = Project.objects.filter(Q(areas__in=area_ids) | Q(primary_area__in=area_ids)).values("lead_organisation_id")
    on_board = Mandate.objects.current().filter(area_id__in=area_ids).values("organisation_id")
    return Organisation.objects.listed().filter(
        Q(pk__in=declared) | Q(pk__in=in_projects) | Q(pk__in=led) | Q(pk__in=on_board)
    )


def partner_suggestions(project: Project, *, limit: int = 5) -> list[Suggestion]:
    """Member organisations active in the proposal's DAS that would fill what the consortium lacks."""
    if not project.is_collaborative:
        return []
    partners = list(project.partners.select_related("organisation"))
    area_ids = project_area_ids(project)
    if not area_ids:
        return []
    taken = consortium_organisation_ids(project)
    gaps = []
    if not any(partner.is_research_or_clinical for partner in partners):
        gaps.append(
            (
                _("No research or clinical organisation yet: these members work in the same strategic areas."),
                Organisation.RESEARCH_CLINICAL_CATEGORIES,
            )
        )
    if len({partner.identity for partner in partners if partner.is_company}) < 2:
        gaps.append(
            (
                _("Fewer than two companies: these member companies work in the same strategic areas."),
                Organisation.COMPANY_CATEGORIES,
            )
        )
    suggestions = []
    for gap, categories in gaps:
        # The category fills the gap; those that declared the DAS come first, then the most active.
        declared = Organisation.das_interests.through.objects.filter(
            organisation_id=OuterRef("pk"), strategicarea_id__in=area_ids
        )
        organisations = list(
            organisations_active_in(area_ids)
            .filter(category__in=categories)
            .exclude(pk__in=taken)
            .annotate(
                declared=Exists(declared),
                activity=Count("partnerships", distinct=True) + Count("led_projects", distinct=True),
            )
            .order_by("-declared", "-activity", "name")[:limit]
        )
        if organisations:
            suggestions.append(Suggestion(gap, organisations))
    return suggestions


# --- Impact dashboard ---------------------------------------------------------------------------


@dataclass
class Figures:
    projects_funded: int = 0
    products_launched: int = 0
    total_investment: Decimal = Decimal(0)
    public_aid: Decimal = Decimal(0)

    def as_row(self) -> list:
        return [self.projects_funded, self.products_launched, self.total_investment, self.public_aid]


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


@dataclass
class Outcomes:
    """What became of the proposals of one call or one committee session.

    `proposals`: sent to the cluster (drafts and withdrawn ones not counted); `labelled`: given the
    label (kept whatever the funder decides); `not_labelled`: refused it; `funded`: funded or
    completed. Two rates, each of the step before it: labelled ÷ (labelled + not labelled), so a
    call whose proposals are still under review shows no rate rather than 0 %; and funded ÷ labelled.
    """

    label: str
    proposals: int = 0
    labelled: int = 0
    not_labelled: int = 0
    funded: int = 0
    detail: str = ""  # a second line: the call's funder and deadline
    url: str = ""  # a public page (the call's)
    staff_url: str = ""  # a page for staff only (the session's)

    @property
    def awaiting(self) -> int:
        """Proposals without a decision on the label yet (under review, more information requested…)."""
        return self.proposals - self.labelled - self.not_labelled

    @property
    def labelled_rate(self) -> int | None:
        return _percent(self.labelled, self.labelled + self.not_labelled)

    @property
    def funded_rate(self) -> int | None:
        return _percent(self.funded, self.labelled)


@dataclass
class OutcomeTable:
    key: str  # the table's id on the page and its dimension in the CSV
    title: str
    rows: list[Outcomes] = field(default_factory=list)
    first_column: str = ""


@dataclass
class Impact:
    overall: Figures
    by_area: list[tuple[str, Figures]] = field(default_factory=list)
    by_year: list[tuple[str, Figures]] = field(default_factory=list)
    by_scope: list[tuple[str, Figures]] = field(default_factory=list)
    outcomes: list[OutcomeTable] = field(default_factory=list)  # per call, then the tables of later apps


IMPACT = "projects:impact"  # the cached dashboard figures (common.cache)
# The shape of the cached `Impact`: change it with the dataclasses, so a deployment never reads
# figures pickled by the previous code (v2: the outcomes per call and per committee session).
IMPACT_SHAPE = 2


def impact_figures() -> Impact:
    """The dashboard's figures, cached until a transition, a funding decision, a product or an admin edit
    changes them (`impact_changed`), at most PROJECTS_IMPACT_CACHE_SECONDS."""
    key = f"{IMPACT}:v{IMPACT_SHAPE}:{generation(IMPACT)}:{get_language()}"  # the labels (DAS, scopes) are translated
    return cached(key, impact_figures_from_records, seconds=settings.PROJECTS_IMPACT_CACHE_SECONDS)


def impact_changed() -> None:
    """Drop the cached dashboard figures once the current transaction commits."""
    changed(IMPACT)


def impact_figures_from_records() -> Impact:
    """The cluster's impact computed from the records (funded and completed projects).

    - by DAS: each project counts once, in its primary area ("—" when none);
    - by year: the year of the project's first granted funding decision;
    - by scope: a project counts in each scope that granted it money; public aid is the aid
      granted in that scope; its total investment counts where its largest grant came from,
      so the rows still add up to the overall figures.
    """
    funded = list(Project.objects.funded().values("pk", "primary_area_id", "total_investment").order_by("pk"))
    # A subquery, not a list of thousands of ids: the same rows, without binding every id as a parameter.
    funded_ids = Project.objects.funded().values("pk")
    decisions = list(
        FundingDecision.objects.filter(project_id__in=funded_ids, amount_granted__gt=0)
        .values("project_id", "scope", "amount_granted", "public_aid", "decision_date")
        .order_by("decision_date", "pk")
    )
    products = defaultdict(int)
    for row in Product.objects.filter(project_id__in=funded_ids).values("project_id").annotate(n=Count("pk")):
        products[row["project_id"]] = row["n"]
    area_names = {area.pk: area.name for area in StrategicArea.objects.all()}
    area_order = list(area_names)

    aid: dict[int, Decimal] = defaultdict(Decimal)
    aid_by_scope: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    first_year: dict[int, int] = {}
    main_scope: dict[int, tuple[Decimal, str]] = {}
    scopes_of: dict[int, set[str]] = defaultdict(set)
    for decision in decisions:
        pid = decision["project_id"]
        scopes_of[pid].add(decision["scope"])
        aid[pid] += decision["public_aid"]
        aid_by_scope[(pid, decision["scope"])] += decision["public_aid"]
        first_year.setdefault(pid, decision["decision_date"].year)
        if pid not in main_scope or decision["amount_granted"] > main_scope[pid][0]:
            main_scope[pid] = (decision["amount_granted"], decision["scope"])

    overall = Figures()
    by_area: dict[int | None, Figures] = defaultdict(Figures)
    by_year: dict[int | None, Figures] = defaultdict(Figures)
    by_scope: dict[str, Figures] = defaultdict(Figures)
    for row in funded:
        pid = row["pk"]
        investment = row["total_investment"] or Decimal(0)
        buckets = [overall, by_area[row["primary_area_id"]], by_year[first_year.get(pid)]]
        for figures in buckets:
            figures.projects_funded += 1
            figures.products_launched += products[pid]
            figures.total_investment += investment
            figures.public_aid += aid[pid]
        for scope in sorted(scopes_of[pid]):
            by_scope[scope].projects_funded += 1
            by_scope[scope].public_aid += aid_by_scope[(pid, scope)]
        if pid in main_scope:
            by_scope[main_scope[pid][1]].total_investment += investment
            by_scope[main_scope[pid][1]].products_launched += products[pid]

    return Impact(
        overall=overall,
        by_area=[(area_names[pk], by_area[pk]) for pk in area_order if pk in by_area]
        + ([("—", by_area[None])] if None in by_area else []),
        by_year=[(str(year), by_year[year]) for year in sorted(y for y in by_year if y is not None)]
        + ([("—", by_year[None])] if None in by_year else []),
        by_scope=[(str(scope.label), by_scope[scope.value]) for scope in FundingScope if scope.value in by_scope],
        outcomes=outcome_tables(),
    )


# A project keeps the label once given, whatever the funder decides afterwards.
EVER_LABELLED = (
    Project.Status.LABELLED,
    Project.Status.SUBMITTED_TO_FUNDER,
    Project.Status.FUNDED,
    Project.Status.NOT_FUNDED,
    Project.Status.COMPLETED,
)
FUNDED = (Project.Status.FUNDED, Project.Status.COMPLETED)


def call_outcomes() -> OutcomeTable:
    """Every published call that received a proposal, latest deadline first: one query."""
    calls = (
        Call.objects.published()
        .annotate(
            proposals=Count("projects", filter=SENT, distinct=True),
            labelled=Count("projects", filter=Q(projects__status__in=EVER_LABELLED), distinct=True),
            not_labelled=Count("projects", filter=Q(projects__status=Project.Status.NOT_LABELLED), distinct=True),
            funded=Count("projects", filter=Q(projects__status__in=FUNDED), distinct=True),
        )
        .filter(proposals__gt=0)
        .order_by("-internal_deadline", "-pk")
    )
    rows = [
        Outcomes(
            label=call.title,
            proposals=call.proposals,
            labelled=call.labelled,
            not_labelled=call.not_labelled,
            funded=call.funded,
            detail=" · ".join(
                [
                    call.get_funder_display(),
                    call.programme,
                    _("deadline %(day)s") % {"day": f"{timezone.localtime(call.internal_deadline):%d/%m/%Y}"},
                ]
            ),
            url=reverse("calls:detail", args=[call.pk]),
        )
        for call in calls
    ]
    return OutcomeTable(key="call", title=_("By call for projects"), rows=rows, first_column=_("Call"))


def outcome_tables() -> list[OutcomeTable]:
    """The per-call table, then those later apps add (settings.IMPACT_OUTCOME_TABLES: committees
    adds its sessions; projects never imports committees). A hook returns a table or None."""
    tables = [call_outcomes()]
    for path in settings.IMPACT_OUTCOME_TABLES:
        table = import_string(path)()
        if table is not None:
            tables.append(table)
    return tables


def funded_projects_detail() -> QuerySet[Project]:
    """Staff detail of the dashboard: every funded project with its figures."""
    # Subqueries, not joins: joining decisions and products together would multiply the sums.
    granted = FundingDecision.objects.filter(project=OuterRef("pk"), amount_granted__gt=0).values("project")
    return (
        Project.objects.funded()
        .select_related("lead_organisation", "primary_area")
        .annotate(
            granted=Subquery(granted.annotate(total=Sum("amount_granted")).values("total")),
            aid=Subquery(granted.annotate(total=Sum("public_aid")).values("total")),
            product_count=Subquery(
                Product.objects.filter(project=OuterRef("pk")).values("project").annotate(n=Count("pk")).values("n")
            ),
        )
        .order_by("acronym", "pk")
    )


# --- Personal data (see members/privacy.py) -------------------------------------------------


def personal_data(person: Person) -> dict:
    """What the projects app holds about a person: proposals they propose or are contact for,
    the reviews they wrote, the files they uploaded."""
    from projects.models import Attachment, Review

    user_id = person.user_id
    contact = Q(partners__contact_email__iexact=person.email) if person.email else Q(pk__in=[])
    proposer = Q(proposer_id=user_id) if user_id else Q(pk__in=[])
    projects = Project.objects.filter(contact | proposer).distinct().order_by("created_at")
    partner_rows = (
        Partner.objects.filter(contact_email__iexact=person.email).select_related("project")
        if person.email
        else Partner.objects.none()
    )
    reviews = Review.objects.filter(reviewer=person).select_related("project").order_by("assigned_at")
    attachments = (
        Attachment.objects.filter(uploaded_by_id=user_id).select_related("project")
        if user_id
        else Attachment.objects.none()
    )
    return {
        "proposals": [
            {
                "title": p.title,
                "acronym": p.acronym,
                "status": p.status,
                "proposer": p.proposer_id is not None and p.proposer_id == user_id,
                "created_at": p.created_at,
            }
            for p in projects
        ],
        "consortium_contacts": [
            {"proposal": row.project.title, "contact_name": row.contact_name, "contact_email": row.contact_email}
            for row in partner_rows
        ],
        "reviews_written": [
            {
                "proposal": r.project.title,
                "state": r.state,
                "conflict_of_interest": r.conflict_reason,
                "scores": {
                    "innovation": r.score_innovation,
                    "impact": r.score_impact,
                    "consortium": r.score_consortium,
                    "feasibility": r.score_feasibility,
                    "market": r.score_market,
                },
                "recommendation": r.recommendation,
                "comments": r.comments,
                "submitted_at": r.submitted_at,
            }
            for r in reviews
        ],
        "attachments_uploaded": [
            {"proposal": a.project.title, "file_name": a.original_name, "uploaded_at": a.uploaded_at}
            for a in attachments
        ],
        "notifications_received": [
            {
                "proposal": n.event.project.title,
                "status": n.event.to_status,
                "e_mail": n.message.status if n.message else "",
                "sent_at": n.message.sent_at if n.message else None,
            }
            for n in (
                Notification.objects.filter(recipient_id=user_id)
                .select_related("event__project", "message")
                .order_by("pk")
                if user_id
                else []
            )
        ],
    }


def stale_draft_ids(*, now: datetime.datetime, days: int) -> list[int]:
    """Drafts never submitted and untouched for `days` days (the retention period)."""
    return list(
        Project.objects.filter(
            status=Project.Status.DRAFT,
            submitted_at__isnull=True,
            updated_at__lt=now - datetime.timedelta(days=days),
        )
        .exclude(events__to_status=Project.Status.SUBMITTED)
        .values_list("pk", flat=True)
    )
