"""The end-to-end stack and browser, started once for the whole run (`make e2e`).

`bench.harness.Stack` runs a throwaway PostgreSQL cluster, Redis and the SMTP sink on ports
of their own, then the portal as in production: gunicorn (DEBUG off, whitenoise), a Celery
worker on Redis, and beat. Chromium (Debian's) is driven by Playwright. The journeys read
the stack's database directly (psycopg) to check outcomes; this pytest process never uses
Django's test database.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from bench.harness import BASE_DIR, Stack
from tests.e2e.cast import CONTACT_EMAIL, KOL_EMAIL, PASSWORD, STAFF_EMAIL

SHOTS = BASE_DIR / "var" / "e2e"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Reported to the console by the page itself when the browser blocks something under the CSP.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline")
                + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


def pytest_collection_modifyitems(config, items):
    """The browser suite runs only when asked for (`pytest -m e2e`), never in the plain test run."""
    if "e2e" in (config.option.markexpr or ""):
        return
    here = Path(__file__).parent
    keep, drop = [], []
    for item in items:
        (drop if here in Path(item.fspath).parents else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


class StackDB:
    """Plain SQL on the stack's database, to check what the journeys wrote."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, sql: str, *params) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    def value(self, sql: str, *params):
        rows = self.rows(sql, *params)
        return rows[0][0] if rows else None


def collect_static(portal: Stack) -> None:
    """collectstatic (manifest + compression: most of a minute here), done once per version of the static files.

    The result is kept in var/e2e-static/<hash of static/ and the requirements> and linked
    into the stack's STATIC_ROOT, so later runs skip it.
    """
    digest = hashlib.sha256()
    for path in [*sorted((BASE_DIR / "static").rglob("*")), BASE_DIR / "requirements.txt"]:
        if path.is_file():
            digest.update(str(path.relative_to(BASE_DIR)).encode() + path.read_bytes())
    cache = BASE_DIR / "var" / "e2e-static" / digest.hexdigest()[:16]
    static_root = Path(portal.env["VAR_DIR"]) / "static"
    if not (cache / "staticfiles.json").exists():
        portal.manage("collectstatic", "--no-input")
        shutil.rmtree(cache.parent, ignore_errors=True)  # older versions
        cache.parent.mkdir(parents=True)
        shutil.move(static_root, cache)
    shutil.rmtree(static_root, ignore_errors=True)
    static_root.parent.mkdir(parents=True, exist_ok=True)
    static_root.symlink_to(cache, target_is_directory=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    started = time.monotonic()
    portal = Stack("e2e-stack")
    try:
        portal.start_services(database="medicen_e2e")
        portal.env["E2E_PASSWORD"] = PASSWORD
        portal.manage("migrate", "--no-input")
        collect_static(portal)
        portal.manage("seed_medicen")
        portal.cast = json.loads(
            portal.manage("shell", "-c", "from tests.e2e.cast import create; create()").strip().splitlines()[-1]
        )
        portal.start_web(workers=2)
        portal.start_worker(concurrency=2)
        portal.start_beat()
        portal.db = StackDB(portal.env["DATABASE_URL"])
        print(f"\ne2e stack ready in {time.monotonic() - started:.1f} s at {portal.url}")
        yield portal
    finally:
        portal.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Journey:
    """One journey: its browser contexts, numbered screenshots, and every console error or page error seen."""

    def __init__(self, name: str, browser, stack: Stack) -> None:
        self.name, self.browser, self.stack = name, browser, stack
        self.folder = SHOTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.step = 0
        self.problems: list[str] = []
        self.visited: set[str] = set()
        self.contexts = []
        self.documents: set[str] = set()

    def page(self, *, login: str | None = None, password: str = PASSWORD):
        """A new browser (own cookies), logged in through the login page when `login` is an e-mail."""
        context = self.browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.add_init_script(CSP_LISTENER)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: JS error: {error}"))
        page.on("framenavigated", lambda frame: self.visited.add(frame.url.split("?")[0]))
        page.on("response", lambda response: self._response(response))
        if login:
            page.goto(f"{self.stack.url}/accounts/login/")
            page.fill("input[name=username]", login)
            page.fill("input[name=password]", password)
            page.click("form[action='/accounts/login/'] button[type=submit]")
            page.wait_for_load_state()
            assert "/accounts/login/" not in page.url, f"{login} could not log in"
        return page

    def _console(self, page, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            if message.text.startswith("Failed to load resource") and where in self.documents:
                return  # a page answering 4xx on purpose (a used link); subresources are checked in _response
            self.problems.append(f"{page.url}: console error: {message.text} ({where})")

    def _response(self, response) -> None:
        if response.request.resource_type == "document":
            self.documents.add(response.url)
        # A page may answer 4xx on purpose (a used link: 400); a stylesheet, script or image may not.
        if response.status >= 500 or (response.status >= 400 and response.request.resource_type != "document"):
            self.problems.append(f"{response.url}: HTTP {response.status} ({response.request.resource_type})")

    def shot(self, page, step: str) -> None:
        self.step += 1
        page.screenshot(path=str(self.folder / f"{self.step:02d}-{step}.png"), full_page=True)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def journey(request, browser, stack) -> Iterator[Callable[[], Journey]]:
    name = request.node.name.removeprefix("test_")
    run = Journey(name, browser, stack)
    yield run
    run.close()
    # No page of the journey may have broken the CSP, thrown a JS error, or answered 5xx.
    assert run.problems == [], "\n".join(run.problems)


def wait_for_mail(stack: Stack, *, to: str, subject_contains: str = "", timeout: float = 60):
    """The e-mail the sink received for `to` (the last one), as an EmailMessage."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in reversed(stack.mails()):
            if to in record["to"] and subject_contains in record["subject"]:
                return stack.mail_message(record)
        time.sleep(0.25)
    raise AssertionError(f"no e-mail to {to} ({subject_contains!r}) after {timeout:.0f} s; got {stack.mails()}")


def links_in(message, path_part: str) -> list[str]:
    """The links containing `path_part` in the message's text (plain text or HTML body)."""
    found: list[str] = []
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            for url in re.findall(r"https?://[^\s\"'<>]+", part.get_content()):
                url = url.replace("&amp;", "&")
                if path_part in url and url not in found:
                    found.append(url)
    return found


__all__ = ["CONTACT_EMAIL", "KOL_EMAIL", "STAFF_EMAIL", "links_in", "wait_for_mail"]
