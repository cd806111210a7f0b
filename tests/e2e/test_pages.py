"""Every page of every role, at 1280x800 and 390x844, in French and English (`make e2e`).

For each role — visitor, member contact, reviewer, KOL, staff — one logged-in browser walks
the portal from the home page (and a few start pages), following the links it is shown, one
page per kind of page (per URL name). Each page is loaded once at 1280x800, checked,
screenshot, then narrowed to 390x844 (the page reflows, no reload), checked and screenshot
again. The French walk is then replayed in English. A page fails on:

- **width**: the document is wider than the window (the elements sticking out are named);
- **messages**: an `.alert` without one of Bootstrap's contextual classes, or unstyled;
- **console**: a console error, an uncaught JS error, a CSP violation, a 5xx answer, a 4xx
  on a stylesheet, script or image (the `Journey` machinery of conftest.py);
- **error pages**: a 4xx/5xx answer that is not the portal's own error page (its `<main>`
  carries `data-portal-error`), and a link the role is shown that answers 403 or 404;
- **English on a French page**: the visible text (and aria-label, title, placeholder, alt)
  of a French page contains one of the portal's English msgids (locale/fr/…/django.po);
- **confirmation**: a form of an irreversible action (delete, cancel, remove, uninvite,
  withdraw, anonymise, revoke, reset; withdrawing or refusing a proposal) without
  `data-confirm` on the form or its button (static/js/confirm.js asks before it goes).

Screenshots: `var/e2e/pages/<role>/<lang>-<width>/NNN-<url name>.png`; every page visited and
every problem: `var/e2e/pages/report.json`. The walk's data (tests/e2e/sweep.py) is added
after the journeys, which this module sorts after.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve

from bench.harness import BASE_DIR
from tests.e2e.conftest import PASSWORD, SHOTS, Journey

pytestmark = pytest.mark.e2e

ROLES = ("visitor", "contact", "reviewer", "kol", "staff")
WIDE, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
MAX_PAGES = 150  # per role and language: a runaway crawl fails loudly instead of running for an hour
SCREENSHOT_MAX_HEIGHT = 5000
NAV_ONE_LINE = 72  # px: the expanded bar is 56 px high on one line
REPORT = SHOTS / "pages" / "report.json"

# Never followed: they end the session, switch the language, or are files.
SKIP_PATHS = ("/static/", "/media/", "/accounts/logout/", "/admin/logout/", "/i18n/")
DOWNLOADS = {
    "impact:csv",
    "projects:attachment",
    "members:logo",
    "my_data",
    "meetings:meeting_feed",
    "meetings:meeting_ics",
}
# Admin pages beyond the index, the lists, the add and change forms: history, delete
# confirmations (Django's own confirmation pages), the admin's password and JS catalogue.
ADMIN_SKIP = re.compile(r"_(history|delete)$|^admin:(logout|password_change|password_change_done|jsi18n|view_on_site)$")

IRREVERSIBLE_NAME = re.compile(r"(delete|cancel|remove|uninvite|withdraw|anonymi[sz]e|revoke|reset)", re.IGNORECASE)
NOT_IRREVERSIBLE = {"password_reset", "password_reset_confirm"}  # asks for an e-mail / sets a new password
IRREVERSIBLE_TRANSITIONS = {"withdrawn", "not_labelled", "not_funded"}
BOOTSTRAP_ALERTS = {"primary", "secondary", "success", "danger", "warning", "info", "light", "dark"}


def _script(name: str) -> str:
    """A function expression kept in tests/e2e/<name>, without its leading comment lines."""
    lines = (Path(__file__).parent / name).read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("//")).strip()


MEASURE = _script("measure.js")

CONTENT = _script("content.js")


# --- the portal's English strings ------------------------------------------------------------


def _po_entries(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of each singular entry of a .po file."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in block.splitlines())

        def field_of(keyword: str, text: str = block) -> str | None:
            match = re.search(rf'^{keyword} ((?:".*"\n?)+)', text + "\n", flags=re.M)
            if not match:
                return None
            return "".join(re.findall(r'^"(.*)"$', match.group(1), flags=re.M)).replace('\\"', '"').replace("\\n", "\n")

        msgid, msgstr = field_of("msgid"), field_of("msgstr")
        if msgid and msgstr is not None and "msgid_plural" not in block:
            entries.append((msgid, msgstr, fuzzy))
    return entries


def english_phrases(po: Path) -> list[str]:
    """The portal's English strings that must not be read on a French page.

    Each translated msgid is cut at its placeholders and markup; a fragment is kept when it
    has two words or more (or is one capitalised word of five letters or more), and when it
    is not also French: a fragment that occurs in some French translation ("Impact",
    "Consortium", "Bpifrance") is dropped.
    """
    entries = [(msgid, msgstr) for msgid, msgstr, fuzzy in _po_entries(po) if msgstr and not fuzzy]
    french = "\n".join(msgstr for _msgid, msgstr in entries)
    phrases = set()
    for msgid, msgstr in entries:
        if msgid.strip() == msgstr.strip():
            continue
        for fragment in re.split(r"%\(\w+\)[sd]|%[sd]|\{[^}]*\}|<[^>]+>|\n|\s[—\u2013-]\s|[:;()“”«»\"]", msgid):
            fragment = fragment.strip(" .,!?'\u2019…")
            words = fragment.split()
            long_enough = (len(words) >= 2 and len(fragment) >= 6) or (
                len(words) == 1 and len(fragment) >= 5 and fragment[0].isupper() and fragment.isalpha()
            )
            if long_enough and fragment not in french:
                phrases.add(fragment)
    return sorted(phrases, key=len, reverse=True)


# English the admin showed from third-party apps before medicen_portal/admin_fr.py named them
# (app labels and plain strings that are no msgid of the portal's catalogue).
THIRD_PARTY_ENGLISH = ["Axes", "Otp_Totp", "TOTP device", "TOTP devices", "Access Log for", "Correlation ID"]


@pytest.fixture(scope="session")
def english_on_french_page():
    phrases = english_phrases(BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.po") + THIRD_PARTY_ENGLISH
    return english_finder(phrases)


def english_finder(phrases: list[str]):
    """A function returning the phrases found in a text.

    A one-word phrase inside a proper name ("Imaging Partner SA": the msgid "Partner") is data,
    not an untranslated string: it is skipped when a capitalised word stands right before or
    after it on the same line.
    """
    pattern = re.compile(r"(?<![\w'\u2019-])(" + "|".join(re.escape(p) for p in phrases) + r")(?![\w'\u2019-])")
    name_before, name_after = re.compile(r"[A-Z][\w.&'-]* $"), re.compile(r"^ [A-Z]")

    def find(text: str) -> list[str]:
        found = set()
        for match in pattern.finditer(text):
            phrase = match.group(1)
            if " " not in phrase and (
                name_before.search(text[max(0, match.start() - 40) : match.start()])
                or name_after.match(text[match.end() : match.end() + 3])
            ):
                continue
            found.add(phrase)
        return sorted(found)

    return find


TYPOGRAPHY = [
    (re.compile(r"[A-Za-zÀ-ÿ)»][;:!?](?=[ \n]|$)"), "no space before ; : ! ?"),
    (re.compile(r"[A-Za-zÀ-ÿ0-9)»] [;:!?](?=[ \n]|$)"), "a breaking space before ; : ! ?"),
    (re.compile(r"[A-Za-zÀ-ÿ0-9)»] ,"), "a space before a comma"),
]


def french_typography(text: str) -> list[str]:
    """Where a French page's text breaks French punctuation rules (a no-break space, narrow or
    not, is accepted before ; : ! ?: Django's own French uses U+00A0)."""
    found = []
    for rule, why in TYPOGRAPHY:
        for match in rule.finditer(text):
            context = text[max(0, match.start() - 25) : match.end() + 10].replace("\n", " ⏎ ")
            found.append(f"{why}: “{context.strip()}”")
            if len(found) >= 4:
                return found
    return found


def test_french_typography_flags_what_a_french_reader_would_correct():
    assert french_typography("Jérôme Sallette , Chief innovation officer") != []
    assert french_typography("Accepté: 0") != []
    assert french_typography("Accepté : 0") != []
    found = french_typography("Accepté\u202f: 0, refusé\u00a0: 1 ; https://medicen.example à 14:00")

    assert len(found) == 1 and found[0].startswith("a breaking space before")  # the " ;" only


def test_a_word_of_an_organisation_name_is_not_taken_for_an_untranslated_string():
    find = english_finder(["Partner", "Log out"])

    assert find("Imaging Partner SA\nPartenaire") == []
    assert find("Rôle\nPartner\nLog out") == ["Log out", "Partner"]


def test_the_english_phrase_list_finds_untranslated_strings_and_spares_french_ones():
    phrases = english_phrases(BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.po")

    assert "Log out" in phrases and "Strategic areas" in phrases
    assert "Impact" not in phrases  # the same word in French


# --- the walk ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sweep(stack) -> dict:
    started = time.monotonic()
    output = stack.manage("shell", "-c", "from tests.e2e.sweep import create; create()")
    data = json.loads(output.strip().splitlines()[-1])
    print(f"\nsweep data ready in {time.monotonic() - started:.1f} s")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    if REPORT.exists():
        REPORT.unlink()
    return data


@dataclass
class Visit:
    role: str
    language: str
    url: str
    name: str
    status: int
    problems: list[str] = field(default_factory=list)


def url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def irreversible(form: dict, page_text: str = "") -> list[str]:
    """Which submit buttons of the form do something that cannot be undone (empty: none).

    A "reset" replaces something that exists: getting one's first calendar address is not
    irreversible, replacing the one the page shows (the old one stops working) is.
    """
    path = urlsplit(form["action"]).path
    name = url_name(path) or ""
    if name.startswith("admin:"):
        return []  # the admin's deletions and actions go through its own confirmation pages
    buttons = form["buttons"] or [{"name": "", "value": "", "confirm": False, "text": "(no button)"}]
    if name == "projects:transition":
        moves = set(form["to"]) | {b["value"] for b in buttons if b["name"] == "to"}
        if not moves & IRREVERSIBLE_TRANSITIONS:
            return []
        if form["to"]:
            return [b["text"] for b in buttons]
        return [b["text"] for b in buttons if b["name"] == "to" and b["value"] in IRREVERSIBLE_TRANSITIONS]
    short = name.rsplit(":", 1)[-1]
    if short in NOT_IRREVERSIBLE or not IRREVERSIBLE_NAME.search(short):
        return []
    if "reset" in short and not re.search(r"/meetings/calendar/\S+\.ics", page_text):
        return []
    return [b["text"] for b in buttons]


class Walker:
    """One role in one language: a logged-in browser, the pages it reached and what was wrong."""

    def __init__(self, role, language, browser, stack, sweep, english_check):
        self.role, self.language, self.stack, self.sweep = role, language, stack, sweep
        self.english_check = english_check
        self.journey = Journey(f"pages/{role}", browser, stack)
        self.journey.folder = SHOTS / "pages" / role
        email = sweep["logins"].get(role)
        self.page = self.journey.page(login=email, password=PASSWORD) if email else self.journey.page()
        self.page.context.add_cookies([{"name": "django_language", "value": language, "url": stack.url}])
        self.page.set_viewport_size(WIDE)
        self.visits: list[Visit] = []
        self.shots = 0
        for size in (WIDE, PHONE):
            shutil.rmtree(self.journey.folder / f"{language}-{size['width']}", ignore_errors=True)

    def shot(self, name: str, width: int, height: int) -> None:
        folder = self.journey.folder / f"{self.language}-{width}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.shots:03d}-{name.replace(':', '-')}.png"
        clip = {"x": 0, "y": 0, "width": width, "height": min(height, SCREENSHOT_MAX_HEIGHT)}
        self.page.screenshot(path=str(path), full_page=True, clip=clip)

    def visit(self, url: str, *, expect: int | None = None, shots: bool = True) -> dict | None:
        """Load `url`, check it at both widths; return its links and forms (None: not a page)."""
        path = urlsplit(url).path
        name = url_name(path) or path
        self.page.set_viewport_size(WIDE)
        try:
            response = self.page.goto(url, wait_until="load")
        except Exception as error:  # Playwright raises on a URL that downloads a file
            if "Download is starting" in str(error):
                return None
            raise
        status = response.status if response else 0
        if "text/html" not in (response.headers.get("content-type", "") if response else ""):
            return None
        visit = Visit(self.role, self.language, self.page.url, name, status)
        self.visits.append(visit)
        self.shots += 1
        if expect is not None and status != expect:
            visit.problems.append(f"answered {status}, expected {expect}")
        for size in (WIDE, PHONE):
            self.page.set_viewport_size(size)
            measured = self.page.evaluate(MEASURE)
            self.check_layout(visit, measured, size["width"])
            if shots:
                self.shot(name, size["width"], measured["height"])
        self.page.set_viewport_size(WIDE)
        content = self.page.evaluate(CONTENT)
        if self.language == "fr":
            english = self.english_check(content["text"])
            if english:
                visit.problems.append("English on the French page: " + "; ".join(f"“{e}”" for e in english[:12]))
            typography = french_typography(content["text"])
            if typography:
                visit.problems.append("French typography: " + "; ".join(typography))
        for form in content["forms"]:
            unconfirmed = irreversible(form, content["text"])
            if (
                unconfirmed
                and not form["confirm"]
                and not all(b["confirm"] for b in form["buttons"] if b["text"] in unconfirmed)
            ):
                visit.problems.append(
                    f"irreversible action without data-confirm: {urlsplit(form['action']).path} "
                    f"({', '.join(repr(text) for text in unconfirmed)})"
                )
        return content

    def check_layout(self, visit: Visit, measured: dict, width: int) -> None:
        if measured["scrollWidth"] > measured["width"] + 1:
            visit.problems.append(
                f"{measured['scrollWidth'] - measured['width']} px wider than the {width} px screen: "
                + "; ".join(measured["wide"])
            )
        if width == WIDE["width"] and measured["navHeight"] > NAV_ONE_LINE:
            visit.problems.append(f"the navigation bar is {measured['navHeight']} px high: more than one line")
        for alert in measured["alerts"]:
            variants = {c.removeprefix("alert-") for c in alert["classes"] if c.startswith("alert-")}
            variants -= {"dismissible", "heading", "link"}
            if not variants or not variants <= BOOTSTRAP_ALERTS or alert["background"] in ("rgba(0, 0, 0, 0)", ""):
                classes = " ".join(alert["classes"])
                visit.problems.append(f"message without a Bootstrap style ({classes}): {alert['text']}")
        if visit.status >= 400 and not measured["portalError"]:
            visit.problems.append(f"HTTP {visit.status} is not the portal's error page (no main[data-portal-error])")

    def walk(self, starts: list[str], probes: dict[str, int]) -> None:
        base = self.stack.url
        queue = [urljoin(base, start) for start in starts]
        seen_names: set[str] = set()
        shown_from: dict[str, str] = {}
        while queue and len(self.visits) < MAX_PAGES:
            url = queue.pop(0)
            path = urlsplit(url).path
            name = url_name(path)
            if name is None or name in seen_names or name in DOWNLOADS or ADMIN_SKIP.search(name):
                continue
            if self.role == "staff" and self.language == "en" and name.startswith("admin:") and name != "admin:index":
                continue  # the admin in English is Django's own; in French it is checked page by page
            seen_names.add(name)
            content = self.visit(url)
            if content is None:
                continue
            visit = self.visits[-1]
            if visit.status in (403, 404) and url in shown_from:
                visit.problems.append(f"a link shown on {shown_from[url]} leads to HTTP {visit.status}")
            if urlsplit(self.page.url).path.startswith("/accounts/login/") and self.role != "visitor":
                visit.problems.append(f"a link shown to a logged-in {self.role} leads to the login page")
            for link in content["links"]:
                parts = urlsplit(link)
                if parts.netloc != urlsplit(base).netloc or parts.path.startswith(SKIP_PATHS):
                    continue
                target = f"{base}{parts.path}" + (f"?{parts.query}" if parts.query else "")
                shown_from.setdefault(target, path)
                queue.append(target)
        for path, status in probes.items():
            self.visit(urljoin(base, path), expect=status)

    def close(self) -> list[str]:
        self.journey.close()
        problems = [f"{v.url} [{v.name}]: {p}" for v in self.visits for p in dict.fromkeys(v.problems)]
        return problems + self.journey.problems


def starts_for(role: str, sweep: dict) -> tuple[list[str], dict[str, int]]:
    """Where each role's walk begins, and the pages it must be refused (with the portal's error page)."""
    missing = {"/e2e-no-such-page/": 404}
    if role == "visitor":
        listed = f"/members/{sweep['listed_organisation']}/"
        starts = ["/", "/accounts/login/", "/accounts/password_reset/", listed]
        if sweep.get("letter"):
            starts.append(f"/labels/{sweep['letter']}/")
        return starts, missing
    if role == "contact":
        starts = ["/", f"/members/{sweep['contact_organisation']}/membership/", "/projects/new/"]
        if sweep["contact_draft"]:
            starts.append(f"/projects/{sweep['contact_draft']}/")
        return starts, {**missing, "/meetings/": 403}
    if role == "reviewer":
        return ["/", "/projects/reviews/", f"/projects/reviews/{sweep['review']}/"], {**missing, "/projects/new/": 403}
    if role == "kol":
        return ["/", "/meetings/", "/meetings/topics/"], {**missing, "/projects/new/": 403}
    return ["/", "/admin/", f"/projects/{sweep['review_project']}/manage/", "/meetings/new/"], missing


def record(visits: list[Visit]) -> None:
    previous = json.loads(REPORT.read_text()) if REPORT.exists() else []
    previous += [vars(v) for v in visits]
    REPORT.write_text(json.dumps(previous, indent=1, ensure_ascii=False))


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_fits_both_screens_in_french_and_english(
    role, browser, stack, sweep, english_on_french_page
):
    started = time.monotonic()
    problems, visits = [], []
    starts, probes = starts_for(role, sweep)
    for language in ("fr", "en"):
        walker = Walker(role, language, browser, stack, sweep, english_on_french_page)
        walker.walk(starts, probes)
        if role == "contact" and language == "fr":
            message_after_a_refused_upload(walker, sweep)
        problems += walker.close()
        visits += walker.visits
    record(visits)
    print(f"\n{role}: {len(visits)} pages in {time.monotonic() - started:.0f} s, {len(problems)} problems")

    assert problems == [], f"{len(problems)} problems on the pages of the {role}:\n" + "\n".join(problems)


def message_after_a_refused_upload(walker: Walker, sweep: dict) -> None:
    """A refused upload leaves an error message: it must be a Bootstrap danger alert read out at once."""
    if not sweep["contact_draft"]:
        walker.journey.problems.append("the demo contact has no draft to upload to")
        return
    page = walker.page
    page.goto(f"{walker.stack.url}/projects/{sweep['contact_draft']}/edit/")
    upload = page.locator("input[type=file]").first
    if upload.count() == 0:
        page.goto(f"{walker.stack.url}/projects/{sweep['contact_draft']}/")
    upload = page.locator("input[type=file]").first
    upload.set_input_files({"name": "virus.exe", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00not a pdf"})
    with page.expect_navigation():
        upload.evaluate("input => input.form.requestSubmit()")
    visit = Visit(walker.role, walker.language, page.url, "refused upload", 200)
    walker.visits.append(visit)
    walker.shots += 1
    for size in (WIDE, PHONE):
        page.set_viewport_size(size)
        measured = page.evaluate(MEASURE)
        walker.check_layout(visit, measured, size["width"])
        walker.shot("refused-upload", size["width"], measured["height"])
    danger = [a for a in page.evaluate(MEASURE)["alerts"] if "alert-danger" in a["classes"] and a["role"] == "alert"]
    if not danger:
        visit.problems.append("a refused upload shows no alert-danger message with role=alert")
