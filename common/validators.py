"""Validators every app may use (a leaf: imports no app)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# C0 and C1 control characters, DEL included; a tab is refused too (these are one-line fields).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def no_control_characters(value: str) -> None:
    """Refuse line breaks, NUL and other control characters in a one-line text (a title, an acronym).

    They end up in e-mail subjects, where a CR/LF cannot be (and would be a header injection).
    """
    if value and CONTROL_CHARACTERS.search(value):
        raise ValidationError(
            _("Line breaks, tabs and other control characters are not allowed here."), code="control_characters"
        )
