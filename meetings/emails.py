"""The e-mails of the meetings: invitations, updates, cancellations, reminders — in the invitee's language."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from meetings.calendar import invitation_ics, organizer_address
from meetings.models import Delivery, Invitation
from meetings.schedule import PARIS
from outbox.services import Attach, Mail

# Kept from when meetings lived in das: answer links already e-mailed must keep verifying.
RSVP_SALT = "das.meetings.rsvp"
FALLBACK_LANGUAGE = "fr"


def language_of(person) -> str:
    """The person's language if the members app records one we speak, else French."""
    code = getattr(person, "language", "") or getattr(person, "preferred_language", "") or ""
    available = {code for code, _name in settings.LANGUAGES}
    code = str(code).lower()[:2]
    return code if code in available else FALLBACK_LANGUAGE


def rsvp_token(invitation: Invitation) -> str:
    """A signed, URL-safe token naming the invitation; any change to it breaks the signature."""
    return signing.dumps([invitation.pk, invitation.meeting.uid.hex[:12]], salt=RSVP_SALT, compress=False)


def rsvp_url(invitation: Invitation, response: str = "") -> str:
    url = settings.SITE_URL + reverse("meetings:meeting_rsvp", args=[rsvp_token(invitation)])
    return f"{url}?answer={response}" if response else url


def message_id(delivery: Delivery) -> str:
    # Deterministic: a duplicate, if one ever slipped through, would be recognisable downstream.
    domain = organizer_address().partition("@")[2] or "medicen.example"
    return f"<das-delivery-{delivery.pk}.{delivery.meeting.uid.hex[:12]}@{domain}>"


def _subject(delivery: Delivery, meeting, when: str) -> str:
    if delivery.kind == Delivery.Kind.INVITATION:
        return _("Invitation: %(title)s, %(when)s") % {"title": meeting.title, "when": when}
    if delivery.kind == Delivery.Kind.UPDATE:
        return _("Updated: %(title)s, %(when)s") % {"title": meeting.title, "when": when}
    if delivery.kind == Delivery.Kind.CANCELLATION:
        return _("Cancelled: %(title)s, %(when)s") % {"title": meeting.title, "when": when}
    if delivery.variant == "reply_request":
        return _("Please reply: %(title)s, %(when)s") % {"title": meeting.title, "when": when}
    return _("Reminder: %(title)s, %(when)s") % {"title": meeting.title, "when": when}


def render(delivery: Delivery, *, now: datetime.datetime, key: str, agenda_topics: list[str] | None = None) -> Mail:
    """Render one delivery's e-mail for the outbox (with its .ics for invitations, updates and cancellations).

    `agenda_topics`: the meeting's topic titles, when the caller read them once for a batch.
    """
    invitation = delivery.invitation
    meeting = delivery.meeting
    person = invitation.person
    language = language_of(person)
    answer_url = rsvp_url(invitation)  # signed once; the three answers differ by their query only
    with translation.override(language):
        local_start = meeting.starts_at.astimezone(PARIS)
        local_end = meeting.ends_at.astimezone(PARIS)
        when = formats.date_format(local_start, "DATETIME_FORMAT")
        context = {
            "delivery": delivery,
            "meeting": meeting,
            "invitation": invitation,
            "person": person,
            "starts": local_start,
            "ends": local_end,
            "when": when,
            "committee": meeting.committee_label,
            "rsvp_accept": f"{answer_url}?answer={Invitation.Response.ACCEPTED}",
            "rsvp_tentative": f"{answer_url}?answer={Invitation.Response.TENTATIVE}",
            "rsvp_decline": f"{answer_url}?answer={Invitation.Response.DECLINED}",
            "meeting_url": settings.SITE_URL + reverse("meetings:meeting_detail", args=[meeting.pk]),
            "agenda_topics": agenda_topics
            if agenda_topics is not None
            else [item.topic.title for item in meeting.agenda_items.select_related("topic")],
        }
        subject = _subject(delivery, meeting, when)
        body = render_to_string(f"meetings/email/{delivery.kind}.txt", context)
    attachments = []
    if delivery.kind in (Delivery.Kind.INVITATION, Delivery.Kind.UPDATE, Delivery.Kind.CANCELLATION):
        cancel = delivery.kind == Delivery.Kind.CANCELLATION
        attachments.append(
            Attach(
                filename="cancel.ics" if cancel else "invite.ics",
                content=invitation_ics(invitation, stamp=now, cancel=cancel),
                # The method parameter tells calendar clients to offer "accept" (or to remove the event).
                mimetype=f"text/calendar; method={'CANCEL' if cancel else 'REQUEST'}",
            )
        )
    return Mail(
        key=key,
        kind=f"meeting.{delivery.kind}",
        to=[delivery.email],
        subject=subject,
        body=body,
        language=language,
        headers={"Message-ID": message_id(delivery)},
        attachments=attachments,
        not_before=now,
    )
