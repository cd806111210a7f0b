from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext_lazy as _


class StrategicArea(models.Model):
    """One of the cluster's five DAS (Domaines d'Activité Stratégiques)."""

    code = models.SlugField(_("code"), max_length=40, unique=True, help_text=_("Stable identifier; never renamed."))
    name_fr = models.CharField(_("name (French)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        verbose_name = _("strategic area (DAS)")
        verbose_name_plural = _("strategic areas (DAS)")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "fr").startswith("en") else self.name_fr

    @property
    def description(self) -> str:
        return self.description_en if (get_language() or "fr").startswith("en") else self.description_fr


class MandateQuerySet(models.QuerySet):
    def as_of(self, day: datetime.date) -> MandateQuerySet:
        """The governance in force on `day`: mandates started on or before it and not yet ended."""
        return self.filter(Q(end_date__isnull=True) | Q(end_date__gt=day), start_date__lte=day)

    def current(self) -> MandateQuerySet:
        return self.as_of(datetime.date.today())


class Mandate(models.Model):
    """A person's seat on a DAS governance board, from start_date until end_date (exclusive)."""

    class Role(models.TextChoices):
        PRESIDENT = "president", _("President")
        VICE_PRESIDENT = "vice_president", _("Vice-president")

    person = models.ForeignKey(
        "members.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="mandates"
    )
    area = models.ForeignKey(
        StrategicArea, verbose_name=_("strategic area"), on_delete=models.PROTECT, related_name="mandates"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    # The seat as it was published and held: a 2019 board keeps its 2019 titles and employers
    # even after the person's own record (members.Person) moves on.
    feminine_title = models.BooleanField(
        _("feminine title"), default=False, help_text=_("Shown as Présidente or Vice-présidente in French.")
    )
    position_fr = models.CharField(_("job title (French)"), max_length=255, blank=True)
    position_en = models.CharField(_("job title (English)"), max_length=255, blank=True)
    affiliation = models.CharField(
        _("affiliation"), max_length=255, blank=True, help_text=_("Institution as published for this mandate.")
    )
    organisation = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("member organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="governance_mandates",
        help_text=_(
            "The member organisation the affiliation belongs to, when it is one. "
            "The conflict-of-interest rule of the review uses it."
        ),
    )

    objects = MandateQuerySet.as_manager()

    class Meta:
        verbose_name = _("governance mandate")
        verbose_name_plural = _("governance mandates")
        ordering = ["area__position", "role", "start_date"]
        constraints = [
            # An open-ended president mandate is the current one: at most one per area.
            models.UniqueConstraint(
                fields=["area"],
                condition=Q(role="president", end_date__isnull=True),
                name="mandate_one_current_president_per_area",
                violation_error_message=_("This strategic area already has a current president."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="mandate_ends_after_it_starts",
                violation_error_message=_("A mandate must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} — {self.area} — {self.person}"

    @property
    def title(self) -> str:
        """The role as a reader expects it: "Présidente" for a woman in French."""
        if not self.feminine_title:
            return str(self.get_role_display())
        if self.role == self.Role.PRESIDENT:
            return pgettext("feminine", "President")
        return pgettext("feminine", "Vice-president")

    @property
    def position(self) -> str:
        """The job title in the page's language, falling back to the other one."""
        if (get_language() or "fr").startswith("en"):
            return self.position_en or self.position_fr
        return self.position_fr or self.position_en

    @property
    def display_affiliation(self) -> str:
        return self.affiliation or (self.organisation.name if self.organisation_id else "")

    def clean(self) -> None:
        # PostgreSQL also refuses overlapping presidencies (an exclusion constraint, migration
        # 0005); this check gives the form its message, and is the only guard on SQLite.
        if self.role != self.Role.PRESIDENT or not self.area_id or not self.start_date:
            return
        overlapping = Mandate.objects.filter(area_id=self.area_id, role=self.Role.PRESIDENT).exclude(pk=self.pk)
        overlapping = overlapping.filter(Q(end_date__isnull=True) | Q(end_date__gt=self.start_date))
        if self.end_date:
            overlapping = overlapping.filter(start_date__lt=self.end_date)
        if overlapping.exists():
            raise ValidationError(_("This strategic area already has a president over this period."))


class SeedRecord(models.Model):
    """One entry of the reviewed seed (an area, a person, a mandate) that `seed_medicen` loaded.

    A seeded row is loaded once: later runs skip every key recorded here, so what staff
    corrected (or deleted) afterwards stays as they left it; only new entries are added.
    """

    key = models.CharField(_("seed entry"), max_length=255, unique=True)
    object_id = models.PositiveBigIntegerField(_("row id"))
    # The seeded fields as the loader last left them: a row that no longer matches was
    # changed by staff, and the loader leaves it alone for good.
    values = models.JSONField(_("values loaded"), default=dict)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("seed entry loaded")
        verbose_name_plural = _("seed entries loaded")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
