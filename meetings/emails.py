"""The e-mails of the meetings: invitations, updates, cancellations, reminders — in the invitee's language."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

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


# Stand-ins for what differs from one invitee to the next, in a body rendered once and shared
# (control characters: a title, agenda or place cannot hold them).
_NAME = "\x00name\x00"
_ANSWER_URL = "\x00answer-url\x00"
_SIGNED_PART = "rsvp-token-stand-in"  # URL-safe, so reverse() leaves it as it is


def _subject_and_body(
    delivery: Delivery, *, person, answer_url: str, agenda_topics: list[str] | None
) -> tuple[str, str]:
    meeting = delivery.meeting
    local_start = meeting.starts_at.astimezone(PARIS)
    local_end = meeting.ends_at.astimezone(PARIS)
    when = formats.date_format(local_start, "DATETIME_FORMAT")
    context = {
        "delivery": delivery,
        "meeting": meeting,
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
    return _subject(delivery, meeting, when), render_to_string(f"meetings/email/{delivery.kind}.txt", context)


def render(
    delivery: Delivery,
    *,
    now: datetime.datetime,
    key: str,
    agenda_topics: list[str] | None = None,
    shared: dict | None = None,
) -> Mail:
    """Render one delivery's e-mail for the outbox (with its .ics for invitations, updates and cancellations).

    `agenda_topics`: the meeting's topic titles, when the caller read them once for a batch.
    `shared`: a dict the caller keeps for one batch: the body is then rendered once per meeting,
    kind, variant and language, with the invitee's name and answer link put in afterwards
    (rendering is most of an e-mail's cost; a test holds the two ways to the same text).
    """
    invitation = delivery.invitation
    person = invitation.person
    language = language_of(person)
    if shared is None:
        answer_url = rsvp_url(invitation)  # signed once; the three answers differ by their query only
    else:  # the URL reversed once for the batch (reverse() costs more than the signature)
        if "rsvp" not in shared:
            shared["rsvp"] = settings.SITE_URL + reverse("meetings:meeting_rsvp", args=[_SIGNED_PART])
        answer_url = shared["rsvp"].replace(_SIGNED_PART, rsvp_token(invitation))
    with translation.override(language):
        if shared is None:
            subject, body = _subject_and_body(
                delivery, person=person, answer_url=answer_url, agenda_topics=agenda_topics
            )
        else:
            meeting = delivery.meeting
            part = (meeting.pk, meeting.sequence, delivery.kind, delivery.variant, language)
            if part not in shared:
                stand_in = SimpleNamespace(full_name=_NAME)
                shared[part] = _subject_and_body(
                    delivery, person=stand_in, answer_url=_ANSWER_URL, agenda_topics=agenda_topics
                )
            subject, body = shared[part]
            body = body.replace(_NAME, person.full_name).replace(_ANSWER_URL, answer_url)
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
