"""Pages of /meetings/: parse, authorise, call a service, respond."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from meetings import selectors, services
from meetings.calendar import feed_ics, meeting_ics
from meetings.emails import RSVP_SALT
from meetings.forms import AgendaForm, InviteForm, MeetingForm, OutcomeForm, RsvpForm, TopicForm
from meetings.models import AgendaItem, CalendarFeed, Delivery, Invitation, Meeting, Topic
from meetings.permissions import can_manage_meetings, can_propose_topics, can_use_meetings, person_of

INVITATIONS_PER_PAGE = 100


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    _require(can_use_meetings(request.user))
    now = timezone.now()
    meetings = selectors.meetings_for_user(request.user)
    person = person_of(request.user)
    feed = CalendarFeed.objects.filter(person=person).first() if person else None
    return render(
        request,
        "meetings/list.html",
        {
            "upcoming": meetings.upcoming(now)[:50],
            "past": Paginator(meetings.past(now), 20).get_page(request.GET.get("page")),
            "can_manage": can_manage_meetings(request.user),
            "person": person,
            "feed_url": request.build_absolute_uri(reverse("meetings:meeting_feed", args=[feed.token])) if feed else "",
        },
    )


@login_required
def meeting_create(request: HttpRequest) -> HttpResponse:
    _require(can_manage_meetings(request.user))
    form = MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_create(
                title=data["title"],
                committee=data["committee"],
                area=data["area"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                place=data["place"],
                video_url=data["video_url"],
                agenda=data["agenda"],
                reminder_offsets=data["reminders"],
                draft=True,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "Meeting prepared, nobody has been e-mailed yet. Add the topics and the people, "
                    "then send the invitations."
                ),
            )
            return redirect("meetings:meeting_detail", pk=meeting.pk)
    return render(request, "meetings/form.html", {"form": form, "title": _("Prepare a meeting")})


@login_required
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, pk)
    _require(can_manage_meetings(request.user))
    form = MeetingForm(request.POST or None, instance=Meeting.objects.get(pk=meeting.pk))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {f: data[f] for f in services.CALENDAR_FIELDS}
        try:
            services.meeting_update(meeting=meeting, reminder_offsets=data["reminders"], **changes)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if meeting.status == Meeting.Status.DRAFT:
                messages.success(request, _("Meeting updated."))
            else:
                messages.success(request, _("Meeting updated; invitees are told of any change."))
            return redirect("meetings:meeting_detail", pk=meeting.pk)
    return render(request, "meetings/form.html", {"form": form, "meeting": meeting, "title": _("Change the meeting")})


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, pk)
    now = timezone.now()
    manage = can_manage_meetings(request.user)
    person = person_of(request.user)
    my_invitation = meeting.invitations.active().filter(person=person).first() if person else None
    invitations = meeting.invitations.select_related("person", "person__organisation").order_by(
        "withdrawn_at", "person__last_name", "person__first_name"
    )
    if not manage:
        invitations = invitations.active()
    context = {
        "meeting": meeting,
        "now": now,
        "can_manage": manage,
        "agenda_items": meeting.agenda_items.select_related("topic").annotate(vote_count=Count("topic__votes")),
        "invitations": Paginator(invitations, INVITATIONS_PER_PAGE).get_page(request.GET.get("page")),
        "answers": dict(meeting.invitations.active().values_list("response").annotate(n=Count("pk")).order_by()),
        "withdrawn_count": meeting.invitations.filter(withdrawn_at__isnull=False).count() if manage else 0,
        "my_invitation": my_invitation,
        "rsvp_form": RsvpForm(initial={"answer": my_invitation.response}) if my_invitation else None,
        "rsvp_open": my_invitation is not None and services.rsvp_open(my_invitation, now=now),
    }
    if manage:
        context.update(
            {
                "delivery_counts": [
                    (Delivery.Kind(kind).label, counts) for kind, counts in selectors.delivery_counts(meeting).items()
                ],
                "attention": selectors.deliveries_needing_attention(meeting)[:50],
                "invite_form": InviteForm(),
                "agenda_form": AgendaForm(meeting=meeting),
            }
        )
    return render(request, "meetings/detail.html", context)


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, pk)
    _require(can_manage_meetings(request.user))
    try:
        services.meeting_cancel(meeting=meeting)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Meeting cancelled; invitees receive a cancellation and no more reminders."))
    return redirect("meetings:meeting_detail", pk=meeting.pk)


@login_required
@require_POST
def meeting_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff send a prepared meeting's invitations."""
    meeting = selectors.get_meeting_for_user(request.user, pk)
    _require(can_manage_meetings(request.user))
    try:
        sent = services.meeting_send_invitations(meeting=meeting)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        text = ngettext(
            "The invitation is on its way to %(n)s person.", "The invitations are on their way to %(n)s people.", sent
        )
        messages.success(request, text % {"n": sent})
    return redirect("meetings:meeting_detail", pk=meeting.pk)


def _ics_response(meeting: Meeting, invitation: Invitation | None) -> HttpResponse:
    body = meeting_ics(meeting, invitation=invitation, stamp=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="medicen-meeting-{meeting.pk}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def meeting_ics_download(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Add to my calendar": the meeting as an .ics file, for whoever may see the meeting."""
    meeting = selectors.get_meeting_for_user(request.user, pk)
    person = person_of(request.user)
    invitation = meeting.invitations.active().filter(person=person).first() if person else None
    return _ics_response(meeting, invitation)


def meeting_rsvp_ics(request: HttpRequest, token: str) -> HttpResponse:
    """ "Add to my calendar" from the e-mailed answer link (the signature is the authorisation)."""
    invitation = _invitation_from_token(token)
    if invitation is None:
        return render(request, "meetings/rsvp_refused.html", {"reason": "invalid"}, status=400)
    if invitation.withdrawn_at is not None or invitation.meeting.status == Meeting.Status.DRAFT:
        return render(request, "meetings/rsvp_refused.html", {"reason": "withdrawn"}, status=410)
    return _ics_response(invitation.meeting, invitation)


@login_required
@require_POST
def meeting_invite(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, pk)
    _require(can_manage_meetings(request.user))
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("email", [])))
        return redirect("meetings:meeting_detail", pk=meeting.pk)
    person = form.cleaned_data["email"]
    try:
        added = services.invitations_add(meeting=meeting, people=[person])
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        if added and meeting.status == Meeting.Status.DRAFT:
            messages.success(
                request,
                _("%(name)s is on the list; the invitation goes out when you send them.") % {"name": person.full_name},
            )
        elif added:
            messages.success(request, _("%(name)s is invited.") % {"name": person.full_name})
        elif meeting.invitations.filter(person=person, withdrawn_at__isnull=False).exists():
            messages.error(
                request,
                _("%(name)s's invitation to this meeting was withdrawn and cannot be renewed.")
                % {"name": person.full_name},
            )
        else:
            messages.info(request, _("This person or address is already invited."))
    return redirect("meetings:meeting_detail", pk=meeting.pk)


@login_required
@require_POST
def meeting_uninvite(request: HttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, pk)
    _require(can_manage_meetings(request.user))
    invitation = get_object_or_404(Invitation, pk=invitation_pk, meeting=meeting)
    try:
        services.invitation_remove(invitation=invitation)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Invitation withdrawn."))
    return redirect("meetings:meeting_detail", pk=meeting.pk)


@login_required
@require_POST
def meeting_respond(request: HttpRequest, pk: int) -> HttpResponse:
    """A logged-in invitee answers from the meeting page (same service as the e-mailed link)."""
    meeting = selectors.get_meeting_for_user(request.user, pk)
    person = person_of(request.user)
    invitation = get_object_or_404(Invitation.objects.active(), meeting=meeting, person=person) if person else None
    if invitation is None:
        raise Http404
    form = RsvpForm(request.POST)
    if form.is_valid():
        try:
            services.invitation_respond(invitation=invitation, response=form.cleaned_data["answer"])
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Thank you, your answer is recorded."))
    return redirect("meetings:meeting_detail", pk=meeting.pk)


@login_required
def meeting_agenda_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, pk)
    _require(can_manage_meetings(request.user))
    if request.method != "POST":
        return redirect("meetings:meeting_detail", pk=meeting.pk)
    form = AgendaForm(request.POST, meeting=meeting)
    if form.is_valid():
        try:
            services.agenda_add_topic(meeting=meeting, topic=form.cleaned_data["topic"])
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    else:
        messages.error(request, _("Choose a proposed topic."))
    return redirect("meetings:meeting_detail", pk=meeting.pk)


@login_required
@require_POST
def meeting_agenda_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, pk)
    _require(can_manage_meetings(request.user))
    item = get_object_or_404(AgendaItem.objects.select_related("meeting"), pk=item_pk, meeting=meeting)
    try:
        services.agenda_remove_topic(item=item)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("meetings:meeting_detail", pk=meeting.pk)


@login_required
def meeting_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, pk)
    _require(can_manage_meetings(request.user))
    initial = {
        "minutes": meeting.minutes,
        "attended": meeting.invitations.filter(attended=True),
        "selected": Topic.objects.filter(agenda_items__meeting=meeting, agenda_items__selected=True),
    }
    form = OutcomeForm(request.POST or None, meeting=meeting, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_record_outcome(
                meeting=meeting,
                minutes=form.cleaned_data["minutes"],
                attended_invitation_ids=[i.pk for i in form.cleaned_data["attended"]],
                selected_topic_ids=[t.pk for t in form.cleaned_data["selected"]],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Minutes, attendance and selected topics are recorded."))
            return redirect("meetings:meeting_detail", pk=meeting.pk)
    return render(request, "meetings/form.html", {"form": form, "meeting": meeting, "title": _("Record the outcome")})


def _invitation_from_token(token: str) -> Invitation | None:
    try:
        invitation_pk, uid_prefix = signing.loads(token, salt=RSVP_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(invitation_pk, int) or not isinstance(uid_prefix, str):
        return None  # well signed but not what rsvp_token() writes (e.g. another version's format)
    invitation = Invitation.objects.select_related("meeting", "person").filter(pk=invitation_pk).first()
    if invitation is None or invitation.meeting.uid.hex[:12] != uid_prefix:
        return None
    return invitation


def meeting_rsvp(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed answer link: no login; the signature is the authorisation.

    GET only shows the choice (mail scanners follow links); POST records it.
    """
    invitation = _invitation_from_token(token)
    if invitation is None:
        return render(request, "meetings/rsvp_refused.html", {"reason": "invalid"}, status=400)
    if invitation.withdrawn_at is not None:
        # Revoked: nothing about the meeting is shown and nothing is recorded.
        return render(request, "meetings/rsvp_refused.html", {"reason": "withdrawn"}, status=410)
    if not services.rsvp_open(invitation, now=timezone.now()):
        return render(request, "meetings/rsvp_refused.html", {"reason": "closed", "invitation": invitation}, status=410)
    answer = request.GET.get("answer", "") or invitation.response
    form = RsvpForm(request.POST or None, initial={"answer": answer})
    done = False
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_respond(invitation=invitation, response=form.cleaned_data["answer"])
        except ValidationError as exc:
            return render(
                request,
                "meetings/rsvp_refused.html",
                {"reason": "closed", "invitation": invitation, "message": _error_text(exc)},
                status=410,
            )
        done = True
    meeting = invitation.meeting
    context = {
        "invitation": invitation,
        "meeting": meeting,
        "agenda_items": meeting.agenda_items.select_related("topic"),
        "form": form,
        "done": done,
        "token": token,
    }
    return render(request, "meetings/rsvp.html", context)


def meeting_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's private calendar feed (the token is the authorisation; reset it to revoke)."""
    feed = CalendarFeed.objects.select_related("person").filter(token=token).first()
    if feed is None:
        raise Http404
    since = timezone.now() - datetime.timedelta(days=365)
    invitations = (
        Invitation.objects.active()
        .filter(person=feed.person, meeting__ends_at__gte=since)
        .exclude(meeting__status=Meeting.Status.DRAFT)
        .exclude(response=Invitation.Response.DECLINED, meeting__status=Meeting.Status.SCHEDULED)
        .select_related("meeting", "person")
        .prefetch_related("meeting__agenda_items__topic")
        .order_by("meeting__starts_at")
    )
    body = feed_ics(invitations, stamp=timezone.now(), name=_("Medicen meetings"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="medicen-meetings.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
def meeting_feed_reset(request: HttpRequest) -> HttpResponse:
    _require(can_use_meetings(request.user))
    person = person_of(request.user)
    if person is None:
        raise PermissionDenied
    existing = CalendarFeed.objects.filter(person=person).exists()
    services.calendar_feed_for(person=person, reset=existing)
    messages.success(request, _("Your calendar link is ready; any earlier link no longer works."))
    return redirect("meetings:meeting_list")


@login_required
def topic_list(request: HttpRequest) -> HttpResponse:
    _require(can_use_meetings(request.user))
    person = person_of(request.user)
    form = TopicForm(request.POST or None)
    if request.method == "POST":
        _require(can_propose_topics(request.user))
        if form.is_valid():
            try:
                services.topic_propose(
                    by_person=person,
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    areas=form.cleaned_data["areas"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Topic proposed."))
                return redirect("meetings:topic_list")
    topics = Paginator(selectors.topics_with_votes(person), 30).get_page(request.GET.get("page"))
    return render(request, "meetings/topics.html", {"topics": topics, "form": form, "person": person})


@login_required
@require_POST
def topic_vote(request: HttpRequest, pk: int) -> HttpResponse:
    _require(can_use_meetings(request.user))
    person = person_of(request.user)
    if person is None:
        messages.error(request, _("Only people in the directory can vote."))
        return redirect("meetings:topic_list")
    topic = get_object_or_404(Topic, pk=pk)
    try:
        services.topic_vote(topic=topic, person=person, vote=request.POST.get("vote") != "withdraw")
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("meetings:topic_list")


@login_required
def topic_selected(request: HttpRequest) -> HttpResponse:
    _require(can_use_meetings(request.user))
    topics = Paginator(selectors.selected_topics(), 50).get_page(request.GET.get("page"))
    return render(request, "meetings/selected_topics.html", {"topics": topics})
