"""Attachments: size limit, content checked, generated names, served only through the checked view."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import Attachment
from projects.uploads import MAX_UPLOAD_BYTES

pytestmark = pytest.mark.django_db

PDF_HEADER = b"%PDF-1.7\n"


def ooxml(marker: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(marker, "<x/>")
    return buffer.getvalue()


def upload(client, user, project, name, content):
    client.force_login(user)
    return client.post(
        f"/projects/{project.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content, "application/pdf")},
        follow=True,
    )


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("plan.pdf", PDF_HEADER + b"body", "pdf"),
        ("annexe.docx", ooxml("word/document.xml"), "docx"),
        ("budget.xlsx", ooxml("xl/workbook.xml"), "xlsx"),
        ("pitch.pptx", ooxml("ppt/presentation.xml"), "pptx"),
    ],
)
def test_the_four_document_types_are_accepted(client, owner, project, name, content, kind):
    upload(client, owner, project, name, content)

    attachment = Attachment.objects.get()
    assert attachment.kind == kind
    assert attachment.original_name == name
    assert attachment.size == len(content)


def test_a_file_of_exactly_the_limit_is_accepted(client, owner, project):
    upload(client, owner, project, "big.pdf", PDF_HEADER + b"0" * (MAX_UPLOAD_BYTES - len(PDF_HEADER)))

    assert Attachment.objects.count() == 1


def test_one_byte_over_the_limit_is_refused_with_the_limit_stated(client, owner, project, settings):
    response = upload(client, owner, project, "big.pdf", PDF_HEADER + b"0" * (MAX_UPLOAD_BYTES - len(PDF_HEADER) + 1))

    assert Attachment.objects.count() == 0
    assert "10,0" in response.content.decode() or "10.0" in response.content.decode()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.*"))


def test_the_limit_is_stated_in_the_form(client, owner, project):
    client.force_login(owner)

    text = client.get(f"/projects/{project.pk}/edit/").content.decode()

    assert "10,0" in text or "10.0" in text


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + b"0" * 100,  # an image
        b"MZ\x90\x00" + b"0" * 100,  # a Windows executable
        b"<html><script>alert(1)</script></html>",
        ooxml("something/else.xml"),  # a zip that is no Office document
        b"PK\x03\x04 not really a zip",
    ],
)
def test_wrong_content_behind_a_pdf_name_is_refused(client, owner, project, content):
    upload(client, owner, project, "report.pdf", content)

    assert Attachment.objects.count() == 0


def test_a_word_document_named_pdf_is_refused(client, owner, project):
    upload(client, owner, project, "report.pdf", ooxml("word/document.xml"))

    assert Attachment.objects.count() == 0


def test_a_path_in_the_name_is_never_used(client, owner, project, settings):
    upload(client, owner, project, "../../x.pdf", PDF_HEADER + b"body")

    attachment = Attachment.objects.get()
    stored = Path(attachment.file.path).resolve()
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert ".." not in attachment.file.name
    assert "x.pdf" not in attachment.file.name  # a generated name
    assert attachment.original_name == "x.pdf"
    assert not (Path(settings.MEDIA_ROOT).parent / "x.pdf").exists()


def test_a_name_without_an_accepted_extension_is_refused(client, owner, project):
    upload(client, owner, project, "../../x", PDF_HEADER + b"body")

    assert Attachment.objects.count() == 0


def test_a_colleague_of_the_consortium_cannot_upload(client, partner, project):
    response = upload(client, partner, project, "plan.pdf", PDF_HEADER + b"body")

    assert response.status_code == 403
    assert Attachment.objects.count() == 0


def test_media_files_are_not_served_by_any_url(client, owner, project):
    upload(client, owner, project, "plan.pdf", PDF_HEADER + b"body")
    attachment = Attachment.objects.get()

    assert client.get("/media/" + attachment.file.name).status_code == 404


def test_removing_an_attachment_removes_its_file(client, owner, project, django_capture_on_commit_callbacks):
    upload(client, owner, project, "plan.pdf", PDF_HEADER + b"body")
    attachment = Attachment.objects.get()
    path = Path(attachment.file.path)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/projects/{project.pk}/attachments/{attachment.pk}/delete/")

    assert not Attachment.objects.exists()
    assert not path.exists()


def test_the_remove_button_of_an_attachment_asks_for_confirmation(client, owner, project):
    upload(client, owner, project, "plan.pdf", PDF_HEADER + b"body")
    attachment = Attachment.objects.get()

    page = client.get(f"/projects/{project.pk}/edit/").content.decode()

    form_id = f"attachment-delete-{attachment.pk}"
    delete_form = page[page.index(f'id="{form_id}"') - 200 : page.index(f'id="{form_id}"')]
    assert f"/projects/{project.pk}/attachments/{attachment.pk}/delete/" in delete_form
    button = page[page.index(f'form="{form_id}"') - 100 : page.index(f'form="{form_id}"') + 300]
    assert 'type="submit"' in button
    assert "data-confirm=" in button and "plan.pdf" in button
