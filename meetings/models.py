"""KOL committee meetings: the meeting, its topics and agenda, invitations, the e-mails about it.

These models were born in the das app: they keep its tables (`das_<model>`, Meta.db_table), and
meetings/migrations/0001 takes them over without touching the database.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from das.models import StrategicArea

# A meeting of the cross-DAS KOL committee or of one DAS board, its agenda of topics, its
# invitations and every e-mail sent about it (Delivery rows, sent through the outbox: meetings/engine.py).

DEFAULT_REMINDER_OFFSETS = [7 * 24 * 60, 24 * 60]  # minutes before the start: 7 days and 1 day


def default_reminder_offsets() -> list[int]:
    return list(DEFAULT_REMINDER_OFFSETS)


def validate_reminder_offsets(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValidationError(_("Reminders must be a list of whole numbers of minutes."), code="invalid_offsets")
    if any(v <= 0 or v > 90 * 24 * 60 for v in value):
        raise ValidationError(_("Each reminder must come between one minute and 90 days before the meeting."))
    if len(set(value)) != len(value):
        raise ValidationError(_("The same reminder is listed twice."), code="duplicate_offsets")
    if len(value) > 6:
        raise ValidationError(_("A meeting has at most six reminders."), code="too_many_offsets")


class MeetingQuerySet(models.QuerySet):
    def upcoming(self, now: datetime.datetime) -> MeetingQuerySet:
        return self.filter(ends_at__gt=now).order_by("starts_at")

    def past(self, now: datetime.datetime) -> MeetingQuerySet:
        return self.filter(ends_at__lte=now).order_by("-starts_at")


class Meeting(models.Model):
    """A KOL committee meeting (all DAS) or a meeting of one DAS board."""

    class Committee(models.TextChoices):
        KOL_COMMITTEE = "kol_committee", _("KOL committee (all strategic areas)")
        DAS_BOARD = "das_board", _("Board of one strategic area")

    class Status(models.TextChoices):
        # Being prepared: only staff see it and nobody has been e-mailed yet.
        DRAFT = "draft", _("In preparation")
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        HELD = "held", _("Held")

    uid = models.UUIDField(_("calendar UID"), unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    committee = models.CharField(_("committee"), max_length=20, choices=Committee.choices)
    area = models.ForeignKey(
        StrategicArea,
        verbose_name=_("strategic area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        help_text=_("Only for the meeting of one DAS board."),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=255, blank=True)
    video_url = models.URLField(_("video link"), blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    minutes = models.TextField(_("minutes"), blank=True)
    reminder_offsets = models.JSONField(
        _("reminders (minutes before the start)"),
        default=default_reminder_offsets,
        validators=[validate_reminder_offsets],
    )
    # iCalendar SEQUENCE: raised on every change that attendees' calendars must pick up.
    sequence = models.PositiveIntegerField(_("revision"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        db_table = "das_meeting"  # born in das: the table keeps its name
        verbose_name = _("committee meeting")
        verbose_name_plural = _("committee meetings")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="meeting_ends_after_it_starts",
                violation_error_message=_("A meeting must end after it starts."),
            ),
            models.CheckConstraint(
                condition=(Q(committee="das_board") & Q(area__isnull=False))
                | (Q(committee="kol_committee") & Q(area__isnull=True)),
                name="meeting_board_has_one_area",
                violation_error_message=_("Choose the strategic area of a board meeting, and none for the committee."),
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if not self.place and not self.video_url:
            raise ValidationError(_("Give a place, a video link, or both."), code="no_place")

    @property
    def committee_label(self) -> str:
        if self.committee == self.Committee.DAS_BOARD and self.area_id:
            return str(_("Board of %(area)s") % {"area": self.area.name})
        return str(self.Committee.KOL_COMMITTEE.label)

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.SCHEDULED

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def has_started(self, now: datetime.datetime) -> bool:
        return self.starts_at <= now


class Topic(models.Model):
    """An innovation topic proposed by a KOL (or staff), tagged by DAS, voted on."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        SELECTED = "selected", _("Selected")
        SET_ASIDE = "set_aside", _("Set aside")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    areas = models.ManyToManyField(StrategicArea, verbose_name=_("strategic areas"), related_name="topics")
    proposed_by = models.ForeignKey(
        "members.Person",
        verbose_name=_("proposed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED)
    selected_at = models.ForeignKey(
        "Meeting",
        verbose_name=_("selected at"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="selected_topics",
    )
    created_at = models.DateTimeField(_("proposed on"), auto_now_add=True)

    class Meta:
        db_table = "das_topic"  # born in das: the table keeps its name
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class TopicVote(models.Model):
    """One KOL's vote for a topic (at most one each)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="votes")
    person = models.ForeignKey("members.Person", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "das_topicvote"  # born in das: the table keeps its name
        verbose_name = _("topic vote")
        verbose_name_plural = _("topic votes")
        constraints = [models.UniqueConstraint(fields=["topic", "person"], name="topic_vote_once_per_person")]

    def __str__(self) -> str:
        return f"{self.person} → {self.topic}"


class AgendaItem(models.Model):
    """A topic on a meeting's agenda; `selected` records the committee's decision after it."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="agenda_items"
    )
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="agenda_items")
    position = models.PositiveSmallIntegerField(default=0)
    selected = models.BooleanField(_("selected by the committee"), default=False)

    class Meta:
        db_table = "das_agendaitem"  # born in das: the table keeps its name
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["meeting", "topic"], name="agenda_item_topic_once")]

    def __str__(self) -> str:
        return f"{self.meeting} — {self.topic}"


class InvitationQuerySet(models.QuerySet):
    def active(self) -> InvitationQuerySet:
        """Invitations not withdrawn by staff."""
        return self.filter(withdrawn_at__isnull=True)


class Invitation(models.Model):
    """One person invited to one meeting, with their answer and, afterwards, their attendance.

    A withdrawn invitation is kept (its deliveries reference it) but revoked: its answer link
    is refused and the person no longer sees the meeting.
    """

    class Response(models.TextChoices):
        NONE = "", _("No answer yet")
        ACCEPTED = "accepted", _("Accepted")
        TENTATIVE = "tentative", _("Tentative")
        DECLINED = "declined", _("Declined")

    class Source(models.TextChoices):
        MANDATE = "mandate", _("Mandate holder")
        STAFF = "staff", _("Added by staff")

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="invitations"
    )
    person = models.ForeignKey("members.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="+")
    # The address at invitation time, lower-cased: one e-mail per address and meeting.
    email = models.EmailField(_("e-mail"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.STAFF)
    response = models.CharField(_("answer"), max_length=20, choices=Response.choices, blank=True, default="")
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    created_at = models.DateTimeField(_("invited at"), auto_now_add=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        db_table = "das_invitation"  # born in das: the table keeps its name
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["person__last_name", "person__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="invitation_person_once"),
            models.UniqueConstraint(fields=["meeting", "email"], name="invitation_address_once"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} — {self.person}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class DeliveryQuerySet(models.QuerySet):
    def waiting(self) -> DeliveryQuerySet:
        """Neither skipped nor handed to the outbox yet (the meetings scan enqueues them when due)."""
        return self.filter(message__isnull=True, skip_reason="")

    def unsent(self) -> DeliveryQuerySet:
        """Not skipped and not gone out: waiting, or enqueued in the outbox and not yet claimed by a sender."""
        return self.filter(Q(message__isnull=True) | Q(message__status="pending"), skip_reason="")

    def told(self) -> DeliveryQuerySet:
        """Handed to a sender: sent, or being sent (it may be going out right now)."""
        return self.filter(skip_reason="", message__status__in=["sent", "sending"])

    def with_status(self) -> DeliveryQuerySet:
        """Annotate `status`: "skipped", "pending" (waiting or enqueued), else the outbox message's status."""
        return self.annotate(
            status=Case(
                When(~Q(skip_reason=""), then=Value(Delivery.Status.SKIPPED)),
                When(message__isnull=True, then=Value(Delivery.Status.PENDING)),
                default=F("message__status"),
                output_field=models.CharField(),
            )
        )


class Delivery(models.Model):
    """One e-mail to one address about one meeting: its purpose and moment, and why it was skipped.

    Whether it went out is the outbox's business: once due and not skipped, the meetings scan
    renders it and enqueues an `outbox.Message` (`message`), which is claimed and sent once.
    """

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        UPDATE = "update", _("Updated invitation")
        CANCELLATION = "cancellation", _("Cancellation")
        REMINDER = "reminder", _("Reminder")

    class Status(models.TextChoices):
        """Derived (`with_status()`), never stored: skipped, else the outbox message's status."""

        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        SKIPPED = "skipped", _("Skipped")

    class SkipReason(models.TextChoices):
        """Why a delivery was skipped: a code (stable, a query key), shown as the label."""

        CANCELLED = "cancelled", _("The meeting was cancelled.")
        STARTED = "started", _("The meeting had already started when this e-mail came due.")
        DECLINED = "declined", _("The invitee declined.")
        SUPERSEDED = "superseded", _("Superseded by a later version of the invitation.")
        INVITED_LATE = "invited_late", _("The invitation was sent after this reminder's moment.")
        MOVED_PAST = "moved_past", _("The meeting was rescheduled and this reminder's moment had already passed.")
        REMOVED = "removed", _("This reminder was removed from the meeting.")
        UNINVITED = "uninvited", _("The invitee was removed from the meeting.")
        ANONYMISED = "anonymised", _("The invitee left and was anonymised.")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="deliveries")
    invitation = models.ForeignKey(
        Invitation, verbose_name=_("invitation"), on_delete=models.CASCADE, related_name="deliveries"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Reminders: minutes before the start (the stored offset); 0 for the other kinds.
    offset_minutes = models.PositiveIntegerField(_("offset (minutes)"), default=0)
    # Invitations, updates, cancellations: the meeting's SEQUENCE they carry.
    sequence = models.PositiveIntegerField(_("revision"), default=0)
    email = models.EmailField(_("e-mail"))
    due_at = models.DateTimeField(_("due at"))
    skip_reason = models.CharField(_("skipped because"), max_length=20, choices=SkipReason.choices, blank=True)
    variant = models.CharField(_("variant"), max_length=20, blank=True, help_text=_("Reminder or 'please reply'."))
    # Set in the transaction that enqueued it; PROTECT: a sent e-mail's record outlives nothing it proves.
    message = models.ForeignKey(
        "outbox.Message",
        verbose_name=_("outgoing e-mail"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        db_table = "das_delivery"  # born in das: the table keeps its name
        verbose_name = _("e-mail delivery")
        verbose_name_plural = _("e-mail deliveries")
        ordering = ["due_at", "pk"]
        constraints = [
            # Exactly once: one row per address, kind, offset and revision — a second scan,
            # a second invitation of the same person or a retried request cannot add another.
            models.UniqueConstraint(
                fields=["invitation", "kind", "offset_minutes", "sequence"], name="delivery_once_per_purpose"
            ),
        ]
        indexes = [
            # The meetings scan: due rows neither skipped nor enqueued.
            models.Index(fields=["due_at"], name="delivery_waiting", condition=Q(message__isnull=True, skip_reason="")),
            models.Index(fields=["meeting", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.email}"

    @property
    def reason_text(self) -> str:
        """Why it was skipped, or the outbox's last error, in the reader's language."""
        if self.skip_reason:
            return str(self.get_skip_reason_display())
        return self.message.last_error if self.message_id and self.message else ""


class CalendarFeed(models.Model):
    """A person's private calendar feed: whoever knows the token can read their meetings."""

    person = models.OneToOneField("members.Person", on_delete=models.CASCADE, related_name="meeting_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "das_calendarfeed"  # born in das: the table keeps its name
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.person}"
