"""Writes of labelling committees: sessions, their agenda, their decisions and the letters that follow."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from committees.documents import letter_pdf
from committees.models import Item, Letter, Session
from das.models import Mandate, StrategicArea
from members.models import Person, User
from outbox.services import attach_file, message_enqueue
from projects.models import Project
from projects.selectors import impact_changed
from projects.services import project_transition
from projects.workflow import TransitionError

# Proposals a committee can decide on: with the cluster for review.
ON_AGENDA = (Project.Status.UNDER_REVIEW, Project.Status.RESUBMITTED)


@transaction.atomic
def session_create(*, area: StrategicArea, held_at, by: User, place: str = "") -> Session:
    """A new session, its members taken from the area's board as it stands on the session's day."""
    session = Session(area=area, held_at=held_at, place=place, created_by=by)
    session.full_clean()
    session.save()
    day = timezone.localtime(held_at).date()
    session.members.set(Person.objects.filter(pk__in=Mandate.objects.as_of(day).filter(area=area).values("person_id")))
    return session


def agenda_problems(session: Session, project: Project) -> list[str]:
    if project.primary_area_id != session.area_id:
        return [_("“%(project)s” is not in the session's area.") % {"project": project}]
    if project.status not in ON_AGENDA:
        return [_("“%(project)s” is not under review.") % {"project": project}]
    return []


@transaction.atomic
def agenda_add(*, session: Session, projects: list[Project], by: User) -> list[Item]:
    """Put proposals under review in the session's area on its agenda (each once)."""
    problems = [problem for project in projects for problem in agenda_problems(session, project)]
    if problems:
        raise ValidationError(problems)
    start = session.items.count()
    items = []
    for offset, project in enumerate(projects):
        item, _created = Item.objects.get_or_create(
            session=session, project=project, defaults={"position": start + offset}
        )
        items.append(item)
    impact_changed()  # the dashboard counts the proposals on each session's agenda
    return items


@dataclass
class DecisionReport:
    decided: list[Item] = field(default_factory=list)
    refused: dict[int, list[str]] = field(default_factory=dict)  # item pk -> why


def _applicant_addresses(project: Project) -> tuple[list[str], str]:
    """The proposer and the lead organisation's primary contacts, and the language of the letter."""
    addresses, language = [], ""
    if project.proposer_id and project.proposer.email:
        addresses.append(project.proposer.email)
        language = project.proposer.language
    for person in project.lead_organisation.people.filter(is_primary_contact=True, anonymised_at__isnull=True):
        if person.email and person.email not in addresses:
            addresses.append(person.email)
            language = language or person.language
    return addresses, language or settings.LANGUAGE_CODE


def letter_issue(*, item: Item) -> Letter:
    """The labelling letter of a labelled proposal, e-mailed once to the applicants (PDF attached)."""
    project = item.project
    addresses, language = _applicant_addresses(project)
    letter, created = Letter.objects.get_or_create(project=project, defaults={"item": item, "language": language})
    if created and addresses:
        with translation.override(language):
            subject = _("Labelling letter: %(project)s") % {"project": project}
            body = render_to_string(
                "committees/emails/letter.txt", {"project": project, "letter": letter, "session": item.session}
            )
            filename = _("labelling-letter-%(reference)s.pdf") % {"reference": letter.reference}
        message_enqueue(
            key=f"labelling-letter:{letter.pk}",
            kind="labelling-letter",
            to=addresses,
            subject=subject,
            body=body,
            language=language,
            attachments=[attach_file(filename, letter_pdf(letter), "application/pdf")],
        )
    return letter


def session_decide(*, session: Session, decisions: dict[int, tuple[str, str]], by: User) -> DecisionReport:
    """Record the committee's decisions: item pk -> (decision, comment).

    Each decision is one transition of the proposal through the workflow service (its event
    and e-mails), in its own transaction, so one refused move leaves the others standing.
    An item already decided is left as it is: recording the same session twice moves nothing twice.
    """
    report = DecisionReport()
    items = {item.pk: item for item in session.items.select_related("project__lead_organisation", "project__proposer")}
    for item_pk, (decision, comment) in decisions.items():
        item = items.get(item_pk)
        if item is None or not decision:
            continue
        if decision not in Item.Decision.values:
            report.refused[item_pk] = [_("Unknown decision.")]
            continue
        try:
            with transaction.atomic():
                claimed = Item.objects.filter(pk=item.pk, decision="").update(
                    decision=decision, comment=comment.strip(), decided_at=timezone.now(), decided_by=by
                )
                if not claimed:
                    continue  # decided already (another click, another tab)
                project_transition(project=item.project, to=decision, by=by, comment=comment)
                item.refresh_from_db()
                if decision == Item.Decision.LABELLED:
                    letter_issue(item=item)
        except TransitionError as exc:
            report.refused[item_pk] = [str(message) for message in getattr(exc, "messages", [exc])]
            continue
        report.decided.append(item)
    return report
