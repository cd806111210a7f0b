from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as stdnum_siren


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A login. People log in with their e-mail address; there is no username."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email


def validate_siren(value: str) -> None:
    """SIREN: 9 digits with a Luhn check digit (python-stdnum)."""
    try:
        stdnum_siren.validate(value)
    except StdnumError:
        raise ValidationError(
            _("%(value)s is not a valid SIREN number (9 digits with a valid check digit)."),
            code="invalid_siren",
            params={"value": value},
        ) from None


def validate_postcode(value: str) -> None:
    if not (len(value) == 5 and value.isdigit()):
        raise ValidationError(_("A French postcode has 5 digits."), code="invalid_postcode")


class OrganisationQuerySet(models.QuerySet):
    def active(self) -> OrganisationQuerySet:
        return self.filter(status=Organisation.Status.ACTIVE)


class Organisation(models.Model):
    """A member organisation of the cluster (or a prospect, or a former member)."""

    class Category(models.TextChoices):
        STARTUP = "startup", _("Startup")
        SME = "sme", _("SME")
        MIDSIZE = "midsize", _("Mid-size company")
        LARGE = "large", _("Large company")
        RESEARCH = "research", _("Research organisation")
        UNIVERSITY = "university", _("University")
        HOSPITAL = "hospital", _("Hospital or clinical centre")
        AUTHORITY = "authority", _("Local authority")
        INVESTOR = "investor", _("Investor")
        OTHER = "other", _("Other")

    COMPANY_CATEGORIES = (Category.STARTUP, Category.SME, Category.MIDSIZE, Category.LARGE)
    RESEARCH_CLINICAL_CATEGORIES = (Category.RESEARCH, Category.UNIVERSITY, Category.HOSPITAL)

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active member")
        LAPSED = "lapsed", _("Lapsed")
        RESIGNED = "resigned", _("Resigned")

    name = models.CharField(_("name"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=255, unique=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True, validators=[validate_siren])
    address = models.CharField(_("address"), max_length=255, blank=True)
    postcode = models.CharField(_("postcode"), max_length=5, blank=True, validators=[validate_postcode])
    city = models.CharField(_("city"), max_length=120, blank=True)
    website = models.URLField(_("website"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PROSPECT)
    member_since = models.DateField(_("member since"), null=True, blank=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["siren"], condition=~Q(siren=""), name="organisation_siren_unique"),
        ]
        indexes = [models.Index(fields=["status", "category"])]

    def __str__(self) -> str:
        return self.name

    @property
    def departement(self) -> str:
        return self.postcode[:2]

    @property
    def is_company(self) -> bool:
        return self.category in self.COMPANY_CATEGORIES


class Person(models.Model):
    """Someone acting for an organisation: a contact, a KOL, a reviewer."""

    class Civility(models.TextChoices):
        NONE = "", _("(none)")
        MR = "M.", _("Mr")
        MRS = "Mme", _("Ms")
        DR = "Dr", _("Dr")
        PROF = "Prof.", _("Prof.")

    civility = models.CharField(_("civility"), max_length=8, choices=Civility.choices, blank=True)
    first_name = models.CharField(_("first name"), max_length=120)
    last_name = models.CharField(_("last name"), max_length=120)
    position = models.CharField(_("position"), max_length=255, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
    )
    affiliation = models.CharField(
        _("affiliation"),
        max_length=255,
        blank=True,
        help_text=_("Institution as published, for people whose organisation is not a member."),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.civility, self.first_name, self.last_name) if part)

    @property
    def display_affiliation(self) -> str:
        return self.affiliation or (self.organisation.name if self.organisation_id else "")
