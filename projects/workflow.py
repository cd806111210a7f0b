"""The proposal workflow as data: which status may follow which, and who may make each move.

`projects.services.project_transition` is the only code that changes a proposal's status.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from projects.models import Project

S = Project.Status

APPLICANT = "applicant"  # a contact of the proposing organisation
STAFF = "staff"  # cluster staff

# (from, to) -> who may make the move.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.DRAFT, S.SUBMITTED): frozenset({APPLICANT}),
    (S.DRAFT, S.WITHDRAWN): frozenset({APPLICANT}),
    (S.SUBMITTED, S.WITHDRAWN): frozenset({APPLICANT}),
    (S.SUBMITTED, S.UNDER_REVIEW): frozenset({STAFF}),
    (S.UNDER_REVIEW, S.INFO_REQUESTED): frozenset({STAFF}),
    (S.UNDER_REVIEW, S.LABELLED): frozenset({STAFF}),
    (S.UNDER_REVIEW, S.NOT_LABELLED): frozenset({STAFF}),
    (S.INFO_REQUESTED, S.RESUBMITTED): frozenset({APPLICANT}),
    (S.RESUBMITTED, S.UNDER_REVIEW): frozenset({STAFF}),
    (S.RESUBMITTED, S.INFO_REQUESTED): frozenset({STAFF}),
    (S.RESUBMITTED, S.LABELLED): frozenset({STAFF}),
    (S.RESUBMITTED, S.NOT_LABELLED): frozenset({STAFF}),
    (S.LABELLED, S.SUBMITTED_TO_FUNDER): frozenset({APPLICANT, STAFF}),
    (S.SUBMITTED_TO_FUNDER, S.FUNDED): frozenset({STAFF}),
    (S.SUBMITTED_TO_FUNDER, S.NOT_FUNDED): frozenset({STAFF}),
    (S.FUNDED, S.COMPLETED): frozenset({STAFF}),
}

ALLOWED: dict[str, set[str]] = {status: set() for status in S.values}
for _from, _to in TRANSITIONS:
    ALLOWED[_from].add(_to)

# The wording of the button that makes each move.
ACTION_LABELS = {
    S.SUBMITTED: _("Submit the proposal"),
    S.WITHDRAWN: _("Withdraw the proposal"),
    S.UNDER_REVIEW: _("Start the review"),
    S.INFO_REQUESTED: _("Ask for more information"),
    S.RESUBMITTED: _("Resubmit with the information asked"),
    S.LABELLED: _("Label the project"),
    S.NOT_LABELLED: _("Do not label"),
    S.SUBMITTED_TO_FUNDER: _("Mark as submitted to the funder"),
    S.FUNDED: _("Mark as funded"),
    S.NOT_FUNDED: _("Mark as not funded"),
    S.COMPLETED: _("Mark as completed"),
}

# Statuses in which the proposal is with the cluster for review.
REVIEW_STATUSES = {S.SUBMITTED, S.UNDER_REVIEW, S.RESUBMITTED}


class TransitionError(Exception):
    """Base of the errors a transition can raise; str() is a message for the user."""


class InvalidTransition(TransitionError):
    def __init__(self, from_status: str, to_status: str) -> None:
        self.from_status, self.to_status = from_status, to_status
        super().__init__(
            _("A proposal that is “%(from)s” cannot become “%(to)s”.")
            % {"from": S(from_status).label, "to": S(to_status).label}
        )


class ConcurrentUpdate(TransitionError):
    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        super().__init__(
            _(
                "Someone else changed the status of this proposal at the same time. "
                "Reload the page to see its current status."
            )
        )


class TransitionRefused(TransitionError):
    """The move is in the table but its conditions are not met (not eligible, no review, ...)."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = [str(message) for message in messages]
        super().__init__(" ".join(self.messages))
