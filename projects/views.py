"""Proposal pages: parse, authorise (permissions.py), call a service, respond."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls.models import Call
from members.models import Person
from members.permissions import organisation_of, person_of
from projects import permissions, services
from projects.charts import bar_chart
from projects.eligibility import submission_problems
from projects.forms import (
    AttachmentForm,
    ConflictForm,
    FundingDecisionForm,
    PartnerFormSet,
    ProductForm,
    ProjectForm,
    ReviewForm,
    TransitionForm,
    partner_initial,
)
from projects.impact_export import impact_detail_csv, impact_summary_csv
from projects.models import Project, Review
from projects.selectors import funded_projects_detail, impact_figures, partner_suggestions, reviewer_candidates
from projects.workflow import ACTION_LABELS, REVIEW_STATUSES, TransitionError, TransitionRefused

S = Project.Status
PAGE_SIZE = 25
# Where staff still need to see whether the proposal meets the submission rules.
ELIGIBILITY_STATUSES = {*REVIEW_STATUSES, Project.Status.DRAFT, Project.Status.INFO_REQUESTED}


def _errors(exc: ValidationError) -> list[str]:
    return [str(message) for message in exc.messages]


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    """Staff: every proposal. Member contacts: their organisation's proposals and consortia."""
    projects = Project.objects.select_related("lead_organisation", "primary_area").order_by("-updated_at", "-pk")
    if not permissions.is_staff(request.user):
        organisation = organisation_of(request.user)
        projects = projects.visible_to_organisation(organisation.pk) if organisation else projects.none()
    status = request.GET.get("status", "")
    if status in Project.Status.values:
        projects = projects.filter(status=status)
    query = request.GET.get("q", "").strip()
    if query:
        projects = projects.filter(Q(title__icontains=query) | Q(acronym__icontains=query))
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/list.html",
        {
            "page": page,
            "statuses": Project.Status.choices,
            "status": status,
            "query": query,
            "can_create": permissions.can_create_project(request.user),
        },
    )


def _call_initial(request: HttpRequest) -> dict:
    """A new proposal opened from a call's page ("?call=<id>") answers that call."""
    call = (
        Call.objects.accepting().filter(pk=request.GET.get("call", "")).first()
        if request.GET.get("call", "").isdigit()
        else None
    )
    if call is None:
        return {}
    return {"call": call.pk, "target_funder": call.funder, "target_programme": call.programme}


def _save_form(request: HttpRequest, project: Project | None) -> HttpResponse:
    """Create/edit: "Save draft" keeps everything; "Submit" saves, then submits if eligible."""
    if request.method == "POST":
        form = ProjectForm(request.POST, instance=project or Project())
        formset = PartnerFormSet(request.POST, prefix="partners")
        if form.is_valid() and formset.is_valid():
            try:
                saved = services.project_save_draft(
                    project=project,
                    by=request.user,
                    fields=form.draft_fields(),
                    other_areas=list(form.cleaned_data["other_areas"]),
                    partners=formset.partner_rows(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if request.POST.get("action") == "submit":
                    # After "more information requested", submitting again is a resubmission.
                    to = S.RESUBMITTED if saved.status == S.INFO_REQUESTED else S.SUBMITTED
                    try:
                        services.project_transition(project=saved, to=to, by=request.user)
                    except TransitionRefused as exc:
                        messages.warning(request, _("Draft saved, but it cannot be submitted yet."))
                        for problem in exc.messages:
                            messages.error(request, problem)
                        return redirect("projects:edit", pk=saved.pk)
                    except TransitionError as exc:
                        messages.error(request, str(exc))
                        return redirect("projects:detail", pk=saved.pk)
                    messages.success(request, _("Your proposal is submitted. The cluster's staff will review it."))
                    return redirect("projects:detail", pk=saved.pk)
                messages.success(request, _("Draft saved."))
                return redirect("projects:edit", pk=saved.pk)
        messages.error(request, _("Nothing was saved: please correct the fields marked below."))
    else:
        form = ProjectForm(instance=project or Project(), initial=_call_initial(request) if project is None else None)
        if project is None:
            organisation = organisation_of(request.user)
            person = person_of(request.user)
            initial = [
                {
                    "organisation": organisation.pk,
                    "role": "lead",
                    "budget_share": 100,
                    "contact_name": person.full_name if person else "",
                    "contact_email": request.user.email,
                }
            ]
        else:
            initial = partner_initial(project)
        formset = PartnerFormSet(initial=initial, prefix="partners")
    context = {"form": form, "formset": formset, "project": project}
    if project is not None:
        context.update(
            attachment_form=AttachmentForm(),
            attachments=project.attachments.all(),
            problems=submission_problems(project),
            show_eligibility=True,
            suggestions=partner_suggestions(project),
        )
    return render(request, "projects/form.html", context)


@login_required
def project_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_project(request.user):
        raise PermissionDenied(_("Only contacts of a member organisation can propose a project."))
    return _save_form(request, None)


@login_required
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = permissions.get_project_for_user(request.user, pk)
    if not permissions.can_edit_project(request.user, project):
        raise PermissionDenied(_("This proposal cannot be edited now."))
    return _save_form(request, project)


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = permissions.get_project_for_user(request.user, pk)
    partners = list(project.partners.select_related("organisation"))
    moves = [(to, ACTION_LABELS[to]) for to in permissions.allowed_moves(request.user, project) if to in ACTION_LABELS]
    context = {
        "project": project,
        "partners": partners,
        "areas": list(project.areas.all()),
        "events": project.events.select_related("by").all(),
        "attachments": project.attachments.all(),
        "problems": submission_problems(project) if project.is_editable else [],
        "show_eligibility": project.is_editable,
        "suggestions": partner_suggestions(project) if permissions.is_consortium_contact(request.user, project) else [],
        "moves": moves,
        "can_edit": permissions.can_edit_project(request.user, project),
        "can_manage": permissions.can_manage_project(request.user),
        # Contacts' e-mails are for the consortium and staff, not for reviewers.
        "show_contacts": permissions.is_staff(request.user) or permissions.is_consortium_contact(request.user, project),
        "shared_comments": [
            review.comments
            for review in project.reviews.filter(comments_shared=True, state=Review.State.SUBMITTED).exclude(
                comments=""
            )
        ],
        "my_review": permissions.active_review_of(request.user, project),
        "decisions": project.funding_decisions.all(),
        "products": project.products.all(),
    }
    return render(request, "projects/detail.html", context)


@login_required
@require_POST
def project_transition(request: HttpRequest, pk: int) -> HttpResponse:
    project = permissions.get_project_for_user(request.user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Unknown status."))
        return redirect("projects:detail", pk=pk)
    try:
        services.project_transition(
            project=project, to=form.cleaned_data["to"], by=request.user, comment=form.cleaned_data["comment"]
        )
    except TransitionRefused as exc:
        for problem in exc.messages:
            messages.error(request, problem)
    except TransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Status changed to “%(status)s”.") % {"status": project.get_status_display()})
    target = "projects:manage" if request.POST.get("next") == "manage" else "projects:detail"
    return redirect(target, pk=pk)


# --- Attachments ------------------------------------------------------------------------------------


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    project = permissions.get_project_for_user(request.user, pk)
    if not permissions.can_edit_project(request.user, project):
        raise PermissionDenied(_("Attachments can be added only while the proposal can be edited."))
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("projects:edit", pk=pk)
    try:
        attachment = services.attachment_add(project=project, upload=form.cleaned_data["file"], by=request.user)
    except ValidationError as exc:
        for error in _errors(exc):
            messages.error(request, _("The document was refused: %(reason)s") % {"reason": error})
    else:
        messages.success(request, _("“%(name)s” is attached.") % {"name": attachment.original_name})
    return redirect("projects:edit", pk=pk)


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    attachment = permissions.get_attachment_for_user(request.user, pk, attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    attachment = permissions.get_attachment_for_user(request.user, pk, attachment_pk)
    services.attachment_delete(attachment=attachment, by=request.user)
    messages.success(request, _("“%(name)s” is removed.") % {"name": attachment.original_name})
    return redirect("projects:edit", pk=pk)


# --- Staff: review, funding, products -------------------------------------------------------------


@login_required
def project_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """The staff page of one proposal: reviewers, reviews, status, funding decisions, products."""
    if not permissions.can_manage_project(request.user):
        raise Http404("No such page.")
    project = permissions.get_project_for_user(request.user, pk)
    funding_form = FundingDecisionForm(prefix="funding")
    product_form = ProductForm(prefix="product")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "assign":
                reviewer = get_object_or_404(Person, pk=request.POST.get("reviewer"))
                services.review_assign(project=project, reviewer=reviewer, by=request.user)
                messages.success(request, _("%(name)s is assigned.") % {"name": reviewer.full_name})
                return redirect("projects:manage", pk=pk)
            if action in ("share", "unshare"):
                review = get_object_or_404(Review, pk=request.POST.get("review"), project=project)
                services.review_share_comments(review=review, by=request.user, shared=action == "share")
                return redirect("projects:manage", pk=pk)
            if action == "funding":
                funding_form = FundingDecisionForm(request.POST, prefix="funding")
                if funding_form.is_valid():
                    data = funding_form.cleaned_data
                    services.funding_decision_record(
                        project=project,
                        by=request.user,
                        total_investment=data.pop("total_investment"),
                        **data,
                    )
                    messages.success(request, _("Funding decision recorded."))
                    return redirect("projects:manage", pk=pk)
            if action == "product":
                product_form = ProductForm(request.POST, prefix="product")
                if product_form.is_valid():
                    services.product_add(project=project, by=request.user, **product_form.cleaned_data)
                    messages.success(request, _("Product recorded."))
                    return redirect("projects:manage", pk=pk)
        except ValidationError as exc:
            for error in _errors(exc):
                messages.error(request, error)
    moves = [(to, ACTION_LABELS[to]) for to in permissions.allowed_moves(request.user, project)]
    context = {
        "project": project,
        "partners": project.partners.select_related("organisation"),
        "candidates": reviewer_candidates(project),
        "reviews": project.reviews.select_related("reviewer__organisation"),
        "moves": moves,
        "events": project.events.select_related("by").all(),
        "decisions": project.funding_decisions.all(),
        "products": project.products.all(),
        "funding_form": funding_form,
        "product_form": product_form,
        "problems": submission_problems(project),
        "show_eligibility": project.status in ELIGIBILITY_STATUSES,
    }
    return render(request, "projects/manage.html", context)


# --- Reviewers -----------------------------------------------------------------------------------------


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    person = person_of(request.user)
    reviews = (
        Review.objects.filter(reviewer=person).select_related("project", "project__primary_area")
        if person
        else Review.objects.none()
    )
    return render(request, "projects/review_list.html", {"reviews": reviews.order_by("-assigned_at")})


@login_required
def review_detail(request: HttpRequest, review_pk: int) -> HttpResponse:
    review = permissions.get_review_for_reviewer(request.user, review_pk)
    form = ReviewForm(instance=review)
    conflict_form = ConflictForm()
    if request.method == "POST":
        try:
            if request.POST.get("action") == "conflict":
                conflict_form = ConflictForm(request.POST)
                if conflict_form.is_valid():
                    services.review_declare_conflict(
                        review=review, by=request.user, reason=conflict_form.cleaned_data["reason"]
                    )
                    messages.success(request, _("Your conflict of interest is recorded; staff will reassign."))
                    return redirect("projects:reviews")
            else:
                form = ReviewForm(request.POST, instance=Review.objects.get(pk=review.pk))
                if form.is_valid():
                    data = form.cleaned_data
                    services.review_submit(
                        review=review,
                        by=request.user,
                        scores={name: data[name] for name in Review.CRITERIA},
                        recommendation=data["recommendation"],
                        comments=data["comments"],
                    )
                    messages.success(request, _("Your review is submitted. Thank you."))
                    return redirect("projects:reviews")
        except ValidationError as exc:
            for error in _errors(exc):
                messages.error(request, error)
    project = review.project
    context = {
        "review": review,
        "project": project,
        "partners": project.partners.select_related("organisation"),
        "attachments": project.attachments.all(),
        "form": form,
        "conflict_form": conflict_form,
    }
    return render(request, "projects/review_form.html", context)


# --- Impact dashboard ------------------------------------------------------------------------------------


def _charts(rows: list, metric: int, money: bool = False) -> dict:
    return bar_chart([(label, figures.as_row()[metric]) for label, figures in rows], money=money)


def impact(request: HttpRequest) -> HttpResponse:
    """Public summary of the cluster's impact; staff also see every funded project."""
    figures = impact_figures()
    context = {
        "impact": figures,
        "charts": [
            (_("Projects funded by strategic area"), _charts(figures.by_area, 0)),
            (_("Public aid by year (€)"), _charts(figures.by_year, 3, money=True)),
            (_("Projects funded by year"), _charts(figures.by_year, 0)),
            (_("Public aid by funding scope (€)"), _charts(figures.by_scope, 3, money=True)),
        ],
        "tables": [
            (_("By strategic area (primary)"), figures.by_area),
            (_("By year of the first funding decision"), figures.by_year),
            (_("By funding scope"), figures.by_scope),
        ],
        "is_staff": permissions.is_staff(request.user),
    }
    if context["is_staff"]:
        # Paginated: the CSV export (?detail=1) has every row.
        context["detail"] = Paginator(funded_projects_detail(), 50).get_page(request.GET.get("page"))
    return render(request, "projects/impact.html", context)


def impact_csv(request: HttpRequest) -> HttpResponse:
    """The dashboard as CSV (projects/impact_export.py); with ?detail=1, staff get one row per funded project."""
    detail = request.GET.get("detail") == "1"
    if detail and not permissions.is_staff(request.user):
        raise Http404("No such export.")
    body = impact_detail_csv() if detail else impact_summary_csv()
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="medicen-impact{"-detail" if detail else ""}.csv"'
    return response
