"""French as a French reader writes it, in every French string of the catalogue.

A narrow no-break space (U+202F) before ; : ! ? and inside « », no space before a comma
and the typographic apostrophe U+2019 (issue 11, item 14). The header entry and the msgids are left alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
NARROW = "\u202f"
RULES = [
    (re.compile(r"[ \u00a0][;:!?]"), "a plain or no-break space before ; : ! ? (use U+202F)"),
    (re.compile(r"[A-Za-zÀ-ÿ»)][;!?](\s|$)"), "no space before ; ! ? (add U+202F)"),
    (re.compile(r"[A-Za-zÀ-ÿ»)]:(\s|$)"), "no space before : (add U+202F)"),
    (re.compile(r"\s,"), "a space before a comma"),
    (re.compile(r"«(?!\u202f)|(?<!\u202f)»"), "« » without U+202F inside"),
    (re.compile(r"[A-Za-zÀ-ÿ]'[A-Za-zÀ-ÿ]"), "a straight apostrophe (use U+2019)"),
]


def french_strings() -> list[tuple[str, str]]:
    """(msgid, msgstr) of every translated entry, the header excepted."""
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        if 'msgid ""\nmsgstr ""\n"Project-Id-Version' in block:
            continue
        msgid = "".join(re.findall(r'^(?:msgid|msgid_plural) "(.*)"$', block, flags=re.M))
        strings = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block + "\n", flags=re.M)
        for raw in strings:
            text = "".join(re.findall(r'"(.*)"', raw)).replace("\\n", "\n")
            if text:
                entries.append((msgid, text))
    return entries


def test_the_catalogue_has_french_strings_to_check():
    assert len(french_strings()) > 500


def test_every_french_string_follows_french_typography():
    problems = [
        f"{msgid!r}: {why} in {text!r}" for msgid, text in french_strings() for rule, why in RULES if rule.search(text)
    ]

    assert problems == [], "\n".join(problems)
