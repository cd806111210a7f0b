"""Who may do what with proposals. Views, templates, services and tests use these functions.

- Staff see and manage every proposal.
- Contacts of the proposing organisation (the "applicants") see it and edit it while it is a
  draft or more information is requested.
- Contacts of the other consortium member organisations see it, read-only.
- Reviewers see the proposals they are assigned to, and nobody else's review, unless the review
  is in conflict of interest: declared by the reviewer, or their organisation is (now) in the
  consortium (`selectors.conflict_organisations`).
- Everyone else gets a 404: an outsider does not even learn that the proposal exists.

One answer to "who sees what": `visible_proposals`, `visible_attachments` and `visible_reviews`
are querysets; the object checks (`can_view_project`, `get_project_for_user`, …), the lists and
the services all filter them, so a list never shows what a page refuses, nor the reverse
(projects/tests/test_visibility.py).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from members.models import Organisation, User
from members.permissions import organisation_of, person_of
from projects.models import Attachment, Partner, Project, Review
from projects.selectors import review_set_aside
from projects.workflow import APPLICANT, STAFF, TRANSITIONS

AnyUser = User | AnonymousUser


def is_staff(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def is_applicant(user: AnyUser, project: Project) -> bool:
    """A contact of the organisation that proposes the project."""
    organisation = organisation_of(user)
    return organisation is not None and organisation.pk == project.lead_organisation_id


def is_consortium_contact(user: AnyUser, project: Project) -> bool:
    organisation = organisation_of(user)
    if organisation is None:
        return False
    return (
        organisation.pk == project.lead_organisation_id or project.partners.filter(organisation=organisation).exists()
    )


def reviews_showing_proposal() -> QuerySet[Review]:
    """Reviews whose reviewer sees the proposal: not in conflict of interest, declared (state) or
    found (the reviewer is now tied to the consortium)."""
    return Review.objects.exclude(state=Review.State.CONFLICT).filter(~review_set_aside())


def visible_proposals(user: AnyUser) -> QuerySet[Project]:
    """The proposals `user` may see: staff all; a member contact those their organisation proposes
    or is a partner of; a reviewer those they review, unless in conflict of interest."""
    if not user.is_authenticated:
        return Project.objects.none()
    if is_staff(user):
        return Project.objects.all()
    person = person_of(user)
    if person is None:
        return Project.objects.none()
    seen = Q(pk__in=reviews_showing_proposal().filter(reviewer=person).values("project_id"))
    if person.organisation_id:
        partnerships = Partner.objects.filter(organisation_id=person.organisation_id).values("project_id")
        seen |= Q(lead_organisation_id=person.organisation_id) | Q(pk__in=partnerships)
    return Project.objects.filter(seen)


def visible_attachments(user: AnyUser) -> QuerySet[Attachment]:
    """The documents of the proposals `user` may see."""
    return Attachment.objects.filter(project__in=visible_proposals(user))


def visible_reviews(user: AnyUser) -> QuerySet[Review]:
    """Staff every review (the management page); a reviewer the reviews assigned to them, in
    conflict of interest or not (their page then shows the declaration, nothing of the proposal)."""
    if not user.is_authenticated:
        return Review.objects.none()
    if is_staff(user):
        return Review.objects.all()
    person = person_of(user)
    return Review.objects.filter(reviewer=person) if person else Review.objects.none()


def review_shows_proposal(review: Review) -> bool:
    """A review in conflict of interest (declared, or the reviewer's organisation joined the
    consortium since) shows nothing of the proposal, and cannot be submitted."""
    return reviews_showing_proposal().filter(pk=review.pk).exists()


def active_review_of(user: AnyUser, project: Project) -> Review | None:
    """The review `user` is assigned on `project`, unless it is in conflict of interest."""
    person = person_of(user)
    if person is None:
        return None
    return (
        reviews_showing_proposal()
        .filter(project=project, reviewer=person)
        .select_related("reviewer", "project")
        .first()
    )


def can_view_project(user: AnyUser, project: Project) -> bool:
    return visible_proposals(user).filter(pk=project.pk).exists()


def can_view_review(user: AnyUser, review: Review) -> bool:
    return visible_reviews(user).filter(pk=review.pk).exists()


def can_create_project(user: AnyUser) -> bool:
    return organisation_of(user) is not None


def can_pick_partners(user: AnyUser) -> bool:
    """Who may search organisations for a consortium: member contacts and staff."""
    return is_staff(user) or can_create_project(user)


def partner_organisations(user: AnyUser, project: Project | None = None) -> QuerySet[Organisation]:
    """The organisations `user` may pick as consortium partners: staff all of them, member contacts
    the members listed in the directory, plus those already in `project`'s consortium (so an
    existing row stays valid when the organisation has since lapsed)."""
    if is_staff(user):
        return Organisation.objects.all()
    if not can_create_project(user):
        return Organisation.objects.none()
    offered = Q(status=Organisation.Status.ACTIVE, directory_opt_in=True)
    if project is not None and project.pk:
        offered |= Q(pk__in=project.partners.exclude(organisation=None).values("organisation_id"))
        offered |= Q(pk=project.lead_organisation_id)
    else:
        organisation = organisation_of(user)
        if organisation is not None:
            offered |= Q(pk=organisation.pk)  # the proposer's own organisation leads a new proposal
    return Organisation.objects.filter(offered)


def can_edit_project(user: AnyUser, project: Project) -> bool:
    return project.is_editable and is_applicant(user, project)


def can_manage_project(user: AnyUser) -> bool:
    """Staff run the review, the labelling and record funding outcomes."""
    return is_staff(user)


def can_transition(user: AnyUser, project: Project, to: str) -> bool:
    roles = TRANSITIONS.get((project.status, to))
    if not roles or not user.is_authenticated:
        return False
    return (STAFF in roles and is_staff(user)) or (APPLICANT in roles and is_applicant(user, project))


def allowed_moves(user: AnyUser, project: Project) -> list[str]:
    """The statuses `user` may move `project` to now, in the workflow's order."""
    order = list(Project.Status.values)
    moves = [to for (frm, to) in TRANSITIONS if frm == project.status and can_transition(user, project, to)]
    return sorted(moves, key=order.index)


def get_project_for_user(user: AnyUser, pk: int) -> Project:
    """The one access helper: the proposal if `user` may see it, else 404."""
    project = (
        visible_proposals(user).select_related("lead_organisation", "primary_area", "proposer").filter(pk=pk).first()
    )
    if project is None:
        raise Http404("No such proposal.")
    return project


def get_attachment_for_user(user: AnyUser, project_pk: int, pk: int) -> Attachment:
    attachment = visible_attachments(user).filter(project_id=project_pk, pk=pk).select_related("project").first()
    if attachment is None:
        raise Http404("No such attachment.")
    return attachment


def get_review_for_reviewer(user: AnyUser, pk: int) -> Review:
    """A review, for the reviewer it is assigned to only (staff read every review on the management page)."""
    person = person_of(user)
    review = (
        visible_reviews(user)
        .select_related("project", "project__lead_organisation", "reviewer")
        .filter(pk=pk, reviewer_id=person.pk if person else None)
        .first()
    )
    if review is None:
        raise Http404("No such review.")
    return review
