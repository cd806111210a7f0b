"""Labelling committee sessions: agenda, decisions through the workflow, dossiers, minutes and letters."""

from __future__ import annotations

import datetime
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from committees import documents, services
from committees.models import Item, Letter
from das.tests.factories import StrategicAreaFactory
from members.tests.factories import UserFactory
from projects.models import Attachment, Project, ProjectEvent

pytestmark = pytest.mark.django_db
S = Project.Status


def _text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())  # table cells wrap their lines


@pytest.fixture
def session(area, board, staff, five):
    session = services.session_create(area=area, held_at=timezone.now() + datetime.timedelta(days=3), by=staff)
    services.agenda_add(session=session, projects=five, by=staff)
    return session


def test_a_new_session_takes_its_members_from_the_areas_current_board(session, board):
    assert set(session.members.all()) == set(board)


def test_only_proposals_under_review_in_the_sessions_area_go_on_the_agenda(session, five, staff):
    from django.core.exceptions import ValidationError

    from projects.tests.factories import ProjectFactory

    draft = ProjectFactory(primary_area=session.area)
    elsewhere = ProjectFactory(primary_area=StrategicAreaFactory(code="digital"), status=S.UNDER_REVIEW)
    for project in (draft, elsewhere):
        with pytest.raises(ValidationError):
            services.agenda_add(session=session, projects=[project], by=staff)
    assert session.items.count() == 5


def test_a_session_deciding_five_proposals_makes_exactly_five_transitions_with_their_e_mails(
    session, five, staff, smtp_sink, django_capture_on_commit_callbacks
):
    items = {item.project_id: item for item in session.items.all()}
    decisions = {
        items[five[0].pk].pk: ("labelled", ""),
        items[five[1].pk].pk: ("labelled", "Très bon consortium."),
        items[five[2].pk].pk: ("not_labelled", "Hors stratégie du domaine."),
        items[five[3].pk].pk: ("info_requested", "Précisez le plan de financement."),
        items[five[4].pk].pk: ("labelled", ""),
    }
    events_before = ProjectEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        report = services.session_decide(session=session, decisions=decisions, by=staff)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.session_decide(session=session, decisions=decisions, by=staff)

    assert len(report.decided) == 5 and report.refused == {}
    assert again.decided == []
    assert ProjectEvent.objects.count() - events_before == 5
    statuses = {project.pk: Project.objects.get(pk=project.pk).status for project in five}
    assert sorted(statuses.values()) == sorted(["labelled", "labelled", "labelled", "not_labelled", "info_requested"])
    assert Letter.objects.count() == 3
    for project in five:
        mails = [m for m in smtp_sink.messages if project.proposer.email in m["X-Envelope-To"]]
        status_mails = [m for m in mails if "Lettre de labellisation" not in m["Subject"]]
        letters = [m for m in mails if "Lettre de labellisation" in m["Subject"]]
        assert len(status_mails) == 1, [m["Subject"] for m in mails]
        assert len(letters) == (1 if statuses[project.pk] == "labelled" else 0)
    letter_mail = next(m for m in smtp_sink.messages if "Lettre de labellisation" in m["Subject"])
    pdf = next(part for part in letter_mail.iter_attachments() if part.get_content_type() == "application/pdf")
    assert "Lettre de labellisation" in _text(pdf.get_content())


def test_a_refusal_without_a_comment_is_refused_and_the_other_decisions_stand(session, five, staff):
    items = {item.project_id: item for item in session.items.all()}
    report = services.session_decide(
        session=session,
        decisions={items[five[0].pk].pk: ("not_labelled", ""), items[five[1].pk].pk: ("labelled", "")},
        by=staff,
    )
    assert [item.project_id for item in report.decided] == [five[1].pk]
    assert list(report.refused) == [items[five[0].pk].pk]
    assert Item.objects.get(pk=items[five[0].pk].pk).decision == ""
    assert Project.objects.get(pk=five[0].pk).status == S.UNDER_REVIEW


def test_the_dossier_pdf_holds_summary_consortium_budget_and_reviews(session, five):
    item = session.items.get(project=five[0])
    text = _text(documents.dossier_pdf(item))
    assert "PRJ1" in text and "A rapid test at the bedside." in text
    assert "MedTech Partner SAS" in text and "Hôpital Saint-Louis" in text
    assert "2 000 000" in text
    assert "Solide et utile aux patients." in text


def test_the_zip_holds_each_dossier_with_its_attachments(session, five, staff):
    content = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    Attachment.objects.create(
        project=five[0], file=ContentFile(content, name="annexe.pdf"), original_name="annexe.pdf", kind="pdf",
        size=len(content), uploaded_by=five[0].proposer,
    )  # fmt: skip
    names = zipfile.ZipFile(io.BytesIO(documents.dossiers_zip(session))).namelist()
    assert len([name for name in names if name.endswith("dossier.pdf")]) == 5
    assert any(name.startswith("01-PRJ1/") and name.endswith("annexe.pdf") for name in names)


def test_the_minutes_list_every_decision(session, five, staff):
    items = {item.project_id: item for item in session.items.all()}
    services.session_decide(
        session=session, decisions={items[five[2].pk].pk: ("not_labelled", "Hors stratégie.")}, by=staff
    )
    text = _text(documents.minutes_pdf(session))
    assert "Compte rendu" in text and "PRJ3" in text and "Non labellisé" in text and "Hors stratégie." in text


def test_the_letter_verification_accepts_a_genuine_reference_and_refuses_a_forged_one(client, session, five, staff):
    item = session.items.get(project=five[0])
    services.session_decide(session=session, decisions={item.pk: ("labelled", "")}, by=staff)
    letter = Letter.objects.get()

    genuine = client.get(reverse("label_verify", args=[letter.reference]))
    forged = client.get(reverse("label_verify", args=["ABCD-EFGH-JKLM-NPQR"]))

    assert genuine.status_code == 200 and "est authentique" in genuine.content.decode()
    assert "PRJ1" in genuine.content.decode()
    assert forged.status_code == 404 and "Aucune lettre" in forged.content.decode()
    text = _text(documents.letter_pdf(letter))
    assert letter.reference in text and "Startup 1 SAS" in text and "MedTech Partner SAS" in text


def test_the_letter_is_written_in_the_leads_language(session, five, staff):
    five[1].proposer.language = "en"
    five[1].proposer.save()
    item = session.items.get(project=five[1])
    services.session_decide(session=session, decisions={item.pk: ("labelled", "")}, by=staff)
    letter = Letter.objects.get()
    assert letter.language == "en"
    assert "Labelling letter" in _text(documents.letter_pdf(letter))


def test_committee_members_see_their_sessions_dossiers_and_nothing_else(client, session, board, five, area, staff):
    other = services.session_create(area=StrategicAreaFactory(code="digital"), held_at=timezone.now(), by=staff)
    item = session.items.first()
    member = board[0].user
    outsider = UserFactory()

    client.force_login(member)
    assert client.get(reverse("committees:detail", args=[session.pk])).status_code == 200
    assert client.get(reverse("committees:dossier", args=[session.pk, item.pk])).status_code == 200
    assert client.get(reverse("committees:detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("committees:decide", args=[session.pk])).status_code == 403

    client.force_login(outsider)
    for url in (
        reverse("committees:detail", args=[session.pk]),
        reverse("committees:dossier", args=[session.pk, item.pk]),
        reverse("committees:dossiers_zip", args=[session.pk]),
        reverse("committees:minutes", args=[session.pk]),
    ):
        assert client.get(url).status_code == 404


def test_staff_record_decisions_from_the_sessions_page(client, session, five, staff):
    item = session.items.get(project=five[0])
    client.force_login(staff)
    page = client.get(reverse("committees:detail", args=[session.pk])).content.decode()
    assert "data-confirm" in page

    response = client.post(reverse("committees:decide", args=[session.pk]), {f"decision-{item.pk}": "labelled"})

    assert response.status_code == 302
    assert Project.objects.get(pk=five[0].pk).status == S.LABELLED
    detail = client.get(reverse("projects:detail", args=[five[0].pk]))
    assert "Télécharger la lettre de labellisation" in detail.content.decode()
    assert client.get(reverse("committees:letter", args=[five[0].pk]))["Content-Type"] == "application/pdf"
