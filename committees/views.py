"""Labelling committee pages: parse, authorise (permissions.py), call a service, respond."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from committees import documents, permissions, services
from committees.models import Item, Letter
from projects.permissions import get_project_for_user


def _pdf_response(content: bytes, filename: str, *, kind: str = "application/pdf") -> HttpResponse:
    response = HttpResponse(content, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def session_list(request: HttpRequest) -> HttpResponse:
    sessions = permissions.visible_sessions(request.user).select_related("area").prefetch_related("items")
    return render(request, "committees/list.html", {"sessions": sessions})


@login_required
@require_GET
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = permissions.get_session_for_user(request.user, pk)
    items = list(session.items.select_related("project__lead_organisation", "decided_by"))
    return render(
        request,
        "committees/detail.html",
        {
            "session": session,
            "items": items,
            "members": list(session.members.all()),
            "can_decide": permissions.can_record_decisions(request.user),
            "decisions": Item.Decision.choices,
            "pending": [item for item in items if not item.decision],
        },
    )


@login_required
@require_POST
def session_decide(request: HttpRequest, pk: int) -> HttpResponse:
    session = permissions.get_session_for_user(request.user, pk)
    if not permissions.can_record_decisions(request.user):
        raise PermissionDenied(_("Only the cluster's staff record the committee's decisions."))
    decisions = {
        item.pk: (request.POST.get(f"decision-{item.pk}", ""), request.POST.get(f"comment-{item.pk}", ""))
        for item in session.items.filter(decision="")
    }
    report = services.session_decide(session=session, decisions=decisions, by=request.user)
    if report.decided:
        messages.success(request, _("%(count)s decision(s) recorded.") % {"count": len(report.decided)})
    for item_pk, problems in report.refused.items():
        item = session.items.get(pk=item_pk)
        messages.error(request, f"{item.project} — {' '.join(problems)}")
    if not report.decided and not report.refused:
        messages.info(request, _("No decision was chosen: nothing changed."))
    return redirect("committees:detail", pk=session.pk)


@login_required
@require_GET
def dossier(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    session = permissions.get_session_for_user(request.user, pk)
    item = get_object_or_404(session.items.select_related("project"), pk=item_pk)
    return _pdf_response(documents.dossier_pdf(item), f"dossier-{item.project.acronym or item.project.pk}.pdf")


@login_required
@require_GET
def dossiers_zip(request: HttpRequest, pk: int) -> HttpResponse:
    session = permissions.get_session_for_user(request.user, pk)
    return _pdf_response(
        documents.dossiers_zip(session), f"committee-{session.pk}-dossiers.zip", kind="application/zip"
    )


@login_required
@require_GET
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    session = permissions.get_session_for_user(request.user, pk)
    return _pdf_response(documents.minutes_pdf(session), f"committee-{session.pk}-minutes.pdf")


@login_required
@require_GET
def letter_download(request: HttpRequest, project_pk: int) -> HttpResponse:
    """The project's labelling letter, for those who may see the project."""
    project = get_project_for_user(request.user, project_pk)
    letter = Letter.objects.filter(project=project).select_related("item__session").first()
    if letter is None:
        raise Http404(_("This project has no labelling letter."))
    return _pdf_response(documents.letter_pdf(letter), f"labelling-letter-{letter.reference}.pdf")


@require_GET
def letter_verify(request: HttpRequest, reference: str) -> HttpResponse:
    """Public: anyone holding a letter's reference checks it is genuine (a funder, for example)."""
    letter = (
        Letter.objects.filter(reference=reference.strip().upper())
        .select_related("project__lead_organisation", "project__primary_area", "item__session")
        .first()
    )
    status = 200 if letter else 404
    return render(request, "committees/verify.html", {"letter": letter, "reference": reference}, status=status)
