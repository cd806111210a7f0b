"""The whole journey in a real browser (Playwright driving Debian's Chromium), with screenshots.

A member logs in, fills the proposal with two partners and an attachment, submits; staff start
the review and assign a KOL, who scores it; staff label it, record the funding decision and
mark it funded; the member reads the timeline. Screenshots go to var/e2e/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from das.tests.factories import MandateFactory, StrategicAreaFactory
from members.models import Organisation
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory
from projects.models import Notification, Project, Review

SHOTS = Path(settings.BASE_DIR) / "var" / "e2e"
PASSWORD = "correct-horse-battery"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def cast(transactional_db):
    area = StrategicAreaFactory(code="biological-diagnostics", name_fr="Diagnostic biologique",
                                name_en="Biological diagnostics")  # fmt: skip
    startup = OrganisationFactory(name="Oncox Devices SAS", category=Organisation.Category.STARTUP)
    company = OrganisationFactory(name="Imaging Partner SA", category=Organisation.Category.LARGE)
    hospital = OrganisationFactory(name="Hôpital Saint-Louis (AP-HP)", category=Organisation.Category.HOSPITAL)
    member = UserFactory(email="contact@oncox.example", first_name="Claire", last_name="Durand")
    PersonFactory(user=member, organisation=startup, first_name="Claire", last_name="Durand")
    staff = UserFactory(email="staff@medicen.example", is_staff=True)
    kol = UserFactory(email="kol@medicen.example")
    kol_person = PersonFactory(user=kol, organisation=None, first_name="Valérie", last_name="Vilgrain",
                               civility="Prof.")  # fmt: skip
    MandateFactory(person=kol_person, area=area, role="president")
    return {"area": area, "company": company, "hospital": hospital, "member": member, "staff": staff,
            "kol": kol, "kol_person": kol_person}  # fmt: skip


def _login(browser, base_url, email):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()
    return page


def _pick(page, index, organisation):
    """Choose a consortium member with the type-ahead picker (static/projects/organisation_picker.js)."""
    page.fill(f"#id_partners-{index}-organisation_search", organisation.name)
    page.click(f"#id_partners-{index}-organisation_results button[data-id='{organisation.pk}']")


def _move(page, to, comment=""):
    form = page.locator(f"form:has(button[data-move='{to}'])")
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    form.locator(f"button[data-move='{to}']").click()
    page.wait_for_load_state()


def test_member_submits_and_staff_take_the_proposal_to_labelled_and_funded(live_server, cast, tmp_path, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    # Playwright's event loop runs in this thread; the ORM calls of the test are ours (restored afterwards).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    document = tmp_path / "consortium-agreement.pdf"
    document.write_bytes(PDF)
    base = live_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        # 1. The member fills in the proposal with two partners.
        page = _login(browser, base, "contact@oncox.example")
        page.goto(f"{base}/projects/new/")
        page.fill("#id_title", "Sepsis diagnosis in ten minutes at the bedside")
        page.fill("#id_acronym", "SEPSIS10")
        page.fill("#id_summary", "A microfluidic point-of-care test for sepsis.")
        page.fill("#id_objectives", "Reach TRL 6 and validate the test on 300 patients.")
        page.select_option("#id_primary_area", str(cast["area"].pk))
        page.check("input[name=kind][value=collaborative]")
        page.fill("#id_trl_start", "3")
        page.fill("#id_trl_target", "6")
        page.fill("#id_duration_months", "36")
        page.fill("#id_total_budget", "2400000")
        page.fill("#id_requested_aid", "1100000")
        page.select_option("#id_target_funder", "bpifrance")
        page.fill("#id_target_programme", "i-Nov")
        page.fill("#id_partners-0-budget_share", "50")
        _pick(page, 1, cast["company"])
        page.select_option("#id_partners-1-role", "partner")
        page.fill("#id_partners-1-budget_share", "30")
        page.fill("#id_partners-1-contact_name", "Marc Lefèvre")
        _pick(page, 2, cast["hospital"])
        page.select_option("#id_partners-2-role", "partner")
        page.fill("#id_partners-2-budget_share", "20")
        page.fill("#id_partners-2-contact_name", "Prof. Anne Roux")
        page.screenshot(path=str(SHOTS / "01-proposal-form.png"), full_page=True)
        page.click("button[name=action][value=draft]")
        page.wait_for_load_state()
        expect(page.locator("#eligibility")).to_have_class("alert alert-success")

        # 2. ... attaches a document with the form itself (nothing typed is lost), then submits.
        page.set_input_files("#id_files", str(document))
        page.click("button[name=action][value=draft]")
        page.wait_for_load_state()
        expect(page.locator("#attachments")).to_contain_text("consortium-agreement.pdf")
        page.screenshot(path=str(SHOTS / "02-draft-with-attachment.png"), full_page=True)
        page.click("button[name=action][value=submit]")
        page.wait_for_load_state()
        project = Project.objects.get(acronym="SEPSIS10")
        assert project.status == Project.Status.SUBMITTED
        assert page.url.endswith(f"/projects/{project.pk}/")
        page.screenshot(path=str(SHOTS / "03-submitted.png"), full_page=True)

        # 3. Staff start the review and assign the DAS president.
        staff = _login(browser, base, "staff@medicen.example")
        staff.goto(f"{base}/projects/{project.pk}/manage/")
        _move(staff, "under_review")
        staff.click(f"button[data-assign='{cast['kol_person'].pk}']")
        staff.wait_for_load_state()
        staff.screenshot(path=str(SHOTS / "04-staff-review-assigned.png"), full_page=True)

        # 4. The KOL scores the proposal.
        kol = _login(browser, base, "kol@medicen.example")
        review = Review.objects.get(project=project)
        kol.goto(f"{base}/projects/reviews/{review.pk}/")
        for criterion, score in zip(Review.CRITERIA, [5, 4, 4, 3, 4], strict=True):
            kol.check(f"input[name={criterion}][value='{score}']")
        kol.select_option("#id_recommendation", "label")
        kol.fill("#id_comments", "Strong clinical need; specify the regulatory pathway.")
        kol.screenshot(path=str(SHOTS / "05-kol-review.png"), full_page=True)
        kol.click("#review-form button[type=submit]")
        kol.wait_for_load_state()
        review.refresh_from_db()
        assert review.state == Review.State.SUBMITTED

        # 5. Staff share the comments, label, record the funding decision and mark it funded.
        staff.goto(f"{base}/projects/{project.pk}/manage/")
        staff.click("button[name=action][value=share]")
        staff.wait_for_load_state()
        _move(staff, "labelled", "Labelled by the Biological diagnostics board.")
        _move(staff, "submitted_to_funder")
        staff.select_option("#id_funding-funder", "bpifrance")
        staff.fill("#id_funding-programme", "i-Nov")
        staff.select_option("#id_funding-scope", "national")
        staff.fill("#id_funding-amount_requested", "1100000")
        staff.fill("#id_funding-amount_granted", "950000")
        staff.fill("#id_funding-public_aid", "950000")
        staff.fill("#id_funding-decision_date", "2026-10-15")
        staff.fill("#id_funding-total_investment", "2400000")
        staff.click("#funding-form button[type=submit]")
        staff.wait_for_load_state()
        _move(staff, "funded", "Bpifrance i-Nov: 950 000 €.")
        project.refresh_from_db()
        assert project.status == Project.Status.FUNDED
        staff.screenshot(path=str(SHOTS / "06-staff-funded.png"), full_page=True)

        # 6. The member reads the outcome: decision and shared comments, no reviewer name or score.
        page.goto(f"{base}/projects/{project.pk}/")
        text = page.inner_text("main")
        assert "Strong clinical need" in text and "Labelled by the Biological diagnostics board." in text
        assert "Vilgrain" not in text
        assert page.locator(".timeline-item").count() == 5  # submitted … funded
        page.screenshot(path=str(SHOTS / "07-member-timeline.png"), full_page=True)

        # 7. The public dashboard counts it.
        public = browser.new_context().new_page()
        public.goto(f"{base}/impact/")
        expect(public.locator("[data-figure=projects_funded]")).to_have_text("1")
        public.screenshot(path=str(SHOTS / "08-impact.png"), full_page=True)
        browser.close()
        # The ORM calls above ran inside Playwright's event-loop context, which Django gives its
        # own connection: close it here, or it outlives the test database.
        connections.close_all()

    # Five moves, each told to the one person who did not make it (the member or the staff member).
    assert Notification.objects.filter(event__project=project).count() == 5
    assert set(Notification.objects.values_list("message__status", flat=True)) == {"sent"}
