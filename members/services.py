"""Writes of the members app: membership years, contacts' accounts, profiles, reminders."""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from members.models import FeeRate, MembershipYear, Organisation, Person, User
from members.selectors import directory_changed, fee_for
from outbox.services import Mail, message_enqueue, messages_cancel, messages_enqueue

logger = logging.getLogger(__name__)

Status = MembershipYear.Status

# The membership-year workflow. Every status change, one by one or in bulk, follows it.
ALLOWED = {
    Status.PENDING: {Status.ACTIVE, Status.GRACE, Status.LAPSED, Status.RESIGNED},
    Status.GRACE: {Status.ACTIVE, Status.LAPSED, Status.RESIGNED},
    Status.ACTIVE: {Status.RESIGNED},
    Status.LAPSED: {Status.ACTIVE, Status.RESIGNED},
    Status.RESIGNED: set(),
}
# What an organisation's status is, given its membership year for the current year.
ORGANISATION_STATUS_FOR = {
    Status.ACTIVE: Organisation.Status.ACTIVE,
    Status.GRACE: Organisation.Status.ACTIVE,  # still a member while the grace period runs
    Status.LAPSED: Organisation.Status.LAPSED,
    Status.RESIGNED: Organisation.Status.RESIGNED,
}


class InvalidTransition(ValidationError):
    def __init__(self, current: str, to: str) -> None:
        super().__init__(
            _("A membership year cannot go from %(current)s to %(to)s."),
            code="invalid_transition",
            params={"current": Status(current).label, "to": Status(to).label},
        )


class ConcurrentUpdate(ValidationError):
    def __init__(self) -> None:
        super().__init__(_("This membership year was changed meanwhile; reload and try again."), code="concurrent")


# --- Membership years -------------------------------------------------------------------


def grace_end(year: int) -> datetime.date:
    """Last day on which an unpaid membership of `year` is still in its grace period."""
    return datetime.date(year, 1, 1) + datetime.timedelta(days=settings.MEMBERS_GRACE_DAYS - 1)


def membership_year_open(*, organisation: Organisation, year: int) -> MembershipYear:
    """The organisation's membership year `year`, created pending with the grid's fee if missing. Idempotent."""
    existing = MembershipYear.objects.filter(organisation=organisation, year=year).first()
    if existing is not None:
        return existing
    membership = MembershipYear(organisation=organisation, year=year, fee=fee_for(organisation=organisation))
    membership.full_clean()
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:
        # Another process opened it between our read and our insert: theirs is the one.
        return MembershipYear.objects.get(organisation=organisation, year=year)
    return membership


@transaction.atomic
def membership_year_transition(
    *,
    membership_year: MembershipYear,
    to: str,
    paid_on: datetime.date | None = None,
    invoice_reference: str | None = None,
    resigned_on: datetime.date | None = None,
    resignation_reason: str = "",
) -> MembershipYear:
    """Move one membership year to `to` (see ALLOWED); claims the row so two callers cannot both move it."""
    current = membership_year.status
    if to not in ALLOWED[Status(current)]:
        raise InvalidTransition(current, to)
    changes: dict = {"status": to, "updated_at": timezone.now()}
    if to == Status.ACTIVE:
        if paid_on is None:
            raise ValidationError(_("A payment date is needed to activate a membership year."), code="paid_on")
        changes["paid_on"] = paid_on
        if invoice_reference is not None:
            changes["invoice_reference"] = invoice_reference
    if to == Status.RESIGNED:
        if resigned_on is None or not resignation_reason.strip():
            raise ValidationError(_("A resignation needs its date and reason."), code="resignation")
        changes["resigned_on"] = resigned_on
        changes["resignation_reason"] = resignation_reason.strip()
    if MembershipYear.objects.filter(pk=membership_year.pk, status=current).update(**changes) != 1:
        raise ConcurrentUpdate()
    # The claim is a queryset update(), which the audit trail never sees: log the move ourselves
    # (the actor is the request's, which AuditlogMiddleware puts on every entry saved in it).
    from auditlog.models import LogEntry

    LogEntry.objects.log_create(
        membership_year,
        action=LogEntry.Action.UPDATE,
        changes={
            name: [str(getattr(membership_year, name)), str(value)]
            for name, value in changes.items()
            if name != "updated_at"
        },
    )
    for name, value in changes.items():
        setattr(membership_year, name, value)
    organisation_status_sync(organisation_ids=[membership_year.organisation_id], today=timezone.localdate())
    return membership_year


@transaction.atomic
def membership_record_payment(
    *, organisation: Organisation, year: int, paid_on: datetime.date, invoice_reference: str = ""
) -> MembershipYear:
    """Record the payment of `year`'s fee: the year becomes active. "Member since" is set once, never moved."""
    membership = membership_year_open(organisation=organisation, year=year)
    if membership.status != Status.ACTIVE:
        membership_year_transition(
            membership_year=membership, to=Status.ACTIVE, paid_on=paid_on, invoice_reference=invoice_reference
        )
    # Only the first membership sets it: renewals leave it as it is.
    Organisation.objects.filter(pk=organisation.pk, member_since__isnull=True).update(
        member_since=datetime.date(year, 1, 1)
    )
    organisation.refresh_from_db(fields=["member_since", "status"])
    return membership


@transaction.atomic
def membership_resign(*, organisation: Organisation, on: datetime.date, reason: str) -> MembershipYear:
    """The organisation leaves the cluster on `on`: that year and any later one become resigned."""
    if not reason.strip():
        raise ValidationError(_("A resignation needs its date and reason."), code="resignation")
    membership = membership_year_open(organisation=organisation, year=on.year)
    years = MembershipYear.objects.filter(organisation=organisation, year__gte=on.year).exclude(status=Status.RESIGNED)
    for later in years.select_for_update():
        membership_year_transition(membership_year=later, to=Status.RESIGNED, resigned_on=on, resignation_reason=reason)
    membership.refresh_from_db()
    return membership


@transaction.atomic
def organisation_status_sync(*, today: datetime.date, organisation_ids: Iterable[int] | None = None) -> int:
    """Set each organisation's status from its membership year of `today`'s year. Idempotent; returns rows changed.

    Each change is in the audit trail (status_moves_audit), as a save() would have put it."""
    changed = 0
    for year_status, organisation_status in ORGANISATION_STATUS_FOR.items():
        has_year = MembershipYear.objects.filter(organisation=OuterRef("pk"), year=today.year, status=year_status)
        organisations = Organisation.objects.filter(Exists(has_year)).exclude(status=organisation_status)
        if organisation_ids is not None:
            organisations = organisations.filter(pk__in=list(organisation_ids))
        # Locked, so the statuses read are the ones the update replaces.
        moves = list(organisations.select_for_update().values_list("pk", "name", "status"))
        if not moves:
            continue
        changed += Organisation.objects.filter(pk__in=[pk for pk, _name, _status in moves]).update(
            status=organisation_status
        )
        status_moves_audit(Organisation, [(pk, name, old, organisation_status) for pk, name, old in moves])
    if changed:
        directory_changed()
    return changed


def status_moves_audit(model, moves: list[tuple[int, str, str, str]]) -> None:
    """One audit-trail entry per status changed by a queryset update(), which django-auditlog's
    signals never see: `moves` holds (pk, the object as the trail names it, from, to)."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(model)
    entries = [
        LogEntry(
            content_type=content_type,
            object_pk=str(pk),
            object_id=pk,
            object_repr=label[:2000],
            action=LogEntry.Action.UPDATE,
            changes={"status": [str(old), str(new)]},
        )
        for pk, label, old, new in moves
    ]
    if len(entries) <= 100:
        # One by one: LogEntry's pre_save fills in the request's actor (a staff change in the admin).
        for entry in entries:
            entry.save()
    else:
        # The daily moves, thousands of rows on the first days of a year, and no actor: in bulk.
        LogEntry.objects.bulk_create(entries, batch_size=2000)


def membership_years_open_for_members_of(*, year: int, new_year: int) -> tuple[int, list[str]]:
    """Open `new_year` (pending, fee from the grid) for every organisation that was a member in `year`
    (active or grace) and has no `new_year` yet. Idempotent; in bulk, so it stays quick at any size.

    Returns (how many opened, one line per organisation the grid has no fee for).
    """
    grid: dict[str, list[FeeRate]] = {}
    for rate in FeeRate.objects.order_by("-headcount_min"):
        grid.setdefault(rate.category, []).append(rate)
    renewing = (
        Organisation.objects.filter(
            membership_years__year=year, membership_years__status__in=[Status.ACTIVE, Status.GRACE]
        )
        .exclude(membership_years__year=new_year)
        .only("pk", "name", "category", "headcount")
    )
    opened, skipped, batch = 0, [], []
    for organisation in renewing.iterator(chunk_size=2000):
        headcount = organisation.headcount or 0
        rate = next(
            (
                r
                for r in grid.get(organisation.category, [])
                if r.headcount_min <= headcount and (r.headcount_max is None or headcount <= r.headcount_max)
            ),
            None,
        )
        if rate is None:
            skipped.append(f"{organisation}: {_('no fee rate for its category and headcount')}")
            continue
        batch.append(MembershipYear(organisation_id=organisation.pk, year=new_year, fee=rate.amount))
    # ignore_conflicts: a concurrent run that opened some of them first wins, nothing is duplicated.
    for start in range(0, len(batch), 2000):
        created = MembershipYear.objects.bulk_create(batch[start : start + 2000], ignore_conflicts=True)
        opened += len(created)
    return opened, skipped


def _bulk_move(queryset, to: str) -> int:
    """Move every row of `queryset` to `to` in one UPDATE, only from statuses allowed to go there;
    each move is in the audit trail. Called inside membership_statuses_advance's transaction."""
    sources = [status for status, targets in ALLOWED.items() if to in targets]
    moving = queryset.filter(status__in=sources).select_for_update(of=("self",))
    moves = list(moving.values_list("pk", "organisation__name", "year", "status"))
    if not moves:
        return 0
    moved = MembershipYear.objects.filter(pk__in=[move[0] for move in moves]).update(
        status=to, updated_at=timezone.now()
    )
    status_moves_audit(MembershipYear, [(pk, f"{name} — {year}", old, to) for pk, name, year, old in moves])
    return moved


@dataclass
class StatusReport:
    opened: int = 0
    grace: int = 0
    lapsed: int = 0
    organisations_changed: int = 0
    skipped: list[str] = field(default_factory=list)


def membership_statuses_advance(*, today: datetime.date) -> StatusReport:
    """Move membership years with the calendar on `today`. Safe to run any number of times a day.

    - members of last year who have not resigned get this year's membership opened (pending);
    - this year's unpaid memberships are in their grace period until grace_end(), then lapse;
    - unpaid memberships of earlier years lapse;
    - each organisation's status follows its membership of this year.
    """
    report = StatusReport()
    year = today.year
    report.opened, report.skipped = membership_years_open_for_members_of(year=year - 1, new_year=year)
    with transaction.atomic():
        unpaid = MembershipYear.objects.filter(status__in=[Status.PENDING, Status.GRACE])
        report.lapsed += _bulk_move(unpaid.filter(year__lt=year), Status.LAPSED)
        if today > grace_end(year):
            report.lapsed += _bulk_move(unpaid.filter(year=year), Status.LAPSED)
        else:
            report.grace += _bulk_move(unpaid.filter(year=year, status=Status.PENDING), Status.GRACE)
        report.organisations_changed = organisation_status_sync(today=today)
    return report


# --- Renewal reminders ----------------------------------------------------------------


def renewal_year_for(*, organisation: Organisation, today: datetime.date) -> int:
    """The year a reminder is about: this year while it is unpaid, otherwise next year."""
    current = MembershipYear.objects.filter(organisation=organisation, year=today.year).first()
    if current is not None and current.status in (Status.PENDING, Status.GRACE, Status.LAPSED):
        return today.year
    return today.year + 1


def renewal_reminders_due(*, today: datetime.date) -> list[int]:
    """Open next year's membership of current members once the reminder window starts; return the
    ids of memberships whose reminder is still to send. Idempotent."""
    window_start = datetime.date(today.year, 12, 31) - datetime.timedelta(days=settings.MEMBERS_RENEWAL_REMINDER_DAYS)
    if today < window_start:
        return []
    next_year = today.year + 1
    _opened, skipped = membership_years_open_for_members_of(year=today.year, new_year=next_year)
    for line in skipped:
        logger.warning("No renewal opened: %s", line)
    return list(
        MembershipYear.objects.filter(year=next_year, status=Status.PENDING, reminder_message__isnull=True).values_list(
            "pk", flat=True
        )
    )


def _renewal_reminder_mail(membership: MembershipYear, *, key: str) -> Mail:
    """The reminder of one membership year, to its billing (else primary) contacts, in their language.

    With no such contact the message has no recipient: the outbox fails it with that reason,
    for staff to see, rather than the reminder silently never existing.
    """
    organisation = membership.organisation
    people = billing_people(organisation)
    language = language_for(people)
    with translation.override(language):
        context = {
            "organisation": organisation,
            "membership": membership,
            "year_end": datetime.date(membership.year - 1, 12, 31),
            "url": settings.SITE_URL + reverse("members:membership", args=[organisation.slug]),
        }
        subject = _("Medicen Paris Region: renewal of your membership for %(year)s") % {"year": membership.year}
        body = render_to_string("members/emails/renewal_reminder.txt", context)
    return Mail(
        key=key, kind="members.renewal_reminder", to=[p.email for p in people], subject=subject, body=body,
        language=language,
    )  # fmt: skip


@transaction.atomic
def renewal_reminders_enqueue(*, membership_year_ids: Iterable[int], retry_failed: bool = False) -> list[int]:
    """Give each membership year its renewal reminder e-mail (sent by the outbox after commit, once).

    A year that already has one keeps it; with `retry_failed`, a reminder that failed for good is
    replaced by a fresh one (rendered again, for the contacts of today). Returns the ids given one.
    """
    years = list(
        MembershipYear.objects.select_for_update(of=("self",))
        .filter(pk__in=list(membership_year_ids))
        .select_related("organisation", "reminder_message")
        .order_by("pk")
    )
    todo: list[tuple[MembershipYear, str]] = []
    for membership in years:
        message = membership.reminder_message
        if message is None:
            todo.append((membership, f"renewal-reminder:{membership.pk}"))
        elif retry_failed and message.status == "failed":
            todo.append((membership, f"renewal-reminder:{membership.pk}:after-{message.pk}"))
    messages = messages_enqueue([_renewal_reminder_mail(m, key=key) for m, key in todo])
    for (membership, _key), message in zip(todo, messages, strict=True):
        membership.reminder_message = message
    MembershipYear.objects.bulk_update([m for m, _key in todo], ["reminder_message"], batch_size=500)
    return [membership.pk for membership, _key in todo]


def billing_people(organisation: Organisation) -> list[Person]:
    """Billing contacts with an address; the primary contacts when there is no billing contact."""
    people = organisation.people.exclude(email="").select_related("user")
    return list(people.filter(is_billing_contact=True)) or list(people.filter(is_primary_contact=True))


def language_for(people: Iterable[Person | User]) -> str:
    """The language of one e-mail to these people: theirs when they share one, else the portal's default.

    One message per reminder keeps its exactly-once claim simple; contacts of one organisation
    nearly always share a language.
    """
    languages = {person.language or settings.LANGUAGE_CODE for person in people}
    return languages.pop() if len(languages) == 1 else settings.LANGUAGE_CODE


def renewal_reminders_request(*, organisations: Iterable[Organisation], today: datetime.date) -> tuple[list[int], int]:
    """Staff ask to remind these organisations now. Failed reminders are reset to try again;
    reminders already sent are not sent twice. Returns (ids to send, already sent)."""
    candidates, already = [], 0
    for organisation in organisations:
        membership = membership_year_open(
            organisation=organisation, year=renewal_year_for(organisation=organisation, today=today)
        )
        candidates.append(membership.pk)
    ids = renewal_reminders_enqueue(membership_year_ids=candidates, retry_failed=True)
    already = len(candidates) - len(ids)
    return ids, already


def renewal_refusal(*, organisation: Organisation) -> str | None:
    """Why "renewed" does not apply to `organisation` (a prospect, a resigned member), or None if it does.

    A renewal is a member's (or a lapsed member's) next fee received. Marking a prospect as renewed
    used to leave it a prospect "member since" next year; it must join first, on its own page.
    """
    if organisation.status == Organisation.Status.PROSPECT:
        return _(
            "%(name)s is a prospect, not a member: nothing to renew. Record its first membership year "
            "and payment on its page."
        ) % {"name": organisation.name}
    if organisation.status == Organisation.Status.RESIGNED:
        return _(
            "%(name)s has resigned: nothing to renew. If it rejoins, record a new membership year on its page."
        ) % {"name": organisation.name}
    return None


@dataclass
class RenewalOutcome:
    renewed: list[Organisation] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one reason per organisation not renewed


def membership_renew(*, organisations: Iterable[Organisation], today: datetime.date) -> RenewalOutcome:
    """Staff mark organisations as renewed (fee received today) for the year being renewed.

    Only members and lapsed members are renewed; each other organisation is left as it is, with the reason.
    """
    outcome = RenewalOutcome()
    for organisation in organisations:
        reason = renewal_refusal(organisation=organisation)
        if reason is not None:
            outcome.refused.append(reason)
            continue
        year = renewal_year_for(organisation=organisation, today=today)
        membership = membership_record_payment(organisation=organisation, year=year, paid_on=today)
        if membership.status == Status.ACTIVE:
            outcome.renewed.append(organisation)
    return outcome


# --- Contacts' accounts -----------------------------------------------------------------

INVITATION_SALT = "members.invitation"


def _password_fingerprint(user: User) -> str:
    # Changes as soon as a password is set, so an invitation link works once.
    return hashlib.sha256(user.password.encode()).hexdigest()[:16]


def invitation_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "p": _password_fingerprint(user)}, salt=INVITATION_SALT, compress=True)


def invitation_user(token: str) -> User | None:
    """The user an invitation link is for, or None if it is forged, expired or already used."""
    try:
        data = signing.loads(
            token, salt=INVITATION_SALT, max_age=datetime.timedelta(days=settings.MEMBERS_INVITATION_DAYS)
        )
    except signing.BadSignature:  # includes SignatureExpired
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.has_usable_password() or _password_fingerprint(user) != data.get("p"):
        return None
    return user


@transaction.atomic
def person_invite(*, person: Person, by: User) -> User:
    """Give a contact an account: a login without a password, and an e-mail with a link to set one."""
    if not person.email:
        raise ValidationError(_("%(person)s has no e-mail address."), code="no_email", params={"person": person})
    email = User.objects.normalize_email(person.email).lower()
    user = person.user or User.objects.filter(email__iexact=email).first()
    if user is not None and user.has_usable_password():
        raise ValidationError(_("%(person)s already has an account."), code="has_account", params={"person": person})
    if user is not None and Person.objects.filter(user=user).exclude(pk=person.pk).exists():
        raise ValidationError(
            _("The address %(email)s is already used by another person's account."),
            code="email_taken",
            params={"email": email},
        )
    if user is None:
        user = User.objects.create_user(email=email, first_name=person.first_name, last_name=person.last_name)
    # set_unusable_password() gives a fresh random hash: earlier links stop working.
    user.set_unusable_password()
    user.save(update_fields=["password"])
    now = timezone.now()
    person.user, person.invited_at = user, now
    # In this transaction: the outbox sends it after commit, once (retried if the server says later).
    message = message_enqueue(**_invitation_mail(person, user, key=f"member-invitation:{person.pk}:{now.isoformat()}"))
    Person.objects.filter(pk=person.pk).update(user=user, invited_at=now, invitation_message=message)
    person.invitation_message = message
    logger.info("%s invited %s", by, person)
    return user


def _invitation_mail(person: Person, user: User, *, key: str) -> dict:
    """The account invitation of one contact, with its set-password link, in their language."""
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "person": person,
            "url": settings.SITE_URL + reverse("members:invitation", args=[invitation_token(user)]),
            "days": settings.MEMBERS_INVITATION_DAYS,
        }
        subject = _("Your account on the Medicen Portal")
        body = render_to_string("members/emails/invitation.txt", context)
    return {
        "key": key, "kind": "members.invitation", "to": [user.email], "subject": subject, "body": body,
        "language": language,
    }  # fmt: skip


# --- Public profile ------------------------------------------------------------------------


PROFILE_FIELDS = ("description", "website", "logo", "directory_opt_in")


@transaction.atomic
def organisation_profile_update(
    *, organisation: Organisation, by: User, das_interests: Iterable, **fields
) -> Organisation:
    """A member contact (or staff) updates the public profile; name, SIREN and category are not part of it."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    # Read from the row: a model form has already put the new upload on the instance.
    previous_logo = Organisation.objects.filter(pk=organisation.pk).values_list("logo", flat=True).first() or ""
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.full_clean()
    organisation.save()
    organisation.das_interests.set(das_interests)
    directory_changed()
    logo_file_release(previous=previous_logo, kept=organisation.logo.name)
    logger.info("%s updated the profile of %s", by, organisation)
    return organisation


def logo_file_release(*, previous: str, kept: str = "") -> None:
    """Delete the logo file `previous` once the transaction commits, unless it is the one `kept`:
    a replaced, cleared or deleted logo leaves no file behind (the profile page and the admin's
    change and delete pages all call this)."""
    if previous and previous != kept:
        storage = Organisation._meta.get_field("logo").storage
        # Only after commit: a rolled-back change keeps the row pointing at its file.
        transaction.on_commit(lambda: storage.delete(previous))


# --- Language -----------------------------------------------------------------------------


def user_set_language(*, user: User, language: str) -> User:
    """Remember a login's language: applied at each login and used for every e-mail to them."""
    user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["language"])
    return user


# --- Data protection ------------------------------------------------------------------------

ANONYMISED_FIRST_NAME = "Anonymised"  # stored, not translated: the row is the same in every language
MASK = "***"


@transaction.atomic
def person_anonymise(*, person: Person, by: User, now: datetime.datetime | None = None) -> Person:
    """Remove the identity of a person who left; keep their past records and every figure.

    The Person row stays (mandates, invitations, reviews and membership history point to it)
    with its name, address, phone-like fields and contact roles cleared; their login is
    deactivated with its e-mail scrubbed; each app erases what it holds (calendar feed,
    pending e-mails, consortium contact lines: settings.PERSONAL_DATA_ERASERS); the audit
    log keeps who changed which field when, without the old values. Idempotent.
    Refused while the person holds a current mandate: staff end it first.
    """
    from auditlog.context import disable_auditlog
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    now = now or timezone.now()
    # Lock the row (no join: PostgreSQL refuses FOR UPDATE on the nullable side of one).
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.anonymised_at is not None:
        return person
    # Each later app's part (das, projects): members imports none. An eraser may refuse (das: a
    # person who holds a current mandate) by raising ValidationError: the transaction undoes it all.
    for path in settings.PERSONAL_DATA_ERASERS:
        import_string(path)(person=person, now=now)

    user = person.user
    # The changes themselves must not land in the audit log with the old values.
    with disable_auditlog():
        person.civility = ""
        person.first_name = ANONYMISED_FIRST_NAME
        person.last_name = f"#{person.pk}"
        person.position = ""
        person.email = ""
        person.affiliation = ""
        person.is_primary_contact = person.is_billing_contact = False
        person.is_scientific_contact = person.is_communication_contact = False
        if person.invitation_message_id:
            # An invitation not yet sent goes nowhere now.
            messages_cancel(message_ids=[person.invitation_message_id])
        person.invited_at = person.invitation_message = None
        person.anonymised_at = now
        person.full_clean()
        person.save()
        if user is not None:
            old_email = user.email
            user.email = f"anonymised-{user.pk}@anonymised.invalid"
            user.first_name = user.last_name = ""
            user.language = ""
            user.is_active = False
            user.set_unusable_password()
            user.full_clean(exclude=["password"])
            user.save()
            _forget_login_traces(user, old_email)

    person_type = ContentType.objects.get_for_model(Person)
    for entry in LogEntry.objects.filter(content_type=person_type, object_pk=str(person.pk)):
        entry.changes = {field: [MASK, MASK] for field in (entry.changes or {})} or None
        entry.changes_text = ""
        entry.serialized_data = None
        entry.additional_data = None
        entry.object_repr = str(person)
        entry.save(update_fields=["changes", "changes_text", "serialized_data", "additional_data", "object_repr"])
    # Later apps' entries named after them (das: "President — DAS — Dr X"), renamed by their own hooks.
    for path in settings.PERSONAL_DATA_AUDIT_SCRUBBERS:
        import_string(path)(person=person)
    if user is not None:
        LogEntry.objects.filter(actor=user).update(actor_email=user.email, remote_addr=None, remote_port=None)
        # The login's own entries (the audit trail tracks users) name it and held its identity;
        # the grants (is_staff, is_superuser, groups…) stay readable.
        user_type = ContentType.objects.get_for_model(type(user))
        identity = {"email", "first_name", "last_name"}
        for entry in LogEntry.objects.filter(content_type=user_type, object_pk=str(user.pk)):
            changes = entry.changes or {}
            entry.changes = {f: [MASK, MASK] if f in identity else v for f, v in changes.items()} or None
            entry.changes_text = ""
            entry.serialized_data = None
            entry.additional_data = None
            entry.object_repr = str(user)
            entry.save(update_fields=["changes", "changes_text", "serialized_data", "additional_data", "object_repr"])
    logger.info("%s anonymised person %s", by, person.pk)
    return person


def _forget_login_traces(user: User, old_email: str) -> None:
    """Throttling records name the address; second-factor devices belong to the login."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp import devices_for_user

    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username__iexact=old_email).delete()
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    # Open sessions die with is_active=False: ModelBackend.get_user() refuses inactive users.
