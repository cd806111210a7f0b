"""Calls for projects: what funders open, with the cluster's internal deadline and the call's rules.

A funder (Bpifrance, the Region, ANR, the EU…) opens a call; the cluster gathers proposals until
its own internal deadline, a few weeks before the funder's, so that it can review and label them.
A proposal may belong to a call: the call's consortium and aid-rate rules then apply at
submission, and submission closes at the internal deadline (projects/eligibility.py).

Dependency order: members ← das ← calls ← projects. `Funder` and `FundingScope` live here
because both a call and a proposal name a funder.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class FundingScope(models.TextChoices):
    REGIONAL = "regional", _("Regional")
    NATIONAL = "national", _("National")
    EUROPEAN = "european", _("European")


class Funder(models.TextChoices):
    REGION_IDF = "region_idf", _("Région Île-de-France")
    BPIFRANCE = "bpifrance", _("Bpifrance")
    ANR = "anr", _("ANR (national research agency)")
    FRANCE_2030 = "france_2030", _("France 2030 call")
    FUI = "fui", _("FUI (Fonds Unique Interministériel)")
    HORIZON_EUROPE = "horizon_europe", _("Horizon Europe")
    IHI = "ihi", _("IHI (Innovative Health Initiative)")
    EIC = "eic", _("EIC Accelerator")
    EU4HEALTH = "eu4health", _("EU4Health")
    EUROSTARS = "eurostars", _("Eurostars")
    OTHER = "other", _("Other funder")


# The scope each known funder belongs to; "other" may be any scope.
FUNDER_SCOPE = {
    Funder.REGION_IDF: FundingScope.REGIONAL,
    Funder.BPIFRANCE: FundingScope.NATIONAL,
    Funder.ANR: FundingScope.NATIONAL,
    Funder.FRANCE_2030: FundingScope.NATIONAL,
    Funder.FUI: FundingScope.NATIONAL,
    Funder.HORIZON_EUROPE: FundingScope.EUROPEAN,
    Funder.IHI: FundingScope.EUROPEAN,
    Funder.EIC: FundingScope.EUROPEAN,
    Funder.EU4HEALTH: FundingScope.EUROPEAN,
    Funder.EUROSTARS: FundingScope.EUROPEAN,
}


def _english() -> bool:
    return (get_language() or "fr").startswith("en")


class CallQuerySet(models.QuerySet):
    def published(self) -> CallQuerySet:
        return self.filter(is_published=True)

    def accepting(self, now: datetime.datetime | None = None) -> CallQuerySet:
        """Published calls whose internal deadline has not passed: open now or opening later."""
        return self.published().filter(internal_deadline__gt=now or timezone.now())

    def open(self, now: datetime.datetime | None = None) -> CallQuerySet:
        now = now or timezone.now()
        return self.accepting(now).filter(opens_on__lte=timezone.localdate(now))

    def upcoming(self, now: datetime.datetime | None = None) -> CallQuerySet:
        now = now or timezone.now()
        return self.accepting(now).filter(opens_on__gt=timezone.localdate(now))


class Call(models.Model):
    """One call for projects of a funder, with the cluster's internal deadline and its rules.

    The rule fields default to the cluster's usual rules for collaborative projects, so a call
    that says nothing special behaves as proposals outside any call do.
    """

    class Kinds(models.TextChoices):
        ANY = "any", _("Collaborative or individual projects")
        COLLABORATIVE = "collaborative", _("Collaborative projects only")
        INDIVIDUAL = "individual", _("Individual projects only")

    funder = models.CharField(_("funder"), max_length=20, choices=Funder.choices)
    programme = models.CharField(_("programme"), max_length=200, help_text=_("For example i-Démo, PM'up, ANR PRCE."))
    title_fr = models.CharField(_("title (French)"), max_length=255)
    title_en = models.CharField(_("title (English)"), max_length=255)
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    areas = models.ManyToManyField(
        "das.StrategicArea",
        verbose_name=_("strategic areas concerned"),
        related_name="calls",
        blank=True,
        help_text=_("Leave empty for a call open to every area."),
    )
    opens_on = models.DateField(_("opening date"))
    funder_deadline = models.DateTimeField(_("funder's deadline"), help_text=_("Paris time."))
    internal_deadline = models.DateTimeField(
        _("cluster's internal deadline"),
        help_text=_("Paris time. Proposals for the call can be submitted until this moment."),
    )
    url = models.URLField(_("funder's page"), blank=True)
    documents_required = models.TextField(_("documents required"), blank=True, help_text=_("One document per line."))
    # The call's rules (projects/eligibility.py applies them at submission).
    kinds = models.CharField(_("kinds of project"), max_length=20, choices=Kinds.choices, default=Kinds.ANY)
    max_aid_rate = models.DecimalField(
        _("maximum aid rate (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
        help_text=_("The aid requested, as a share of the total budget. Leave empty for no ceiling."),
    )
    min_companies = models.PositiveSmallIntegerField(
        _("minimum number of companies"), default=2, validators=[MaxValueValidator(20)]
    )
    min_research_clinical = models.PositiveSmallIntegerField(
        _("minimum number of research or clinical partners"), default=1, validators=[MaxValueValidator(20)]
    )
    max_partner_share = models.DecimalField(
        _("maximum share of one partner (%)"), max_digits=5, decimal_places=2, default=Decimal(70), validators=PERCENT
    )
    lead_must_be_company = models.BooleanField(_("the lead must be a company"), default=True)
    is_published = models.BooleanField(_("published"), default=False, help_text=_("Members see only published calls."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        verbose_name = _("call for projects")
        verbose_name_plural = _("calls for projects")
        ordering = ["internal_deadline", "pk"]
        indexes = [models.Index(fields=["is_published", "internal_deadline"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(internal_deadline__lte=F("funder_deadline")),
                name="call_internal_deadline_before_funder_deadline",
                violation_error_message=_("The internal deadline cannot be after the funder's deadline."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_funder_display()} {self.programme} — {self.title}"

    def clean(self) -> None:
        if self.opens_on and self.internal_deadline and self.opens_on > timezone.localdate(self.internal_deadline):
            raise ValidationError({"opens_on": _("The call cannot open after its internal deadline.")})

    @property
    def title(self) -> str:
        return (self.title_en or self.title_fr) if _english() else self.title_fr

    @property
    def description(self) -> str:
        return (self.description_en or self.description_fr) if _english() else self.description_fr

    @property
    def documents(self) -> list[str]:
        return [line.strip() for line in self.documents_required.splitlines() if line.strip()]

    def is_open(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.opens_on <= timezone.localdate(now) and now < self.internal_deadline

    def is_closed(self, now: datetime.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.internal_deadline


class Unsubscription(models.Model):
    """A person who asked for no more call announcements (reminders about their own drafts still go)."""

    person = models.OneToOneField(
        "members.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="calls_unsubscription"
    )
    created_at = models.DateTimeField(_("unsubscribed on"), auto_now_add=True)

    class Meta:
        verbose_name = _("unsubscription from call announcements")
        verbose_name_plural = _("unsubscriptions from call announcements")

    def __str__(self) -> str:
        return str(self.person)
