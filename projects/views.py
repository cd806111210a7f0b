"""Proposal pages: parse, authorise (permissions.py), call a service, respond."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from calls.models import Call
from members.models import Organisation, Person, search_term_key
from members.permissions import organisation_of, person_of
from members.services import person_invite
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
    ProposalAttachmentsForm,
    ReviewForm,
    TransitionForm,
    partner_initial,
)
from projects.impact_export import impact_detail_csv, impact_summary_csv
from projects.models import Project, Review
from projects.selectors import (
    funded_projects_detail,
    impact_figures,
    partner_suggestions,
    proposal_list,
    reviewer_candidates,
    reviews_for_staff,
)
from projects.workflow import ACTION_LABELS, REVIEW_STATUSES, TransitionError, TransitionRefused

S = Project.Status
PAGE_SIZE = 25
# Where staff still need to see whether the proposal meets the submission rules.
ELIGIBILITY_STATUSES = {*REVIEW_STATUSES, Project.Status.DRAFT, Project.Status.INFO_REQUESTED}


# The moves that refuse or end a proposal: styled as such, and confirmed before they go.
REFUSALS = {
    S.WITHDRAWN: gettext_lazy("Withdraw this proposal? This cannot be undone."),
    S.NOT_LABELLED: gettext_lazy("Refuse the label? The applicants are told, with your comment."),
    S.NOT_FUNDED: gettext_lazy("Record that the project was not funded?"),
}


def _moves(user, project: Project) -> list[dict]:
    """The status moves `user` may make now, each a button of the status panel's one form."""
    return [
        {"to": to, "label": ACTION_LABELS[to], "refusal": to in REFUSALS, "confirm": REFUSALS.get(to, "")}
        for to in permissions.allowed_moves(user, project)
        if to in ACTION_LABELS
    ]


def _errors(exc: ValidationError) -> list[str]:
    return [str(message) for message in exc.messages]


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    """The proposals `user` may see (permissions.visible_proposals), filtered by status and text."""
    status = request.GET.get("status", "")
    query = request.GET.get("q", "").strip()
    projects = proposal_list(permissions.visible_proposals(request.user), status=status, query=query)
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
    organisations = {"organisations": permissions.partner_organisations(request.user, project)}
    attachments_form = ProposalAttachmentsForm()
    if request.method == "POST":
        form = ProjectForm(request.POST, instance=project or Project())
        formset = PartnerFormSet(request.POST, prefix="partners", form_kwargs=organisations)
        attachments_form = ProposalAttachmentsForm(request.POST, request.FILES)
        if form.is_valid() and formset.is_valid() and attachments_form.is_valid():
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
                # The documents go once the proposal is saved; a refused one is named, the rest stays.
                for upload in attachments_form.cleaned_data["files"]:
                    try:
                        attachment = services.attachment_add(project=saved, upload=upload, by=request.user)
                    except ValidationError as exc:
                        for error in _errors(exc):
                            messages.error(
                                request,
                                _("“%(name)s” was refused: %(reason)s") % {"name": upload.name, "reason": error},
                            )
                    else:
                        messages.success(request, _("“%(name)s” is attached.") % {"name": attachment.original_name})
                if request.POST.get("action") == "submit":
                    try:
                        services.project_submit(project=saved, by=request.user)
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
        if request.FILES:
            # A browser cannot refill a file input: say so, rather than drop the documents silently.
            messages.warning(request, _("The documents you chose were not attached: choose them again."))
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
        formset = PartnerFormSet(initial=initial, prefix="partners", form_kwargs=organisations)
    context = {"form": form, "formset": formset, "project": project, "attachments_form": attachments_form}
    if project is not None:
        context.update(
            attachments=project.attachments.all(),
            problems=submission_problems(project),
            show_eligibility=True,
            suggestions=partner_suggestions(project),
        )
    return render(request, "projects/form.html", context)


ORGANISATIONS_PER_PAGE = 20


@login_required
def organisation_search(request: HttpRequest) -> JsonResponse:
    """The partner picker's search: organisations `user` may pick, by name, city or SIREN, 20 a page.

    One query whatever the number of organisations (the trigram index on the search key; a
    SIREN is matched exactly); one row more than the page tells whether there is a next page.
    """
    if not permissions.can_pick_partners(request.user):
        raise PermissionDenied(_("Only contacts of a member organisation can build a consortium."))
    query = request.GET.get("q", "").strip()[:100]
    try:
        page = max(1, min(int(request.GET.get("page", "1")), 500))
    except ValueError:
        page = 1
    organisations = permissions.partner_organisations(request.user)
    digits = query.replace(" ", "")
    if len(digits) == 9 and digits.isdigit():
        organisations = organisations.filter(siren=digits)
    elif query:
        key = search_term_key(query)
        organisations = organisations.filter(search_key__contains=key) if key else organisations.none()
    start = (page - 1) * ORGANISATIONS_PER_PAGE
    rows = list(
        organisations.order_by("name", "pk").values("pk", "name", "city", "siren", "status")[
            start : start + ORGANISATIONS_PER_PAGE + 1
        ]
    )
    statuses = dict(Organisation.Status.choices)
    results = [
        {
            "id": row["pk"],
            "name": row["name"],
            "city": row["city"],
            "siren": row["siren"],
            "active": row["status"] == Organisation.Status.ACTIVE,
            "status": str(statuses.get(row["status"], row["status"])),
        }
        for row in rows[:ORGANISATIONS_PER_PAGE]
    ]
    return JsonResponse({"results": results, "page": page, "has_more": len(rows) > ORGANISATIONS_PER_PAGE})


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
    context = {
        "project": project,
        "partners": partners,
        "areas": list(project.areas.all()),
        "events": project.events.select_related("by").all(),
        "attachments": project.attachments.all(),
        "problems": submission_problems(project) if project.is_editable else [],
        "show_eligibility": project.is_editable,
        "suggestions": partner_suggestions(project) if permissions.is_consortium_contact(request.user, project) else [],
        "moves": _moves(request.user, project),
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


def _staff_project(request: HttpRequest, pk: int) -> Project:
    """The proposal, for staff only: the management pages do not exist for anyone else."""
    if not permissions.can_manage_project(request.user):
        raise Http404("No such page.")
    return permissions.get_project_for_user(request.user, pk)


def _manage_page(request: HttpRequest, project: Project, **forms) -> HttpResponse:
    context = {
        "project": project,
        "partners": project.partners.select_related("organisation"),
        "candidates": reviewer_candidates(project),
        "reviews": reviews_for_staff(project),
        "moves": _moves(request.user, project),
        "events": project.events.select_related("by").all(),
        "decisions": project.funding_decisions.all(),
        "products": project.products.all(),
        "funding_form": forms.get("funding_form") or FundingDecisionForm(prefix="funding"),
        "product_form": forms.get("product_form") or ProductForm(prefix="product"),
        "problems": submission_problems(project),
        "show_eligibility": project.status in ELIGIBILITY_STATUSES,
    }
    return render(request, "projects/manage.html", context, status=400 if forms else 200)


@login_required
def project_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """The staff page of one proposal: reviewers, reviews, status, funding decisions, products.

    Each action posts to its own URL (below) and comes back here.
    """
    return _manage_page(request, _staff_project(request, pk))


def _candidate(project: Project, person_pk: str | None) -> Person:
    """A person of the proposal's DAS governance (the only people these actions concern)."""
    for candidate in reviewer_candidates(project):
        if str(candidate.person.pk) == str(person_pk):
            return candidate.person
    raise Http404("Not a reviewer candidate of this proposal.")


@login_required
@require_POST
def reviewer_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff invite a governance member without a login: the portal's signed invitation e-mail."""
    project = _staff_project(request, pk)
    person = _candidate(project, request.POST.get("person"))
    try:
        person_invite(person=person, by=request.user)
    except ValidationError as exc:
        for error in _errors(exc):
            messages.error(request, error)
    else:
        messages.success(
            request,
            _("%(name)s is invited to the portal (%(email)s); you can assign them now.")
            % {"name": person.full_name, "email": person.email},
        )
    return redirect(reverse("projects:manage", args=[pk]) + "#reviewers")


@login_required
@require_POST
def reviewer_assign(request: HttpRequest, pk: int) -> HttpResponse:
    project = _staff_project(request, pk)
    reviewer = _candidate(project, request.POST.get("reviewer"))
    try:
        services.review_assign(project=project, reviewer=reviewer, by=request.user)
    except ValidationError as exc:
        for error in _errors(exc):
            messages.error(request, error)
    else:
        messages.success(request, _("%(name)s is assigned and told by e-mail.") % {"name": reviewer.full_name})
    return redirect(reverse("projects:manage", args=[pk]) + "#reviewers")


@login_required
@require_POST
def review_share(request: HttpRequest, pk: int, review_pk: int) -> HttpResponse:
    project = _staff_project(request, pk)
    review = get_object_or_404(Review, pk=review_pk, project=project)
    services.review_share_comments(review=review, by=request.user, shared=request.POST.get("action") == "share")
    return redirect(reverse("projects:manage", args=[pk]) + "#reviews")


@login_required
@require_POST
def funding_record(request: HttpRequest, pk: int) -> HttpResponse:
    project = _staff_project(request, pk)
    form = FundingDecisionForm(request.POST, prefix="funding")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.funding_decision_record(
                project=project, by=request.user, total_investment=data.pop("total_investment"), **data
            )
        except ValidationError as exc:
            for error in _errors(exc):
                messages.error(request, error)
        else:
            messages.success(request, _("Funding decision recorded."))
            return redirect(reverse("projects:manage", args=[pk]) + "#funding")
    messages.error(request, _("Nothing was saved: please correct the fields marked below."))
    return _manage_page(request, project, funding_form=form)


@login_required
@require_POST
def product_record(request: HttpRequest, pk: int) -> HttpResponse:
    project = _staff_project(request, pk)
    form = ProductForm(request.POST, prefix="product")
    if form.is_valid():
        try:
            services.product_add(project=project, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for error in _errors(exc):
                messages.error(request, error)
        else:
            messages.success(request, _("Product recorded."))
            return redirect(reverse("projects:manage", args=[pk]) + "#products")
    messages.error(request, _("Nothing was saved: please correct the fields marked below."))
    return _manage_page(request, project, product_form=form)


# --- Reviewers -----------------------------------------------------------------------------------------


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    """The reviews assigned to `user` (staff read every review on each proposal's management page)."""
    person = person_of(request.user)
    reviews = permissions.visible_reviews(request.user).filter(reviewer_id=person.pk if person else None)
    reviews = reviews.select_related("project", "project__primary_area").order_by("-assigned_at")
    return render(request, "projects/review_list.html", {"reviews": reviews})


def _review_page(request: HttpRequest, review: Review, *, form=None, conflict_form=None) -> HttpResponse:
    """The reviewer's page: what is scored, the scores, or the conflict declaration.

    A review in conflict of interest (declared, or the reviewer's organisation joined the
    consortium since the assignment) shows nothing of the proposal.
    """
    shows_proposal = permissions.review_shows_proposal(review)
    context = {
        "review": review,
        "shows_proposal": shows_proposal,
        "form": form or ReviewForm(instance=review),
        "conflict_form": conflict_form or ConflictForm(),
    }
    if shows_proposal:
        project = review.project
        context.update(
            project=project,
            partners=project.partners.select_related("organisation"),
            areas=list(project.areas.all()),
            attachments=project.attachments.all(),
            problems=submission_problems(project),
        )
    return render(request, "projects/review_form.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def review_detail(request: HttpRequest, review_pk: int) -> HttpResponse:
    """The reviewer's page; the scores and the conflict declaration each post to their own URL."""
    return _review_page(request, permissions.get_review_for_reviewer(request.user, review_pk))


@login_required
@require_POST
def review_submit(request: HttpRequest, review_pk: int) -> HttpResponse:
    review = permissions.get_review_for_reviewer(request.user, review_pk)
    form = ReviewForm(request.POST, instance=Review.objects.get(pk=review.pk))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.review_submit(
                review=review,
                by=request.user,
                scores={name: data[name] for name in Review.CRITERIA},
                recommendation=data["recommendation"],
                comments=data["comments"],
            )
        except ValidationError as exc:
            for error in _errors(exc):
                messages.error(request, error)
        else:
            messages.success(request, _("Your review is submitted. Thank you."))
            return redirect("projects:reviews")
    return _review_page(request, review, form=form)


@login_required
@require_POST
def review_conflict(request: HttpRequest, review_pk: int) -> HttpResponse:
    review = permissions.get_review_for_reviewer(request.user, review_pk)
    conflict_form = ConflictForm(request.POST)
    if conflict_form.is_valid():
        try:
            services.review_declare_conflict(
                review=review, by=request.user, reason=conflict_form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            for error in _errors(exc):
                messages.error(request, error)
        else:
            messages.success(request, _("Your conflict of interest is recorded; staff will reassign."))
            return redirect("projects:reviews")
    return _review_page(request, review, conflict_form=conflict_form)


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
