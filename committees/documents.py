"""The committee's documents as PDF (WeasyPrint renders the HTML templates): dossiers, minutes, letters.

Every PDF is rendered from `templates/committees/pdf/`, with fonts and styles of its own (no
network access: WeasyPrint is given no base URL to fetch from).
"""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from committees.models import Item, Letter, Session


def _pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango costs time no other page needs

    html = render_to_string(template, context)
    return HTML(string=html, base_url=None).write_pdf()


def dossier_pdf(item: Item) -> bytes:
    """One proposal as the committee reads it: summary, consortium, budget, the reviews shared with it."""
    project = item.project
    reviews = project.reviews.filter(state="submitted").select_related("reviewer").order_by("submitted_at", "pk")
    return _pdf(
        "committees/pdf/dossier.html",
        {
            "session": item.session,
            "project": project,
            "partners": list(project.partners.select_related("organisation")),
            "areas": list(project.areas.all()),
            "reviews": list(reviews),
            "attachments": list(project.attachments.all()),
            "now": timezone.now(),
        },
    )


def dossiers_zip(session: Session) -> bytes:
    """Every dossier of the session, each with the proposal's attachments, in one ZIP."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, item in enumerate(session.items.select_related("project"), start=1):
            folder = f"{number:02d}-{(item.project.acronym or str(item.project.pk))[:40]}"
            archive.writestr(f"{folder}/dossier.pdf", dossier_pdf(item))
            for attachment in item.project.attachments.all():
                with attachment.file.open("rb") as handle:
                    archive.writestr(f"{folder}/{attachment.pk}-{attachment.original_name}", handle.read())
    return buffer.getvalue()


def minutes_pdf(session: Session) -> bytes:
    items = list(session.items.select_related("project__lead_organisation", "decided_by"))
    return _pdf(
        "committees/pdf/minutes.html",
        {"session": session, "items": items, "members": list(session.members.all()), "now": timezone.now()},
    )


def letter_pdf(letter: Letter) -> bytes:
    """The labelling letter, in the lead's language, with its verification reference and URL."""
    project = letter.project
    with translation.override(letter.language):
        return _pdf(
            "committees/pdf/letter.html",
            {
                "letter": letter,
                "project": project,
                "partners": list(project.partners.select_related("organisation")),
                "session": letter.item.session if letter.item else None,
                "verify_url": settings.SITE_URL + reverse("label_verify", args=[letter.reference]),
                "language": letter.language,
            },
        )
