from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from calls.models import FUNDER_SCOPE, Funder, FundingScope
from common.validators import no_control_characters
from members.models import Organisation
from outbox.models import Message

TRL_VALIDATORS = [MinValueValidator(1), MaxValueValidator(9)]
SCORE_VALIDATORS = [MinValueValidator(0), MaxValueValidator(5)]
MONEY = {"max_digits": 14, "decimal_places": 2}


class ProjectQuerySet(models.QuerySet):
    def funded(self) -> ProjectQuerySet:
        return self.filter(status__in=[Project.Status.FUNDED, Project.Status.COMPLETED])


class Project(models.Model):
    """An R&D project proposed by members, from draft proposal to funded and completed project.

    `lead_organisation` is the proposing member organisation: its contacts edit the proposal.
    The consortium (with the partner whose role is "lead") is in `Partner`.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        UNDER_REVIEW = "under_review", _("Under review")
        INFO_REQUESTED = "info_requested", _("More information requested")
        RESUBMITTED = "resubmitted", _("Resubmitted")
        LABELLED = "labelled", _("Labelled")
        NOT_LABELLED = "not_labelled", _("Not labelled")
        SUBMITTED_TO_FUNDER = "submitted_to_funder", _("Submitted to funder")
        FUNDED = "funded", _("Funded")
        NOT_FUNDED = "not_funded", _("Not funded")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Kind(models.TextChoices):
        COLLABORATIVE = "collaborative", _("Collaborative (consortium)")
        INDIVIDUAL = "individual", _("Individual (one organisation)")

    title = models.CharField(_("title"), max_length=255, validators=[no_control_characters])
    acronym = models.CharField(_("acronym"), max_length=40, blank=True, validators=[no_control_characters])
    lead_organisation = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("proposing organisation"),
        on_delete=models.PROTECT,
        related_name="led_projects",
    )
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposed_projects",
    )
    summary = models.TextField(_("summary"), blank=True)
    objectives = models.TextField(_("objectives"), blank=True)
    primary_area = models.ForeignKey(
        "das.StrategicArea",
        verbose_name=_("primary strategic area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="primary_projects",
    )
    areas = models.ManyToManyField(
        "das.StrategicArea",
        verbose_name=_("strategic areas"),
        related_name="projects",
        blank=True,
        help_text=_("Combined therapeutic solutions span several areas."),
    )
    kind = models.CharField(_("kind of project"), max_length=20, choices=Kind.choices, default=Kind.COLLABORATIVE)
    trl_start = models.PositiveSmallIntegerField(_("TRL at start"), null=True, blank=True, validators=TRL_VALIDATORS)
    trl_target = models.PositiveSmallIntegerField(_("target TRL"), null=True, blank=True, validators=TRL_VALIDATORS)
    duration_months = models.PositiveSmallIntegerField(
        _("duration (months)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    total_budget = models.DecimalField(
        _("total budget (€)"), null=True, blank=True, validators=[MinValueValidator(Decimal(0))], **MONEY
    )
    requested_aid = models.DecimalField(
        _("requested aid (€)"), null=True, blank=True, validators=[MinValueValidator(Decimal(0))], **MONEY
    )
    target_funder = models.CharField(_("targeted funder"), max_length=20, choices=Funder.choices, blank=True)
    target_programme = models.CharField(
        _("targeted programme"), max_length=200, blank=True, help_text=_("For example i-Nov, PM'up, ANR PRCE.")
    )
    target_scope = models.CharField(_("funding scope"), max_length=20, choices=FundingScope.choices, blank=True)
    funder_deadline = models.DateField(_("funder's deadline"), null=True, blank=True)
    call = models.ForeignKey(
        "calls.Call",
        verbose_name=_("call for projects"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
        help_text=_("The call's rules apply at submission, and submission closes at its internal deadline."),
    )
    total_investment = models.DecimalField(
        _("total investment (€)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Investment in the funded project from every source, public and private."),
        **MONEY,
    )
    status = models.CharField(_("status"), max_length=30, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(trl_start__isnull=True) | Q(trl_target__isnull=True) | Q(trl_target__gte=F("trl_start")),
                name="project_trl_target_not_below_start",
                violation_error_message=_("The target TRL cannot be below the TRL at start."),
            ),
            models.CheckConstraint(
                condition=Q(total_budget__isnull=True)
                | Q(requested_aid__isnull=True)
                | Q(requested_aid__lte=F("total_budget")),
                name="project_aid_within_budget",
                violation_error_message=_("The requested aid cannot exceed the total budget."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.acronym} — {self.title}" if self.acronym else self.title

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        expected = FUNDER_SCOPE.get(self.target_funder)
        if expected and self.target_scope and self.target_scope != expected:
            raise ValidationError(
                {
                    "target_scope": _("%(funder)s is a %(scope)s funder.")
                    % {"funder": self.get_target_funder_display(), "scope": FundingScope(expected).label.lower()}
                }
            )
        if expected and not self.target_scope:
            self.target_scope = expected

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.INFO_REQUESTED)

    @property
    def is_collaborative(self) -> bool:
        return self.kind == self.Kind.COLLABORATIVE


class Partner(models.Model):
    """One organisation of a proposal's consortium: a member (organisation set) or not (name set)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        PARTNER = "partner", _("Partner")
        SUBCONTRACTOR = "subcontractor", _("Subcontractor")

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="partners")
    organisation = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("member organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partnerships",
    )
    name = models.CharField(
        _("organisation name (non-member)"), max_length=255, blank=True, help_text=_("Only if it is not a member.")
    )
    category = models.CharField(
        _("category (non-member)"),
        max_length=20,
        choices=Organisation.Category.choices,
        blank=True,
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.PARTNER)
    budget_share = models.DecimalField(
        _("budget share (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("consortium partner")
        verbose_name_plural = _("consortium partners")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False) | ~Q(name=""),
                name="partner_member_or_named",
                violation_error_message=_("Choose a member organisation or give the name of a non-member."),
            ),
            models.UniqueConstraint(
                fields=["project", "organisation"],
                condition=Q(organisation__isnull=False),
                name="partner_once_per_project",
                violation_error_message=_("This organisation is already in the consortium."),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.organisation_id is None and not self.name:
            raise ValidationError(_("Choose a member organisation or give the name of a non-member."))
        if self.organisation_id is None and not self.category:
            raise ValidationError({"category": _("Give the category of a non-member organisation.")})

    @property
    def display_name(self) -> str:
        return self.organisation.name if self.organisation_id else self.name

    @property
    def effective_category(self) -> str:
        return self.organisation.category if self.organisation_id else self.category

    @property
    def is_company(self) -> bool:
        return self.effective_category in Organisation.COMPANY_CATEGORIES

    @property
    def is_research_or_clinical(self) -> bool:
        return self.effective_category in Organisation.RESEARCH_CLINICAL_CATEGORIES

    @property
    def identity(self) -> str:
        """What makes two consortium rows the same organisation."""
        return f"org:{self.organisation_id}" if self.organisation_id else f"name:{self.name.strip().casefold()}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the client's name: a random name, with the extension the content was checked against.
    return f"projects/{instance.project_id}/{uuid.uuid4().hex}.{instance.kind}"


class Attachment(models.Model):
    """A document attached to a proposal, stored under a generated name outside any served URL."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "Word (DOCX)"
        XLSX = "xlsx", "Excel (XLSX)"
        PPTX = "pptx", "PowerPoint (PPTX)"

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class ProjectEvent(models.Model):
    """One transition of a proposal's workflow: who moved it, when, from which status to which, and why."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=30, choices=Project.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=30, choices=Project.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(_("at"))
    comment = models.TextField(_("comment"), blank=True, help_text=_("Shown to the applicants."))

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["project", "at"])]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.from_status} → {self.to_status}"


class Notification(models.Model):
    """One person told about one transition: a domain fact pointing at the e-mail the outbox sends."""

    class Audience(models.TextChoices):
        APPLICANT = "applicant", _("Proposer")
        STAFF = "staff", _("Cluster staff")

    event = models.ForeignKey(ProjectEvent, on_delete=models.CASCADE, related_name="notifications")
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Whether and when it went out, and why not, is the outbox's (outbox.Message).
    message = models.OneToOneField(
        Message, verbose_name=_("e-mail"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["event", "recipient"], name="notification_once_per_recipient")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.audience} ({self.recipient_id})"


class Review(models.Model):
    """A governance member's review of a proposal in one of its strategic areas."""

    class State(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        SUBMITTED = "submitted", _("Submitted")
        CONFLICT = "conflict", _("Conflict of interest declared")

    class Recommendation(models.TextChoices):
        LABEL = "label", _("Label")
        LABEL_WITH_CONDITIONS = "label_conditions", _("Label with conditions")
        DO_NOT_LABEL = "do_not_label", _("Do not label")

    CRITERIA = ("score_innovation", "score_impact", "score_consortium", "score_feasibility", "score_market")

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        "members.Person", verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="project_reviews"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned"), auto_now_add=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.ASSIGNED)
    conflict_reason = models.TextField(_("conflict of interest"), blank=True)
    # Claimed by the reminder scan before the reminder is enqueued: one reminder per review.
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True, editable=False)
    score_innovation = models.PositiveSmallIntegerField(
        _("innovation"), null=True, blank=True, validators=SCORE_VALIDATORS
    )
    score_impact = models.PositiveSmallIntegerField(
        _("clinical and patient impact"), null=True, blank=True, validators=SCORE_VALIDATORS
    )
    score_consortium = models.PositiveSmallIntegerField(
        _("consortium"), null=True, blank=True, validators=SCORE_VALIDATORS
    )
    score_feasibility = models.PositiveSmallIntegerField(
        _("feasibility"), null=True, blank=True, validators=SCORE_VALIDATORS
    )
    score_market = models.PositiveSmallIntegerField(_("market"), null=True, blank=True, validators=SCORE_VALIDATORS)
    recommendation = models.CharField(_("recommendation"), max_length=20, choices=Recommendation.choices, blank=True)
    comments = models.TextField(_("comments"), blank=True)
    comments_shared = models.BooleanField(
        _("comments shared with the applicants"),
        default=False,
        help_text=_("Staff choose which comments applicants read, without the reviewer's name or scores."),
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["assigned_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "reviewer"], name="review_once_per_reviewer"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} / {self.reviewer_id}"

    @property
    def score_items(self) -> list[tuple[str, int | None]]:
        """(criterion name, score) in the order of CRITERIA, for pages that show scores."""
        return [(self._meta.get_field(name).verbose_name, getattr(self, name)) for name in self.CRITERIA]

    @property
    def total_score(self) -> int | None:
        scores = [getattr(self, name) for name in self.CRITERIA]
        return None if None in scores else sum(scores)


class FundingDecision(models.Model):
    """A funder's decision on a labelled project."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="funding_decisions"
    )
    funder = models.CharField(_("funder"), max_length=20, choices=Funder.choices)
    programme = models.CharField(_("programme"), max_length=200, blank=True)
    scope = models.CharField(_("scope"), max_length=20, choices=FundingScope.choices)
    amount_requested = models.DecimalField(
        _("amount requested (€)"), validators=[MinValueValidator(Decimal(0))], **MONEY
    )
    amount_granted = models.DecimalField(_("amount granted (€)"), validators=[MinValueValidator(Decimal(0))], **MONEY)
    public_aid = models.DecimalField(
        _("public aid (€)"),
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("The part of the amount granted that is public funding."),
        **MONEY,
    )
    decision_date = models.DateField(_("decision date"))
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("funding decision")
        verbose_name_plural = _("funding decisions")
        ordering = ["decision_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(public_aid__lte=F("amount_granted")),
                name="funding_public_aid_within_grant",
                violation_error_message=_("The public aid cannot exceed the amount granted."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_funder_display()} {self.decision_date}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        expected = FUNDER_SCOPE.get(self.funder)
        if expected and self.scope and self.scope != expected:
            raise ValidationError({"scope": _("This funder's scope is %(scope)s.") % {"scope": expected.label}})


class Product(models.Model):
    """A product launched from a project."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="products")
    name = models.CharField(_("name"), max_length=200)
    launched_on = models.DateField(_("launch date"))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("product launched")
        verbose_name_plural = _("products launched")
        ordering = ["launched_on", "pk"]

    def __str__(self) -> str:
        return self.name


class DeadlineExtension(models.Model):
    """Staff reopen one proposal after its call's internal deadline, until a moment, for a reason."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="deadline_extensions"
    )
    until = models.DateTimeField(_("may be submitted until"), help_text=_("Paris time."))
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("granted by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")
        ordering = ["-until"]

    def __str__(self) -> str:
        return str(self.until)


class AidRateCeiling(models.Model):
    """The highest share of a partner's budget a funder may grant, by partner category.

    Staff keep this table in the admin (migration 0004 loads the usual rates). A category
    without a line for the funder has no ceiling there. Checked at submission
    (projects/eligibility.py): the requested aid may not exceed the sum, over the partners,
    of budget * share * the ceiling of the partner's category.
    """

    funder = models.CharField(_("funder"), max_length=20, choices=Funder.choices)
    category = models.CharField(_("partner category"), max_length=20, choices=Organisation.Category.choices)
    max_rate = models.DecimalField(
        _("maximum aid rate (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )

    class Meta:
        verbose_name = _("aid-rate ceiling")
        verbose_name_plural = _("aid-rate ceilings")
        ordering = ["funder", "category"]
        constraints = [
            models.UniqueConstraint(fields=["funder", "category"], name="aid_rate_ceiling_once"),
            models.CheckConstraint(
                condition=Q(max_rate__gte=0) & Q(max_rate__lte=100),
                name="aid_rate_ceiling_is_a_percentage",
                violation_error_message=_("An aid rate lies between 0 and 100 %."),
            ),
        ]

    def __str__(self) -> str:
        from django.utils.formats import number_format
        from django.utils.translation import gettext

        # No colon: the admin's breadcrumbs re-space the words and would break its narrow space.
        return gettext("%(funder)s — %(category)s — %(rate)s %%") % {
            "funder": self.get_funder_display(),
            "category": self.get_category_display(),
            "rate": number_format(self.max_rate.normalize(), use_l10n=True),
        }
