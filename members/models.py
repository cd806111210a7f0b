from __future__ import annotations

import re
import unicodedata
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as stdnum_siren

from members.departements import departement_of


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, email: str) -> User:
        """Login in any case: A1@A.TEST finds a1@a.test (as the password reset already did)."""
        email = (email or "").strip()
        try:
            return self.get(email=email.lower())  # stored in lower case: the unique index answers
        except self.model.DoesNotExist:
            # A row stored in mixed case before addresses were lower-cased (admin, old imports).
            matches = list(self.filter(email__iexact=email)[:2])
            if len(matches) != 1:
                raise
            return matches[0]

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

    # Chosen with the language switch; applied at login (so it follows the person across
    # devices) and used for every e-mail to them. Blank: not chosen, the portal's default.
    class Language(models.TextChoices):
        FRENCH = "fr", _("French")
        ENGLISH = "en", _("English")

    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        # E-mail addresses are case-insensitive everywhere: stored in lower case, looked up in any case.
        self.email = (self.email or "").strip().lower()


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


# Words that say what legal form an organisation has, not which one it is.
LEGAL_FORM_WORDS = {"sa", "sas", "sasu", "sarl", "eurl", "sca", "sci", "scop", "gie", "inc", "ltd", "gmbh", "bv"}


def organisation_name_key(name: str) -> str:
    """Normalised name: no accents, case, punctuation, spaces or legal form.

    "Hôpital Saint-Louis (AP-HP)" and "Hopital Saint Louis - APHP" share the key
    "hopitalsaintlouisaphp", which is how imports match names and duplicates are found.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = [word for word in re.split(r"[^a-z0-9]+", ascii_name) if word]
    while len(words) > 1 and words[-1] in LEGAL_FORM_WORDS:
        words.pop()
    return "".join(words)


def search_term_key(text: str) -> str:
    """A search term normalised like the search key: no accents, case, punctuation or spaces."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", ascii_text)


def organisation_search_key(name: str, city: str) -> str:
    # "|" never occurs in a term's key, so a match cannot straddle the name and the city.
    return f"{search_term_key(name)}|{search_term_key(city)}"


LOGO_MAX_BYTES = 512 * 1024
LOGO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


def logo_kind(head: bytes) -> str | None:
    """The image type told by a file's first bytes (PNG or JPEG), never by its name."""
    for signature, kind in LOGO_SIGNATURES.items():
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def validate_logo(file) -> None:
    if file.size > LOGO_MAX_BYTES:
        raise ValidationError(_("The logo must be at most 512 KB."), code="logo_too_big")
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if logo_kind(head) is None:
        raise ValidationError(_("The logo must be a PNG, JPEG or WebP image."), code="logo_type")


LOGO_EXTENSIONS = {"png": ".png", "jpg": ".jpg", "webp": ".webp"}


def logo_upload_to(instance: Organisation, filename: str) -> str:
    """A name and an extension the portal chooses from the file's content, never the client's."""
    kind = None
    upload = getattr(instance.logo, "file", None)
    if upload is not None:
        upload.seek(0)
        kind = logo_kind(upload.read(16))
        upload.seek(0)
    # validate_logo has refused anything else; ".bin" would never be served as a page either way.
    return f"members/logos/{uuid.uuid4().hex}{LOGO_EXTENSIONS.get(kind, '.bin')}"


class OrganisationQuerySet(models.QuerySet):
    def active(self) -> OrganisationQuerySet:
        return self.filter(status=Organisation.Status.ACTIVE)

    def listed(self) -> OrganisationQuerySet:
        """In the public directory: active members that opted in."""
        return self.filter(status=Organisation.Status.ACTIVE, directory_opt_in=True)


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
    headcount = models.PositiveIntegerField(
        _("headcount"), null=True, blank=True, help_text=_("Staff in France; sets the fee band of companies.")
    )
    description = models.TextField(_("description"), blank=True, max_length=4000)
    logo = models.FileField(_("logo"), upload_to=logo_upload_to, blank=True, validators=[validate_logo])
    directory_opt_in = models.BooleanField(
        _("listed in the public directory"),
        default=False,
        help_text=_("The organisation agrees to appear in the public member directory."),
    )
    # The areas are defined by a later app (settings.MEMBERS_AREA_MODEL): members reads them through
    # this relation only (`strategic_areas()`), never by naming that app.
    das_interests = models.ManyToManyField(
        settings.MEMBERS_AREA_MODEL, verbose_name=_("strategic areas (DAS)"), blank=True, related_name="organisations"
    )
    name_key = models.CharField(_("normalised name"), max_length=255, editable=False, default="", db_index=True)
    # Normalised name and city, for "contains" searches that ignore accents, case and punctuation.
    search_key = models.CharField(_("search key"), max_length=400, editable=False, default="")

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["siren"], condition=~Q(siren=""), name="organisation_siren_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "category"]),
            # The staff changelist's order (name, then newest first): a far page's ids come from
            # this index alone, and it serves every lookup by name the former (name) index did.
            models.Index(fields=["name", "-id"], name="organisation_name_id"),
            models.Index(fields=["postcode"]),
            # The public directory lists active members who opted in, by name.
            models.Index(
                fields=["name"], condition=Q(status="active", directory_opt_in=True), name="organisation_listed_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Derived, never edited: kept in step with the name on every save.
        self.name_key = organisation_name_key(self.name)
        self.search_key = organisation_search_key(self.name, self.city)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"name", "city"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "name_key", "search_key"}
        super().save(*args, **kwargs)

    @property
    def departement(self) -> str:
        """The département's code: "75", or "971" overseas (`members.departements.departement_of`)."""
        return departement_of(self.postcode)

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
    # Contact roles within the organisation (several at once).
    is_primary_contact = models.BooleanField(_("primary contact"), default=False)
    is_billing_contact = models.BooleanField(
        _("billing contact"), default=False, help_text=_("Receives renewal reminders and invoices.")
    )
    is_scientific_contact = models.BooleanField(_("scientific contact"), default=False)
    is_communication_contact = models.BooleanField(_("communication contact"), default=False)
    invited_at = models.DateTimeField(_("invited on"), null=True, blank=True)
    # The e-mail of the latest invitation; whether it went out is the outbox's to say.
    invitation_message = models.ForeignKey(
        "outbox.Message", verbose_name=_("invitation e-mail"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    # Set when staff anonymise a person who left: the row stays (past records), the identity goes.
    anonymised_at = models.DateTimeField(_("anonymised on"), null=True, blank=True, editable=False)

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
    def invitation_sent_at(self):
        """When the latest invitation e-mail went out; None while it has not (pending, retried, failed)."""
        message = self.invitation_message
        return message.sent_at if message is not None and message.status == "sent" else None

    invitation_sent_at.fget.short_description = _("invitation sent on")  # the admin's label

    @property
    def language(self) -> str:
        """The language of e-mails to this person: their account's choice, else "" (the portal's default)."""
        return self.user.language if self.user_id else ""

    @property
    def display_affiliation(self) -> str:
        return self.affiliation or (self.organisation.name if self.organisation_id else "")

    @property
    def roles(self) -> list[str]:
        flags = (
            (self.is_primary_contact, _("primary")),
            (self.is_billing_contact, _("billing")),
            (self.is_scientific_contact, _("scientific")),
            (self.is_communication_contact, _("communication")),
        )
        return [str(label) for flag, label in flags if flag]


class FeeRate(models.Model):
    """One line of the fee grid: the yearly fee of a category, for companies by headcount band."""

    category = models.CharField(_("category"), max_length=20, choices=Organisation.Category.choices)
    headcount_min = models.PositiveIntegerField(_("from headcount"), default=0)
    headcount_max = models.PositiveIntegerField(
        _("to headcount"), null=True, blank=True, help_text=_("Inclusive; empty means no upper bound.")
    )
    amount = models.DecimalField(_("yearly fee (€, excl. VAT)"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("fee rate")
        verbose_name_plural = _("fee grid")
        ordering = ["category", "headcount_min"]
        constraints = [
            models.UniqueConstraint(fields=["category", "headcount_min"], name="feerate_one_band_start"),
            models.CheckConstraint(
                condition=Q(headcount_max__isnull=True) | Q(headcount_max__gte=F("headcount_min")),
                name="feerate_band_is_ordered",
            ),
        ]

    def __str__(self) -> str:
        upper = self.headcount_max if self.headcount_max is not None else "∞"
        return f"{self.get_category_display()} {self.headcount_min}-{upper}: {self.amount} €"


class MembershipYear(models.Model):
    """An organisation's membership for one calendar year: its fee, payment and status."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending payment")
        ACTIVE = "active", _("Active")
        GRACE = "grace", _("Grace period")
        LAPSED = "lapsed", _("Lapsed")
        RESIGNED = "resigned", _("Resigned")

    class ReminderStatus(models.TextChoices):
        NOT_SENT = "not_sent", _("Not sent")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="membership_years"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    fee = models.DecimalField(_("fee (€, excl. VAT)"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    invoice_reference = models.CharField(_("invoice reference"), max_length=60, blank=True)
    paid_on = models.DateField(_("payment date"), null=True, blank=True)
    resigned_on = models.DateField(_("resignation date"), null=True, blank=True)
    resignation_reason = models.TextField(_("resignation reason"), blank=True)
    # The renewal reminder's e-mail (outbox): sent, retried, failed — the outbox records it.
    reminder_message = models.OneToOneField(
        "outbox.Message", verbose_name=_("renewal reminder e-mail"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("membership year")
        verbose_name_plural = _("membership years")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year"], name="membershipyear_one_per_year"),
            models.CheckConstraint(
                condition=~Q(status="resigned") | Q(resigned_on__isnull=False),
                name="membershipyear_resigned_has_date",
                violation_error_message=_("A resignation needs its date."),
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(paid_on__isnull=False),
                name="membershipyear_active_is_paid",
                violation_error_message=_("An active membership year needs its payment date."),
            ),
        ]
        indexes = [models.Index(fields=["year", "status"])]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.year}"

    # What the admin shows, read from the outbox row (sent only when it went out).
    @property
    def reminder_status(self) -> str:
        message = self.reminder_message
        if message is None or message.status == "cancelled":
            return self.ReminderStatus.NOT_SENT
        if message.status == "sent":
            return self.ReminderStatus.SENT
        if message.status == "failed" or message.uncertain_at is not None:
            return self.ReminderStatus.FAILED
        return self.ReminderStatus.SENDING

    @property
    def reminder_sent_at(self):
        return self.reminder_message.sent_at if self.reminder_message else None

    @property
    def reminder_attempts(self) -> int:
        return self.reminder_message.attempts if self.reminder_message else 0

    @property
    def reminder_error(self) -> str:
        return self.reminder_message.last_error if self.reminder_message else ""

    def get_reminder_status_display(self) -> str:
        return self.ReminderStatus(self.reminder_status).label

    # The admin's labels of the properties above (read from the outbox row).
    reminder_status.fget.short_description = _("renewal reminder")
    reminder_sent_at.fget.short_description = _("reminder sent on")
    reminder_attempts.fget.short_description = _("reminder attempts")
    reminder_error.fget.short_description = _("reminder error")


class ImportJob(models.Model):
    """An import run by a worker (large files from the admin): its file until read, its progress and its report.

    The row is the truth: the task claims it (queued → running) before acting, the progress page
    reads it (so a reload loses nothing), and the report stays on it once done.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    filename = models.CharField(_("file"), max_length=255)
    dry_run = models.BooleanField(_("check only"), default=True)
    # The uploaded file, kept until the import has read it (then emptied).
    content = models.BinaryField(_("content"), editable=False, default=b"")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(_("phase"), max_length=10, blank=True)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    rows_total = models.PositiveIntegerField(_("rows in all"), default=0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    report = models.JSONField(_("report"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


# --- Billing: invoices, credit notes, payments, fee calls (services in members/billing.py) ---------


class BillingProfile(models.Model):
    """What an organisation's invoices say about it, kept by its billing contact (or staff)."""

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="billing_profile"
    )
    siret = models.CharField(
        _("SIRET"),
        max_length=14,
        blank=True,
        help_text=_("14 digits: the establishment invoiced, if not the head office."),
    )
    vat_number = models.CharField(
        _("VAT number"), max_length=20, blank=True, help_text=_("Intra-community VAT number.")
    )
    address = models.CharField(
        _("billing address"), max_length=255, blank=True, help_text=_("Empty: the organisation's address.")
    )
    postcode = models.CharField(_("postcode"), max_length=5, blank=True, validators=[validate_postcode])
    city = models.CharField(_("city"), max_length=120, blank=True)
    purchase_order = models.CharField(
        _("purchase-order number"), max_length=50, blank=True, help_text=_("Printed on the next invoices.")
    )
    public_body = models.BooleanField(
        _("public body (Chorus Pro)"),
        default=False,
        help_text=_("Invoices go through Chorus Pro and need the purchase-order number or the service code."),
    )
    service_code = models.CharField(
        _("Chorus Pro service code"), max_length=100, blank=True, help_text=_("The public body's service code.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("billing details")
        verbose_name_plural = _("billing details")

    def __str__(self) -> str:
        return str(self.organisation)

    def clean(self) -> None:
        from stdnum.fr import siret as stdnum_siret
        from stdnum.fr import tva as stdnum_tva

        errors = {}
        if self.siret:
            self.siret = self.siret.replace(" ", "")
            if not stdnum_siret.is_valid(self.siret):
                errors["siret"] = _("%(value)s is not a valid SIRET number (14 digits).") % {"value": self.siret}
            elif self.organisation_id and self.organisation.siren and self.siret[:9] != self.organisation.siren:
                errors["siret"] = _("The SIRET must begin with the organisation's SIREN.")
        if self.vat_number:
            self.vat_number = self.vat_number.replace(" ", "").upper()
            if self.vat_number.startswith("FR") and not stdnum_tva.is_valid(self.vat_number):
                errors["vat_number"] = _("%(value)s is not a valid French VAT number.") % {"value": self.vat_number}
        if bool(self.address) != bool(self.postcode and self.city) and (self.address or self.postcode or self.city):
            errors["address"] = _("A billing address needs its street, postcode and city.")
        if errors:
            raise ValidationError(errors)


class InvoiceCounter(models.Model):
    """The last number used in a year's invoice sequence. Locked (SELECT … FOR UPDATE) by the issuing
    transaction, so numbers are taken one at a time and a rolled-back issue gives its number back."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("invoice counter")
        verbose_name_plural = _("invoice counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class InvoiceQuerySet(models.QuerySet):
    def invoices(self) -> InvoiceQuerySet:
        return self.filter(kind=Invoice.Kind.INVOICE)

    def credit_notes(self) -> InvoiceQuerySet:
        return self.filter(kind=Invoice.Kind.CREDIT_NOTE)

    def unpaid(self) -> InvoiceQuerySet:
        return self.filter(kind=Invoice.Kind.INVOICE, status__in=[Invoice.Status.OPEN, Invoice.Status.PARTLY_PAID])

    def overdue(self, today) -> InvoiceQuerySet:
        return self.unpaid().filter(due_on__lt=today)


class Invoice(models.Model):
    """An invoice or a credit note (avoir), numbered in the year's one sequence.

    Once issued, nothing that is printed on it changes: the seller's and buyer's details, lines and
    totals are copied in at issue. Only the payment status moves (open → partly paid → paid, or
    cancelled by a credit note). Corrections are credit notes that refer to the invoice.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PARTLY_PAID = "partly_paid", _("Partly paid")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled by a credit note")
        ISSUED = "issued", _("Issued")  # credit notes

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INVOICE)
    number = models.CharField(_("number"), max_length=20, unique=True)
    year = models.PositiveSmallIntegerField(_("year of the sequence"))
    sequence = models.PositiveIntegerField(_("sequence number"))
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="invoices"
    )
    membership_year = models.ForeignKey(
        MembershipYear,
        verbose_name=_("membership year"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    credited_invoice = models.ForeignKey(
        "self",
        verbose_name=_("credited invoice"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    issued_on = models.DateField(_("issue date"))
    due_on = models.DateField(_("due date"))
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why a credit note was issued."))
    # Copied at issue: what the document says, whatever changes later.
    seller = models.JSONField(_("seller's details"), default=dict)
    buyer_name = models.CharField(_("buyer"), max_length=255)
    buyer_address = models.CharField(_("address"), max_length=255, blank=True)
    buyer_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    buyer_city = models.CharField(_("city"), max_length=120, blank=True)
    buyer_siren = models.CharField(_("SIREN"), max_length=9, blank=True)
    buyer_siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    buyer_vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    purchase_order = models.CharField(_("purchase-order number"), max_length=50, blank=True)
    service_code = models.CharField(_("Chorus Pro service code"), max_length=100, blank=True)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    vat_exemption = models.CharField(_("VAT exemption mention"), max_length=255, blank=True)
    total_excl_vat = models.DecimalField(_("total excl. VAT"), max_digits=12, decimal_places=2)
    total_vat = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)
    total_incl_vat = models.DecimalField(_("total incl. VAT"), max_digits=12, decimal_places=2)
    # Money received or credited; kept with the status by the payment and credit-note services.
    amount_paid = models.DecimalField(_("paid"), max_digits=12, decimal_places=2, default=0)
    amount_credited = models.DecimalField(_("credited"), max_digits=12, decimal_places=2, default=0)
    pdf = models.FileField(_("PDF"), upload_to="members/invoices/", blank=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices and credit notes")
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_one_number_per_year"),
            # One live invoice per membership year: a fee call run twice issues nothing twice.
            models.UniqueConstraint(
                fields=["membership_year"],
                condition=Q(kind="invoice") & ~Q(status="cancelled"),
                name="invoice_one_live_per_membership_year",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice") | Q(credited_invoice__isnull=False),
                name="invoice_credit_note_refers_to_invoice",
            ),
            models.CheckConstraint(
                condition=Q(total_incl_vat=F("total_excl_vat") + F("total_vat")), name="invoice_totals_add_up"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"]), models.Index(fields=["issued_on"])]

    def __str__(self) -> str:
        return self.number

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def amount_due(self):
        """What the member still owes: total less payments and credit notes (0 for a credit note)."""
        if self.is_credit_note or self.status == self.Status.CANCELLED:
            return self.total_incl_vat * 0
        return max(self.total_incl_vat - self.amount_paid - self.amount_credited, self.total_incl_vat * 0)


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    label = models.CharField(_("label"), max_length=255)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=1)
    unit_price = models.DecimalField(_("unit price excl. VAT"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("amount excl. VAT"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position"]

    def __str__(self) -> str:
        return self.label


class Payment(models.Model):
    """Money received for an invoice: a transfer or a cheque, in full or in part."""

    class Method(models.TextChoices):
        TRANSFER = "transfer", _("Bank transfer")
        CHEQUE = "cheque", _("Cheque")

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount (€)"), max_digits=12, decimal_places=2)
    received_on = models.DateField(_("received on"))
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_("Transfer reference or cheque number.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]
        indexes = [models.Index(fields=["received_on"])]

    def __str__(self) -> str:
        return f"{self.invoice} — {self.amount} €"


class FeeCall(models.Model):
    """Staff's call for year N's fees: one invoice per member due (or per organisation selected)."""

    year = models.PositiveSmallIntegerField(_("year"))
    organisations = models.ManyToManyField(
        Organisation,
        verbose_name=_("organisations"),
        blank=True,
        related_name="+",
        help_text=_("Empty: every member due for the year."),
    )
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("launched by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    launched_at = models.DateTimeField(_("launched"), auto_now_add=True)
    issued = models.PositiveIntegerField(_("invoices issued"), default=0)
    already_invoiced = models.PositiveIntegerField(_("already invoiced"), default=0)
    skipped = models.TextField(_("not invoiced"), blank=True)

    class Meta:
        verbose_name = _("fee call")
        verbose_name_plural = _("fee calls")
        ordering = ["-launched_at"]

    def __str__(self) -> str:
        return _("Fee call %(year)s") % {"year": self.year}


class MembershipApplicationQuerySet(models.QuerySet):
    def submitted(self) -> MembershipApplicationQuerySet:
        return self.filter(status=MembershipApplication.Status.SUBMITTED)


class MembershipApplication(models.Model):
    """An organisation's application to join, made on the public page /join/ and decided by staff.

    Approval creates the organisation (a prospect), its first membership year and its primary
    contact (members/applications.py); the application keeps what the applicant typed.
    """

    class Status(models.TextChoices):
        # An application (une candidature): the French labels agree with it.
        SUBMITTED = "submitted", pgettext_lazy("application", "Submitted")
        APPROVED = "approved", pgettext_lazy("application", "Approved")
        DECLINED = "declined", pgettext_lazy("application", "Declined")

    organisation_name = models.CharField(_("organisation name"), max_length=255)
    siren = models.CharField(_("SIREN"), max_length=9, validators=[validate_siren])
    category = models.CharField(_("category"), max_length=20, choices=Organisation.Category.choices)
    headcount = models.PositiveIntegerField(_("headcount"), help_text=_("Staff in France."))
    das_interests = models.ManyToManyField(
        settings.MEMBERS_AREA_MODEL, verbose_name=_("strategic areas (DAS)"), blank=True, related_name="+"
    )
    first_name = models.CharField(_("first name"), max_length=120)
    last_name = models.CharField(_("last name"), max_length=120)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    position = models.CharField(_("position"), max_length=255)
    language = models.CharField(_("language"), max_length=8, choices=User.Language.choices, default="fr")
    consented_at = models.DateTimeField(_("privacy notice accepted on"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField(_("submitted on"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why it was declined; sent to the applicant."))
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation created"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    name_key = models.CharField(_("normalised name"), max_length=255, editable=False, default="", db_index=True)

    objects = MembershipApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership application")
        verbose_name_plural = _("membership applications")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="submitted") | Q(decided_at__isnull=False),
                name="membershipapplication_decided_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(reason=""),
                name="membershipapplication_declined_has_reason",
                violation_error_message=_("A declined application needs its reason."),
            ),
        ]
        indexes = [models.Index(fields=["siren"]), models.Index(fields=["status", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.organisation_name} ({self.siren})"

    def save(self, *args, **kwargs) -> None:
        self.name_key = organisation_name_key(self.organisation_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "organisation_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    @property
    def contact_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_decided(self) -> bool:
        return self.status != self.Status.SUBMITTED


def strategic_areas() -> QuerySet:
    """The strategic areas a member can declare, in their own order (code, name).

    Their model belongs to a later app (settings.MEMBERS_AREA_MODEL, das): members reaches it
    through its own relation `Organisation.das_interests`, never by naming that app.
    """
    return Organisation._meta.get_field("das_interests").related_model.objects.all()
