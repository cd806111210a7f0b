"""The README's screenshots (`make screenshots`): home, member directory, a proposal.

Starts the production-like stack of the e2e suite (throwaway PostgreSQL and Redis, gunicorn
with DEBUG off) with seed_medicen and seed_demo's data, then photographs three pages in
French at 1280x800 with Debian's Chromium into docs/screenshots/. The proposal is the demo
member contact's funded project, seen by that contact.
"""

from __future__ import annotations

import sys
import time

import psycopg
from playwright.sync_api import sync_playwright

from bench.harness import BASE_DIR, Stack
from tests.e2e.conftest import CHROMIUM_ARGS, collect_static

OUT = BASE_DIR / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
CONTACT = "contact@medicen.example"


def main() -> int:
    started = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    with Stack("screenshots-stack") as stack:
        stack.start_services(database="medicen_screenshots")
        stack.manage("migrate", "--no-input")
        collect_static(stack)
        stack.manage("seed_medicen")
        stack.manage("seed_demo", "--members", "200", "--projects", "150")
        stack.start_web(workers=2)
        with psycopg.connect(stack.env["DATABASE_URL"]) as connection:
            project = connection.execute(
                "SELECT p.id FROM projects_project p"
                " JOIN members_person pe ON pe.organisation_id = p.lead_organisation_id"
                " JOIN members_user u ON u.id = pe.user_id"
                " WHERE u.email = %s AND p.status = 'funded' ORDER BY p.id",
                (CONTACT,),
            ).fetchone()[0]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
            context.add_cookies([{"name": "django_language", "value": "fr", "url": stack.url}])
            page = context.new_page()
            page.goto(f"{stack.url}/")
            page.screenshot(path=str(OUT / "home.png"))
            page.goto(f"{stack.url}/members/")
            page.screenshot(path=str(OUT / "directory.png"))
            page.goto(f"{stack.url}/accounts/login/")
            page.fill("input[name=username]", CONTACT)
            page.fill("input[name=password]", stack.env["DEMO_PASSWORD"])
            page.click("form[action='/accounts/login/'] button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{stack.url}/projects/{project}/")
            page.screenshot(path=str(OUT / "proposal.png"))
            browser.close()
    print(f"docs/screenshots/home.png, directory.png, proposal.png in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
