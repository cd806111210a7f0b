"""Every write on proposals goes through these functions (keyword-only, atomic, validated)."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from das.models import StrategicArea
from members.models import Person, User
from outbox.models import Message
from outbox.services import Mail, message_enqueue, messages_enqueue
from projects import permissions
from projects.eligibility import submission_problems
from projects.models import (
    Attachment,
    DeadlineExtension,
    FundingDecision,
    Notification,
    Partner,
    Product,
    Project,
    ProjectEvent,
    Review,
)
from projects.selectors import counting_reviews, impact_changed, review_is_set_aside, reviewer_exclusion_reason
from projects.uploads import MAX_ATTACHMENTS, safe_display_name, validate_upload
from projects.workflow import ALLOWED, REVIEW_STATUSES, ConcurrentUpdate, InvalidTransition, TransitionRefused

logger = logging.getLogger(__name__)
S = Project.Status

PARTNER_FIELDS = ("organisation", "name", "category", "role", "budget_share", "contact_name", "contact_email")


# --- Proposals -------------------------------------------------------------------------


@transaction.atomic
def project_save_draft(
    *,
    project: Project | None,
    by: User,
    fields: dict[str, Any],
    other_areas: list[StrategicArea],
    partners: list[dict[str, Any]],
) -> Project:
    """Create or update a proposal and replace its consortium; drafts may leave fields empty.

    Invariant: the primary area is always among `areas`.
    """
    if project is None:
        organisation = permissions.organisation_of(by)
        if organisation is None:
            raise PermissionDenied(_("Only contacts of a member organisation can propose a project."))
        project = Project(lead_organisation=organisation, proposer=by)
    elif not permissions.can_edit_project(by, project):
        raise PermissionDenied(_("This proposal can no longer be edited."))
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save()
    areas = {area.pk for area in other_areas}
    if project.primary_area_id:
        areas.add(project.primary_area_id)
    project.areas.set(areas)

    project.partners.all().delete()
    rows = []
    for position, data in enumerate(partners):
        partner = Partner(project=project, position=position, **{k: data.get(k) for k in PARTNER_FIELDS})
        partner.name = partner.name or ""
        partner.category = "" if partner.organisation_id else (partner.category or "")
        partner.contact_name = partner.contact_name or ""
        partner.contact_email = partner.contact_email or ""
        partner.full_clean(exclude=["project"])
        rows.append(partner)
    Partner.objects.bulk_create(rows)
    return project


# --- Attachments --------------------------------------------------------------------------


@transaction.atomic
def attachment_add(*, project: Project, upload: UploadedFile, by: User) -> Attachment:
    """Store a checked upload under a generated name; the client's name is kept for display only."""
    if not permissions.can_edit_project(by, project):
        raise PermissionDenied(_("Attachments can be added only while the proposal can be edited."))
    if project.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError(_("A proposal has at most %(max)s attachments.") % {"max": MAX_ATTACHMENTS})
    kind = validate_upload(upload)
    attachment = Attachment(
        project=project,
        original_name=safe_display_name(upload.name),
        kind=kind,
        size=upload.size,
        uploaded_by=by,
    )
    attachment.file.save("upload", upload, save=False)  # upload_to generates the real name
    try:
        attachment.full_clean()
        attachment.save()
    except BaseException:
        # The row could not be saved: do not leave an orphan file behind.
        attachment.file.delete(save=False)
        raise
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: Attachment, by: User) -> None:
    """Remove an attachment and, once the deletion is committed, its file."""
    if not permissions.can_edit_project(by, attachment.project):
        raise PermissionDenied(_("Attachments can be removed only while the proposal can be edited."))
    storage, name = attachment.file.storage, attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))


# --- Workflow -------------------------------------------------------------------------------


def _transition_problems(project: Project, to: str, comment: str) -> list[str]:
    """Conditions beyond the table: what must be true before the move is made."""
    if to in (S.SUBMITTED, S.RESUBMITTED):
        return submission_problems(project)
    if to in (S.INFO_REQUESTED, S.NOT_LABELLED) and not comment.strip():
        return [_("Write a comment for the applicants: it tells them what is missing or why.")]
    if to == S.LABELLED and not counting_reviews(project):
        # A review set aside for a conflict of interest does not count.
        return [_("At least one reviewer must have submitted a review before the project is labelled.")]
    if to == S.FUNDED and not project.funding_decisions.filter(amount_granted__gt=0).exists():
        return [_("Record the funding decision (with the amount granted) before marking the project as funded.")]
    return []


@transaction.atomic
def deadline_extend(*, project: Project, until: datetime.datetime, reason: str, by: User) -> DeadlineExtension:
    """Reopen one proposal after its call's internal deadline until `until`; the reason is kept."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the proposal is reopened: the reason is kept on record.")})
    extension = DeadlineExtension(project=project, until=until, reason=reason.strip(), by=by)
    extension.full_clean()
    extension.save()
    return extension


def project_submit(*, project: Project, by: User) -> ProjectEvent:
    """The applicants send their proposal: a submission, or after "more information requested" a
    resubmission (the same checks; the staff see which it was)."""
    to = S.RESUBMITTED if project.status == S.INFO_REQUESTED else S.SUBMITTED
    return project_transition(project=project, to=to, by=by)


def project_transition(*, project: Project, to: str, by: User, comment: str = "") -> ProjectEvent:
    """Move a proposal to status `to`, record who/when/why, and e-mail proposer and staff after commit.

    Invariants: only moves listed in `workflow.TRANSITIONS`, by the role listed there; of two
    concurrent moves from the same status exactly one wins (the conditional UPDATE is the claim),
    the other raises ConcurrentUpdate; one event and one notification per audience per move.
    """
    from_status = project.status
    if to not in ALLOWED.get(from_status, set()):
        raise InvalidTransition(from_status, to)
    if not permissions.can_transition(by, project, to):
        raise PermissionDenied(_("You are not allowed to make this change."))
    problems = _transition_problems(project, to, comment)
    if problems:
        raise TransitionRefused(problems)
    now = timezone.now()
    with transaction.atomic():
        updates: dict[str, Any] = {"status": to, "updated_at": now}
        if to in (S.SUBMITTED, S.RESUBMITTED):
            updates["submitted_at"] = now
        # The claim: only one caller can move the row out of the status it read.
        if Project.objects.filter(pk=project.pk, status=from_status).update(**updates) != 1:
            raise ConcurrentUpdate(project.pk)
        event = ProjectEvent.objects.create(
            project=project, from_status=from_status, to_status=to, by=by, at=now, comment=comment.strip()
        )
        # The claim is a queryset update(), which the audit trail never sees: log the move ourselves.
        LogEntry.objects.log_create(
            project,
            action=LogEntry.Action.UPDATE,
            changes={
                name: [str(getattr(project, name)), str(value)]
                for name, value in updates.items()
                if name != "updated_at"
            },
            actor=by if by is not None and by.is_authenticated else None,
        )
        # In this transaction: the outbox hands them to a worker after commit (a broker outage
        # leaves them to its every-minute scan, never an error page).
        notifications_enqueue(event=event)
        impact_changed()
    project.status = to
    project.updated_at = now
    if "submitted_at" in updates:
        project.submitted_at = now
    return event


# --- Notifications -----------------------------------------------------------------------------


def _notification_recipients(event: ProjectEvent) -> list[tuple[str, User]]:
    """(audience, user) pairs told about a transition; nobody is told about what they did themselves."""
    # Read afresh: the caller's project may carry a proposer anonymised since it was loaded.
    proposer = User.objects.filter(pk=event.project.proposer_id).first()
    pairs: list[tuple[str, User]] = []
    # An anonymised (deactivated) proposer gets nothing.
    if proposer and proposer.is_active and proposer.email:
        pairs.append((Notification.Audience.APPLICANT, proposer))
    staff = User.objects.filter(is_staff=True, is_active=True).exclude(email="").order_by("email")
    pairs += [(Notification.Audience.STAFF, user) for user in staff if user.pk != getattr(proposer, "pk", None)]
    return [(audience, user) for audience, user in pairs if user.pk != event.by_id]


def _greeting(user: User) -> str:
    name = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return _("Hello %(name)s,") % {"name": name} if name else _("Hello,")


def _notification_mail(event: ProjectEvent, audience: str, user: User) -> Mail:
    """The e-mail of one transition to one person, in their language."""
    project = event.project
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        url = settings.SITE_URL + reverse("projects:detail", args=[project.pk])
        status = Project.Status(event.to_status).label
        name = project.acronym or project.title
        subject = _("[Medicen] %(project)s: %(status)s") % {"project": name, "status": status}
        lines = [
            _greeting(user),
            "",
            _("The proposal “%(title)s” is now: %(status)s.") % {"title": project.title, "status": status},
            "",
        ]
        if event.comment:
            lines += [_("Comment:"), event.comment, ""]
        if audience == Notification.Audience.STAFF:
            lines += [
                _("Proposing organisation: %(organisation)s") % {"organisation": project.lead_organisation.name},
                _("Changed by: %(user)s") % {"user": event.by.email if event.by else "—"},
                "",
            ]
        lines.append(url)
    return Mail(
        key=f"project-event:{event.pk}:{user.pk}",
        kind="projects.notification",
        to=[user.email],
        subject=subject,
        body="\n".join(str(line) for line in lines),
        language=language,
    )


def notifications_enqueue(*, event: ProjectEvent) -> list[Notification]:
    """E-mail the proposer and staff about a transition: one outbox message per person, in the caller's
    transaction (sent after commit, exactly once). A message that cannot be built (a CR/LF that slipped
    into an acronym) is failed by the outbox with its reason, for staff to see."""
    pairs = _notification_recipients(event)
    messages = messages_enqueue([_notification_mail(event, audience, user) for audience, user in pairs])
    notifications = [
        Notification(event=event, audience=audience, recipient=user, message=message)
        for (audience, user), message in zip(pairs, messages, strict=True)
    ]
    return Notification.objects.bulk_create(notifications, ignore_conflicts=True)


# --- Review ---------------------------------------------------------------------------------------


@transaction.atomic
def review_assign(*, project: Project, reviewer: Person, by: User) -> Review:
    """Assign a governance member of the proposal's DAS; conflicts of interest are refused."""
    if not permissions.can_manage_project(by):
        raise PermissionDenied(_("Only cluster staff assign reviewers."))
    if project.status not in REVIEW_STATUSES:
        raise ValidationError(_("Reviewers are assigned once the proposal is submitted and until it is decided."))
    reason = reviewer_exclusion_reason(project, reviewer)
    if reason:
        raise ValidationError(reason)
    review, created = Review.objects.get_or_create(project=project, reviewer=reviewer, defaults={"assigned_by": by})
    if not created:
        raise ValidationError(_("%(name)s is already a reviewer of this proposal.") % {"name": reviewer.full_name})
    _notify_reviewer(review, "assigned")
    return review


def _notify_reviewer(review: Review, kind: str) -> Message | None:
    """Queue one e-mail to the reviewer through the outbox: "assigned" or the one "reminder".

    Keyed `review-<kind>:<review>`, so it is sent once whatever runs twice; None when the
    reviewer has no active login to write to.
    """
    user = review.reviewer.user
    if user is None or not user.is_active or not user.email:
        return None
    project = review.project
    name = project.acronym or project.title
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        url = settings.SITE_URL + reverse("projects:review", args=[review.pk])
        lines = [_("Hello %(name)s,") % {"name": review.reviewer.full_name}, ""]
        if kind == "assigned":
            subject = _("[Medicen] Review requested: %(project)s") % {"project": name}
            asked = _("The cluster's staff ask you to review the proposal “%(title)s”.")
            lines.append(asked % {"title": project.title})
        else:
            subject = _("[Medicen] Reminder: your review of %(project)s") % {"project": name}
            lines.append(
                _("Your review of the proposal “%(title)s”, asked on %(date)s, has not been submitted yet.")
                % {"title": project.title, "date": formats.date_format(timezone.localdate(review.assigned_at))}
            )
        lines += [
            "",
            _("The proposal, its documents and the review form:"),
            url,
            "",
            _("If you have a conflict of interest with one of the partners, declare it on that page."),
        ]
    return message_enqueue(
        key=f"review-{kind}:{review.pk}",
        kind=f"review-{kind}",
        to=[user.email],
        subject=subject,
        body="\n".join(lines),
        language=language,
    )


def review_awaited(review: Review) -> bool:
    """Still assigned, not in conflict of interest, and the proposal is still with the cluster."""
    return (
        review.state == Review.State.ASSIGNED
        and review.project.status in REVIEW_STATUSES
        and not review_is_set_aside(review)
    )


def review_reminders_due(*, now: datetime.datetime, days: int) -> list[int]:
    """Reviews assigned more than `days` days ago, not submitted and never reminded."""
    return list(
        Review.objects.filter(
            state=Review.State.ASSIGNED,
            reminded_at__isnull=True,
            assigned_at__lt=now - datetime.timedelta(days=days),
            project__status__in=REVIEW_STATUSES,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


@transaction.atomic
def review_reminder_claim(*, review_id: int, now: datetime.datetime, days: int) -> Message | None:
    """Claim a due reminder (a conditional UPDATE of `reminded_at`) and queue its one e-mail.

    Of two scans that see the same review, exactly one claims it; the other gets None.
    """
    claimed = Review.objects.filter(
        pk=review_id,
        state=Review.State.ASSIGNED,
        reminded_at__isnull=True,
        assigned_at__lt=now - datetime.timedelta(days=days),
        project__status__in=REVIEW_STATUSES,
    ).update(reminded_at=now)
    if claimed != 1:
        return None
    review = Review.objects.select_related("project", "reviewer").get(pk=review_id)
    if review_is_set_aside(review):
        return None  # in conflict of interest: claimed (never reminded), but nothing to remind
    return _notify_reviewer(review, "reminder")


@transaction.atomic
def review_declare_conflict(*, review: Review, by: User, reason: str) -> Review:
    """The reviewer declares a conflict of interest: they no longer see the proposal or review it."""
    if permissions.person_of(by) != review.reviewer:
        raise PermissionDenied(_("Only the reviewer can declare their conflict of interest."))
    if review.state == Review.State.SUBMITTED:
        raise ValidationError(_("This review is already submitted."))
    if not reason.strip():
        raise ValidationError(_("Say briefly what the conflict of interest is."))
    review.state = Review.State.CONFLICT
    review.conflict_reason = reason.strip()
    review.full_clean()
    review.save()
    return review


@transaction.atomic
def review_submit(*, review: Review, by: User, scores: dict[str, int], recommendation: str, comments: str) -> Review:
    """Record the reviewer's scores (0-5 on each criterion), recommendation and comments."""
    if permissions.person_of(by) != review.reviewer:
        raise PermissionDenied(_("Only the assigned reviewer can submit this review."))
    if review.state != Review.State.ASSIGNED:
        raise ValidationError(_("This review can no longer be changed."))
    if review.project.status not in (S.SUBMITTED, S.UNDER_REVIEW, S.RESUBMITTED):
        raise ValidationError(_("The proposal is not under review any more."))
    if review_is_set_aside(review):
        raise ValidationError(
            _("Your organisation is now in the consortium: this is a conflict of interest and the review is set aside.")
        )
    for name in Review.CRITERIA:
        if scores.get(name) is None:
            raise ValidationError(_("Give a score for every criterion."))
        setattr(review, name, scores[name])
    if not recommendation:
        raise ValidationError(_("Choose a recommendation."))
    review.recommendation = recommendation
    review.comments = comments.strip()
    review.state = Review.State.SUBMITTED
    review.submitted_at = timezone.now()
    review.full_clean()
    review.save()
    return review


@transaction.atomic
def review_share_comments(*, review: Review, by: User, shared: bool) -> Review:
    """Staff decide whether applicants read a review's comments (never its author or scores)."""
    if not permissions.can_manage_project(by):
        raise PermissionDenied(_("Only cluster staff share review comments."))
    review.comments_shared = shared
    review.save(update_fields=["comments_shared"])
    return review


# --- Funding and outcomes ------------------------------------------------------------------------


@transaction.atomic
def funding_decision_record(
    *,
    project: Project,
    by: User,
    funder: str,
    programme: str,
    scope: str,
    amount_requested: Decimal,
    amount_granted: Decimal,
    public_aid: Decimal,
    decision_date: datetime.date,
    total_investment: Decimal | None = None,
) -> FundingDecision:
    """Record a funder's decision (and the project's total investment if given)."""
    if not permissions.can_manage_project(by):
        raise PermissionDenied(_("Only cluster staff record funding decisions."))
    if project.status not in (S.LABELLED, S.SUBMITTED_TO_FUNDER, S.FUNDED, S.NOT_FUNDED, S.COMPLETED):
        raise ValidationError(_("Funding decisions are recorded for labelled projects."))
    decision = FundingDecision(
        project=project,
        funder=funder,
        programme=programme,
        scope=scope,
        amount_requested=amount_requested,
        amount_granted=amount_granted,
        public_aid=public_aid,
        decision_date=decision_date,
    )
    decision.full_clean()
    decision.save()
    if total_investment is not None:
        Project.objects.filter(pk=project.pk).update(total_investment=total_investment)
        project.total_investment = total_investment
    impact_changed()
    return decision


@transaction.atomic
def product_add(*, project: Project, by: User, name: str, launched_on: datetime.date, description: str = "") -> Product:
    """Record a product launched from a funded project."""
    if not permissions.can_manage_project(by):
        raise PermissionDenied(_("Only cluster staff record products."))
    if project.status not in (S.FUNDED, S.COMPLETED):
        raise ValidationError(_("Products are recorded for funded projects."))
    product = Product(project=project, name=name, launched_on=launched_on, description=description)
    product.full_clean()
    product.save()
    impact_changed()
    return product


# --- Data protection ------------------------------------------------------------------------


def personal_data_erase(*, person: Person, now: datetime.datetime) -> None:
    """Anonymisation, projects side: the person's name and address leave the consortium contacts.

    Proposals, reviews (linked to the anonymised Person row) and figures stay.
    Runs inside person_anonymise()'s transaction, before the Person row is scrubbed.
    """
    if person.email:
        Partner.objects.filter(contact_email__iexact=person.email).update(contact_name="", contact_email="")


def drafts_purge(*, now: datetime.datetime, days: int) -> int:
    """Delete drafts never submitted and untouched for `days` days, with their files. Idempotent.

    Each draft goes in its own transaction, re-checked under lock, so a draft edited or
    submitted meanwhile is kept; files are removed once the deletion is committed.
    """
    from projects.selectors import stale_draft_ids

    deleted = 0
    for pk in stale_draft_ids(now=now, days=days):
        with transaction.atomic():
            project = (
                Project.objects.select_for_update()
                .filter(
                    pk=pk,
                    status=Project.Status.DRAFT,
                    submitted_at__isnull=True,
                    updated_at__lt=now - datetime.timedelta(days=days),
                )
                .first()
            )
            if project is None:
                continue
            files = [(a.file.storage, a.file.name) for a in project.attachments.all()]
            project.delete()
            for storage, name in files:
                transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))
            deleted += 1
    if deleted:
        logger.info("Deleted %d draft proposals never submitted within %d days", deleted, days)
    return deleted
