"""Checking uploaded documents by their content, never by the name or type the browser claims."""

from __future__ import annotations

import zipfile

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # 10 MB, stated in the form
MAX_ATTACHMENTS = 20

# The folder every Office Open XML document of each kind must contain.
OOXML_MARKERS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
EXTENSIONS = {"pdf", *OOXML_MARKERS}


def detect_kind(upload: UploadedFile) -> str | None:
    """'pdf', 'docx', 'xlsx' or 'pptx' from the bytes of the file; None if it is none of them."""
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, EOFError):
            return None
        finally:
            upload.seek(0)
        if "[Content_Types].xml" not in names:
            return None
        for kind, marker in OOXML_MARKERS.items():
            if marker in names:
                return kind
    return None


def safe_display_name(name: str) -> str:
    """The client's file name reduced to a harmless display name (never used as a path)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = get_valid_filename(base.strip(". ")) if base.strip(". ") else ""
    return base[-150:] or "document"


def validate_upload(upload: UploadedFile) -> str:
    """Return the kind of a valid upload, or raise ValidationError saying what is wrong."""
    if upload.size > MAX_UPLOAD_BYTES:
        size, limit = filesizeformat(upload.size), filesizeformat(MAX_UPLOAD_BYTES)
        if size == limit:
            # Just over the limit, both round to the same figure: "10.0 MB; the limit is 10.0 MB" read as nonsense.
            message = _("The file is just over the limit of %(limit)s.") % {"limit": limit}
        else:
            message = _("The file is %(size)s; the limit is %(limit)s.") % {"size": size, "limit": limit}
        raise ValidationError(message, code="too_large")
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    kind = detect_kind(upload)
    if kind is None:
        raise ValidationError(
            _("This file is not a PDF, Word (DOCX), Excel (XLSX) or PowerPoint (PPTX) document."),
            code="wrong_content",
        )
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if extension not in EXTENSIONS:
        raise ValidationError(
            _("Only .pdf, .docx, .xlsx and .pptx files are accepted."),
            code="wrong_extension",
        )
    if extension != kind:
        raise ValidationError(
            _("The file is named .%(extension)s but its content is a %(kind)s document.")
            % {"extension": extension, "kind": kind.upper()},
            code="wrong_content",
        )
    return kind
