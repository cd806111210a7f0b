"""End-to-end journeys in a real browser against the production-like stack (see conftest.py).

The journeys run in this order and build on each other the way the portal is used: the
proposal the invited contact submits in journey 2 is the one staff take to funded in
journey 4. Each step leaves a screenshot in var/e2e/<journey>/NN-step.png; every page
visited is checked for CSP violations, JS errors and 5xx answers (the `journey` fixture).
"""

from __future__ import annotations

import datetime
import re
import time
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import CONTACT_EMAIL, KOL_EMAIL, STAFF_EMAIL, links_in, wait_for_mail

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Oncox-sepsis-2026!"
SHARED: dict[str, int] = {}  # what a journey hands to the next one


def small_pdf() -> bytes:
    """A real one-page PDF (catalog, pages, page, content stream, a correct xref table)."""
    stream = b"BT /F1 18 Tf 72 720 Td (SEPSIS10 consortium agreement) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def members_file(category_of_second_row: str) -> bytes:
    """A members file as a French office suite writes it: CSV separated by ';', UTF-8 with a BOM."""
    rows = [
        "siren;nom;categorie;statut;adherent_depuis;code_postal;ville;das;annuaire;description",
        "552081317;BioSensing Lab SAS;startup;active;15/01/2024;91190;Gif-sur-Yvette;biological-diagnostics;oui;"
        "Capteurs pour le diagnostic rapide",
        f"380373217;Institut Clinique de l'Essonne;{category_of_second_row};active;01/03/2022;91000;Évry-Courcouronnes;"
        "imaging|digital-health;oui;Recherche clinique",
        "775672272;Radiologie Numérique SA;sme;prospect;;75015;Paris;imaging;non;",
    ]
    return ("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8")


def test_staff_import_members_and_fix_a_rejected_row(journey, stack, tmp_path):
    names = ["BioSensing Lab SAS", "Institut Clinique de l'Essonne", "Radiologie Numérique SA"]
    bad, good = tmp_path / "bad" / "adherents.csv", tmp_path / "good" / "adherents.csv"
    bad.parent.mkdir()
    good.parent.mkdir()
    bad.write_bytes(members_file("laboratoire"))  # not a category: line 3 is refused
    good.write_bytes(members_file("research"))

    page = journey.page(login=STAFF_EMAIL)
    page.goto(f"{stack.url}/admin/members/organisation/")
    journey.shot(page, "organisations-changelist")
    page.click("a[href$='/admin/members/organisation/import/']")
    page.wait_for_load_state()
    assert page.locator("input[name=dry_run]").is_checked()  # "check only" is the default
    journey.shot(page, "import-form")

    # 1. The file with a wrong category: the whole file is refused, the line and column named.
    page.set_input_files("input[name=file]", str(bad))
    page.uncheck("input[name=dry_run]")
    page.click("#content form input[type=submit]")
    page.wait_for_load_state()
    rows = page.locator("#content table tbody tr")
    assert rows.count() == 1
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[0] == "3" and cells[1] == "categorie" and "laboratoire" in cells[2], cells
    assert "rien n'a été importé" in page.inner_text("#content h2").replace("\N{RIGHT SINGLE QUOTATION MARK}", "'")
    journey.shot(page, "rejected-row")
    assert stack.db.value("SELECT count(*) FROM members_organisation WHERE name = ANY(%s)", names) == 0

    # 2. Staff fix the file: a check first (nothing written), then the import.
    page.set_input_files("input[name=file]", str(good))
    page.check("input[name=dry_run]")
    page.click("#content form input[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#content table tbody tr").count() == 0
    assert "3 nouvelles, 0 mises à jour" in page.inner_text("#content")
    journey.shot(page, "check-passed")
    assert stack.db.value("SELECT count(*) FROM members_organisation WHERE name = ANY(%s)", names) == 0

    page.set_input_files("input[name=file]", str(good))
    page.uncheck("input[name=dry_run]")
    page.click("#content form input[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".messagelist .success").count() == 1
    journey.shot(page, "imported")

    rows = stack.db.rows(
        "SELECT name, siren, category, status, postcode, directory_opt_in FROM members_organisation"
        " WHERE name = ANY(%s) ORDER BY siren",
        names,
    )
    assert rows == [
        ("Institut Clinique de l'Essonne", "380373217", "research", "active", "91000", True),
        ("BioSensing Lab SAS", "552081317", "startup", "active", "91190", True),
        ("Radiologie Numérique SA", "775672272", "sme", "prospect", "75015", False),
    ]
    interests = stack.db.rows(
        "SELECT a.code FROM members_organisation_das_interests i JOIN das_strategicarea a ON a.id = i.strategicarea_id"
        " JOIN members_organisation o ON o.id = i.organisation_id WHERE o.siren = '380373217' ORDER BY a.code"
    )
    assert [code for (code,) in interests] == ["digital-health", "imaging"]

    # The admin finds them by SIREN; the public directory lists the opted-in ones.
    page.goto(f"{stack.url}/admin/members/organisation/")
    page.fill("#searchbar", "380373217")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    assert "Institut Clinique de l'Essonne" in page.inner_text("#result_list")
    journey.shot(page, "found-by-siren")
    public = journey.page()
    public.goto(f"{stack.url}/members/?q=BioSensing")
    assert "BioSensing Lab SAS" in public.inner_text("main")
    journey.shot(public, "public-directory")


def test_contact_accepts_invitation_edits_profile_and_submits_proposal(journey, stack, tmp_path):
    cast = stack.cast
    # 1. Staff invite the contact from the admin (People → action "Invite to an account").
    staff = journey.page(login=STAFF_EMAIL)
    staff.goto(f"{stack.url}/admin/members/person/?q=Durand")
    staff.check("#result_list input[name=_selected_action]")
    staff.select_option("select[name=action]", "invite")
    journey.shot(staff, "staff-invite")
    staff.click("button[name=index]")
    staff.wait_for_load_state()
    assert staff.locator(".messagelist .success").count() == 1
    journey.shot(staff, "staff-invited")

    # 2. The worker sends the e-mail; the contact follows its link and chooses a password.
    message = wait_for_mail(stack, to=CONTACT_EMAIL)
    (link,) = links_in(message, "/members/invitation/")
    page = journey.page()
    page.goto(link)
    assert CONTACT_EMAIL in page.inner_text("main")
    page.fill("input[name=new_password1]", NEW_PASSWORD)
    page.fill("input[name=new_password2]", NEW_PASSWORD)
    journey.shot(page, "choose-password")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/members/oncox-devices/membership/"), page.url
    journey.shot(page, "logged-in")
    # The link works once.
    again = journey.page()
    response = again.goto(link)
    assert response.status == 400
    journey.shot(again, "link-used")

    # 3. The contact edits the organisation's public profile.
    page.goto(f"{stack.url}/members/oncox-devices/edit/")
    page.fill("#id_description", "Oncox conçoit des tests de diagnostic rapide du sepsis au lit du patient.")
    page.fill("#id_website", "https://www.oncox.example")
    page.check(f"input[name=das_interests][value='{cast['area']}']")
    page.check("#id_directory_opt_in")
    journey.shot(page, "profile-form")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{stack.url}/members/oncox-devices/")
    assert "diagnostic rapide du sepsis" in page.inner_text("main")
    journey.shot(page, "profile-public")
    assert stack.db.rows("SELECT website, directory_opt_in FROM members_organisation WHERE slug = 'oncox-devices'") == [
        ("https://www.oncox.example", True)
    ]

    # 4. The proposal with two partners, then an attachment, then submitted.
    page.goto(f"{stack.url}/projects/new/")
    page.fill("#id_title", "Sepsis diagnosis in ten minutes at the bedside")
    page.fill("#id_acronym", "SEPSIS10")
    page.fill("#id_summary", "A microfluidic point-of-care test for sepsis.")
    page.fill("#id_objectives", "Reach TRL 6 and validate the test on 300 patients.")
    page.select_option("#id_primary_area", str(cast["area"]))
    page.check("input[name=kind][value=collaborative]")
    page.fill("#id_trl_start", "3")
    page.fill("#id_trl_target", "6")
    page.fill("#id_duration_months", "36")
    page.fill("#id_total_budget", "2400000")
    page.fill("#id_requested_aid", "1100000")
    page.select_option("#id_target_funder", "bpifrance")
    page.fill("#id_target_programme", "i-Nov")
    page.fill("#id_partners-0-budget_share", "50")
    _pick(page, 1, cast["partner"], "Imaging Partner SA")
    page.select_option("#id_partners-1-role", "partner")
    page.fill("#id_partners-1-budget_share", "30")
    page.fill("#id_partners-1-contact_name", "Marc Lefèvre")
    _pick(page, 2, cast["hospital"], "Hôpital Saint-Louis (AP-HP)")
    page.select_option("#id_partners-2-role", "partner")
    page.fill("#id_partners-2-budget_share", "20")
    page.fill("#id_partners-2-contact_name", "Prof. Anne Roux")
    journey.shot(page, "proposal-form")
    page.click("button[name=action][value=draft]")
    page.wait_for_load_state()
    assert page.locator("#eligibility.alert-success").count() == 1

    document = tmp_path / "consortium-agreement.pdf"
    document.write_bytes(small_pdf())
    page.set_input_files("#id_files", str(document))
    page.click("button[name=action][value=draft]")
    page.wait_for_load_state()
    assert "consortium-agreement.pdf" in page.inner_text("#attachments")
    journey.shot(page, "draft-with-attachment")
    page.click("button[name=action][value=submit]")
    page.wait_for_load_state()
    journey.shot(page, "submitted")

    ((project_id, status),) = stack.db.rows("SELECT id, status FROM projects_project WHERE acronym = 'SEPSIS10'")
    assert status == "submitted"
    assert page.url.endswith(f"/projects/{project_id}/")
    partners = stack.db.rows(
        "SELECT o.slug, p.role, p.budget_share FROM projects_partner p JOIN members_organisation o"
        " ON o.id = p.organisation_id WHERE p.project_id = %s ORDER BY p.budget_share DESC",
        project_id,
    )
    assert [(slug, role, int(share)) for slug, role, share in partners] == [
        ("oncox-devices", "lead", 50),
        ("imaging-partner", "partner", 30),
        ("hopital-saint-louis", "partner", 20),
    ]
    assert stack.db.value("SELECT count(*) FROM projects_attachment WHERE project_id = %s", project_id) == 1
    # The attachment downloads as the same bytes, as an attachment.
    with page.expect_download() as download:
        page.click("#attachments a[href*='/attachments/']")
    assert download.value.suggested_filename == "consortium-agreement.pdf"
    assert download.value.path().read_bytes() == document.read_bytes()
    SHARED["project"] = project_id


def test_kol_answers_the_meeting_invitation_from_the_email(journey, stack):
    # 1. Staff schedule a board meeting of Biological diagnostics through the pages.
    staff = journey.page(login=STAFF_EMAIL)
    staff.goto(f"{stack.url}/meetings/new/")
    starts = (datetime.datetime.now(ZoneInfo("Europe/Paris")) + datetime.timedelta(days=21)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    staff.fill("#id_title", "Bureau Diagnostic biologique — thématiques sepsis")
    staff.select_option("#id_committee", "das_board")
    staff.select_option("#id_area", str(stack.cast["area"]))
    staff.fill("#id_starts_at", starts.strftime("%Y-%m-%dT%H:%M"))
    staff.fill("#id_ends_at", (starts + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    staff.fill("#id_place", "Medicen, 3 rue de l'Arrivée, Paris")
    staff.fill("#id_agenda", "1. Thématiques sepsis au lit du patient\n2. Appels à projets 2027")
    staff.fill("#id_reminders", "7d, 1d")
    journey.shot(staff, "staff-meeting-form")
    staff.click("main form button[type=submit]")
    staff.wait_for_load_state()
    match = re.search(r"/meetings/(\d+)/$", staff.url)
    assert match, staff.url
    meeting_id = int(match.group(1))
    journey.shot(staff, "staff-meeting-draft")
    # Prepared first: nobody is e-mailed until staff send the invitations (and confirm).
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.click(f"main form[action='/meetings/{meeting_id}/send/'] button[type=submit]")
    staff.wait_for_load_state()
    journey.shot(staff, "staff-meeting-scheduled")

    # 2. The invitation reaches the KOL (the board's president, the one with an address).
    message = wait_for_mail(stack, to=KOL_EMAIL, subject_contains="thématiques sepsis")
    assert any(part.get_content_type() == "text/calendar" for part in message.walk())
    accept = [link for link in links_in(message, "/meetings/rsvp/") if "answer=accepted" in link]
    assert accept, links_in(message, "/meetings/rsvp/")

    # 3. The KOL opens the accept link (no login) and confirms.
    kol = journey.page()
    kol.goto(accept[0])
    assert kol.locator("input[name=answer][value=accepted]").is_checked()
    journey.shot(kol, "rsvp-link-opened")
    # Opening the link alone records nothing (mail scanners follow links).
    assert stack.db.value("SELECT response FROM das_invitation WHERE meeting_id = %s", meeting_id) == ""
    kol.click("main form button[type=submit]")
    kol.wait_for_load_state()
    assert kol.locator(".alert-success").count() == 1
    journey.shot(kol, "rsvp-accepted")
    assert stack.db.rows(
        "SELECT i.response, p.email FROM das_invitation i JOIN members_person p ON p.id = i.person_id"
        " WHERE i.meeting_id = %s",
        meeting_id,
    ) == [("accepted", KOL_EMAIL)]

    # 4. Staff see the answer on the meeting page; the KOL, logged in, finds the meeting in the list.
    staff.reload()
    assert "Sallette" in staff.inner_text("main")
    journey.shot(staff, "staff-sees-answer")
    member = journey.page(login=KOL_EMAIL)
    member.goto(f"{stack.url}/meetings/")
    member.click(f"main a[href='/meetings/{meeting_id}/']")
    member.wait_for_load_state()
    assert "thématiques sepsis" in member.inner_text("main")
    journey.shot(member, "kol-meeting-page")


def _pick(page, index: int, organisation_id: int, name: str) -> None:
    """Choose a consortium member with the type-ahead picker (static/projects/organisation_picker.js)."""
    page.fill(f"#id_partners-{index}-organisation_search", name)
    page.click(f"#id_partners-{index}-organisation_results button[data-id='{organisation_id}']")


def _move(page, to: str, comment: str = "") -> None:
    form = page.locator(f"form:has(button[data-move='{to}'])")
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    form.locator(f"button[data-move='{to}']").click()
    page.wait_for_load_state()


def _funded_figure(page, url: str) -> str:
    page.goto(f"{url}/impact/")
    return page.inner_text("[data-figure=projects_funded]").strip()


def test_staff_take_the_proposal_to_funded_and_the_impact_dashboard_changes(journey, stack):
    project_id = SHARED.get("project")
    if project_id is None:
        pytest.fail("journey 2 (the contact's proposal) must run first: pytest -m e2e tests/e2e")
    url = stack.url
    public = journey.page()
    before = _funded_figure(public, url)
    journey.shot(public, "impact-before")

    # 1. Staff start the review and assign the DAS president.
    staff = journey.page(login=STAFF_EMAIL)
    staff.goto(f"{url}/projects/{project_id}/manage/")
    _move(staff, "under_review")
    staff.click(f"button[data-assign='{stack.cast['kol_person']}']")
    staff.wait_for_load_state()
    journey.shot(staff, "review-assigned")

    # 2. The KOL scores it.
    kol = journey.page(login=KOL_EMAIL)
    review_id = stack.db.value("SELECT id FROM projects_review WHERE project_id = %s", project_id)
    kol.goto(f"{url}/projects/reviews/")
    assert "SEPSIS10" in kol.inner_text("main")
    journey.shot(kol, "kol-assignments")
    kol.click(f"main a[href='/projects/reviews/{review_id}/']")
    kol.wait_for_load_state()
    criteria = ["score_innovation", "score_impact", "score_consortium", "score_feasibility", "score_market"]
    for criterion, score in zip(criteria, [5, 4, 4, 3, 4], strict=True):
        kol.check(f"input[name={criterion}][value='{score}']")
    kol.select_option("#id_recommendation", "label")
    kol.fill("#id_comments", "Besoin clinique fort\u202f; préciser la voie réglementaire.")
    journey.shot(kol, "kol-review")
    kol.click("#review-form button[type=submit]")
    kol.wait_for_load_state()
    assert stack.db.value("SELECT state FROM projects_review WHERE project_id = %s", project_id) == "submitted"

    # 3. Staff share the comments, label, submit to the funder, record the decision, mark funded.
    staff.goto(f"{url}/projects/{project_id}/manage/")
    staff.click("button[name=action][value=share]")
    staff.wait_for_load_state()
    _move(staff, "labelled", "Labellisé par le bureau Diagnostic biologique.")
    journey.shot(staff, "labelled")
    _move(staff, "submitted_to_funder")
    staff.select_option("#id_funding-funder", "bpifrance")
    staff.fill("#id_funding-programme", "i-Nov")
    staff.select_option("#id_funding-scope", "national")
    staff.fill("#id_funding-amount_requested", "1100000")
    staff.fill("#id_funding-amount_granted", "950000")
    staff.fill("#id_funding-public_aid", "950000")
    staff.fill("#id_funding-decision_date", datetime.date.today().isoformat())
    staff.fill("#id_funding-total_investment", "2400000")
    journey.shot(staff, "funding-decision")
    staff.click("#funding-form button[type=submit]")
    staff.wait_for_load_state()
    _move(staff, "funded", "Bpifrance i-Nov\u202f: 950 000 €.")
    journey.shot(staff, "funded")
    assert stack.db.value("SELECT status FROM projects_project WHERE id = %s", project_id) == "funded"
    events = stack.db.rows("SELECT to_status FROM projects_projectevent WHERE project_id = %s ORDER BY id", project_id)
    assert [status for (status,) in events] == [
        "submitted", "under_review", "labelled", "submitted_to_funder", "funded",
    ]  # fmt: skip

    # 4. The public dashboard counts one more funded project.
    after = _funded_figure(public, url)
    journey.shot(public, "impact-after")
    assert int(after) == int(before) + 1, (before, after)

    # 5. The proposer reads the outcome: the timeline and the shared comments, no reviewer name.
    contact = journey.page(login=CONTACT_EMAIL, password=NEW_PASSWORD)
    contact.goto(f"{url}/projects/")
    contact.click(f"main a[href='/projects/{project_id}/']")
    contact.wait_for_load_state()
    text = contact.inner_text("main")
    assert "Besoin clinique fort" in text and "Labellisé par le bureau Diagnostic biologique." in text
    assert "Sallette" not in text
    journey.shot(contact, "proposer-reads-outcome")

    # 6. The proposer got an e-mail for each step staff made (sent by the outbox's worker); none
    #    about their own submission, and staff none about their own moves.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = stack.db.rows(
            "SELECT m.status FROM projects_notification n JOIN projects_projectevent e ON e.id = n.event_id"
            " JOIN outbox_message m ON m.id = n.message_id WHERE e.project_id = %s",
            project_id,
        )
        if states and all(state == "sent" for (state,) in states):
            break
        time.sleep(0.5)
    assert {state for (state,) in states} == {"sent"}, states
    to_contact = [mail for mail in stack.mails() if CONTACT_EMAIL in mail["to"]]
    assert len(to_contact) == 1 + 4, [mail["subject"] for mail in to_contact]  # the invitation, then one per staff move


def _admin_datetime(page, field: str, moment: datetime.datetime) -> None:
    """Fill an admin date-and-time field in French (dd/mm/yyyy, hh:mm)."""
    page.fill(f"#id_{field}_0", moment.strftime("%d/%m/%Y"))
    page.fill(f"#id_{field}_1", moment.strftime("%H:%M"))


def test_a_call_from_opening_to_the_labelling_letter(journey, stack, tmp_path):
    """Journey 5: staff open a call, the contact proposes a project for it, it is reviewed, a
    committee session labels it, the contact downloads the letter and anyone can check it."""
    from io import BytesIO

    from pypdf import PdfReader

    url, cast = stack.url, stack.cast
    if not stack.db.value("SELECT count(*) FROM members_user WHERE email = %s", CONTACT_EMAIL):
        pytest.fail("journey 2 (the contact's account) must run first: pytest -m e2e tests/e2e")
    size = {"width": 1280, "height": 800}
    paris = ZoneInfo("Europe/Paris")
    today = datetime.datetime.now(paris).replace(second=0, microsecond=0)

    # 1. Staff open a call in the admin, published, its internal deadline in a month.
    staff = journey.page(login=STAFF_EMAIL)
    staff.set_viewport_size(size)
    staff.goto(f"{url}/admin/calls/call/add/")
    staff.select_option("#id_funder", "bpifrance")
    staff.fill("#id_programme", "i-Démo")
    staff.fill("#id_title_fr", "i-Démo 2027 — diagnostic rapide")
    staff.fill("#id_title_en", "i-Démo 2027 — rapid diagnostics")
    staff.fill("#id_description_fr", "Projets collaboratifs de diagnostic au lit du patient.")
    staff.fill("#id_opens_on", (today - datetime.timedelta(days=1)).strftime("%d/%m/%Y"))
    _admin_datetime(staff, "internal_deadline", (today + datetime.timedelta(days=30)).replace(hour=23, minute=59))
    _admin_datetime(staff, "funder_deadline", (today + datetime.timedelta(days=51)).replace(hour=12, minute=0))
    staff.check("#id_is_published")
    journey.shot(staff, "staff-call-form")
    staff.click("input[name=_save]")
    staff.wait_for_load_state()
    call_id = stack.db.value("SELECT id FROM calls_call WHERE title_fr = %s", "i-Démo 2027 — diagnostic rapide")
    assert call_id, staff.inner_text("#content")

    # 2. The contact finds the call and proposes a project for it from its page.
    contact = journey.page(login=CONTACT_EMAIL, password=NEW_PASSWORD)
    contact.set_viewport_size(size)
    contact.goto(f"{url}/calls/")
    contact.click(f"main a[href='/calls/{call_id}/']")
    contact.wait_for_load_state()
    journey.shot(contact, "call-page")
    contact.click(f"main a[href='/projects/new/?call={call_id}']")
    contact.wait_for_load_state()
    contact.fill("#id_title", "Rapid sepsis panel for emergency departments")
    contact.fill("#id_acronym", "DIAGCALL")
    contact.fill("#id_summary", "A point-of-care panel for sepsis in emergency departments.")
    contact.fill("#id_objectives", "Validate the panel on 200 patients in two hospitals.")
    contact.select_option("#id_primary_area", str(cast["area"]))
    contact.check("input[name=kind][value=collaborative]")
    contact.fill("#id_trl_start", "4")
    contact.fill("#id_trl_target", "7")
    contact.fill("#id_duration_months", "30")
    contact.fill("#id_total_budget", "1800000")
    contact.fill("#id_requested_aid", "700000")
    contact.fill("#id_partners-0-budget_share", "50")
    _pick(contact, 1, cast["partner"], "Imaging Partner SA")
    contact.select_option("#id_partners-1-role", "partner")
    contact.fill("#id_partners-1-budget_share", "30")
    contact.fill("#id_partners-1-contact_name", "Marc Lefèvre")
    _pick(contact, 2, cast["hospital"], "Hôpital Saint-Louis (AP-HP)")
    contact.select_option("#id_partners-2-role", "partner")
    contact.fill("#id_partners-2-budget_share", "20")
    contact.fill("#id_partners-2-contact_name", "Prof. Anne Roux")
    journey.shot(contact, "proposal-for-the-call")
    contact.click("button[name=action][value=draft]")
    contact.wait_for_load_state()
    contact.click("button[name=action][value=submit]")
    contact.wait_for_load_state()
    journey.shot(contact, "proposal-submitted")
    ((project_id, status, call),) = stack.db.rows(
        "SELECT id, status, call_id FROM projects_project WHERE acronym = 'DIAGCALL'"
    )
    assert (status, call) == ("submitted", call_id)

    # 3. Staff start the review and assign the board president, who recommends the label.
    staff.goto(f"{url}/projects/{project_id}/manage/")
    _move(staff, "under_review")
    staff.click(f"button[data-assign='{cast['kol_person']}']")
    staff.wait_for_load_state()
    kol = journey.page(login=KOL_EMAIL)
    kol.set_viewport_size(size)
    review_id = stack.db.value("SELECT id FROM projects_review WHERE project_id = %s", project_id)
    kol.goto(f"{url}/projects/reviews/{review_id}/")
    criteria = ["score_innovation", "score_impact", "score_consortium", "score_feasibility", "score_market"]
    for criterion, score in zip(criteria, [4, 5, 4, 4, 3], strict=True):
        kol.check(f"input[name={criterion}][value='{score}']")
    kol.select_option("#id_recommendation", "label")
    kol.fill("#id_comments", "Panel utile aux urgences\u202f; consortium complet.")
    kol.click("#review-form button[type=submit]")
    kol.wait_for_load_state()
    assert stack.db.value("SELECT state FROM projects_review WHERE id = %s", review_id) == "submitted"

    # 4. Staff plan a committee session of the area in the admin and put the proposal on its agenda.
    staff.goto(f"{url}/admin/committees/session/add/")
    staff.select_option("#id_area", str(cast["area"]))
    _admin_datetime(staff, "held_at", (today + datetime.timedelta(days=2)).replace(hour=14, minute=0))
    staff.fill("#id_place", "Medicen, salle du conseil")
    staff.click("#items-group .add-row a")
    staff.click("#items-group tr.dynamic-items .select2-selection")
    staff.fill(".select2-container--open .select2-search__field", "DIAGCALL")
    staff.click(".select2-results__option:has-text('DIAGCALL')")
    journey.shot(staff, "staff-session-form")
    staff.click("input[name=_save]")
    staff.wait_for_load_state()
    session_id = stack.db.value("SELECT session_id FROM committees_item WHERE project_id = %s", project_id)
    assert session_id, staff.inner_text("#content")

    # 5. On the session's page staff record "labelled" (confirmed): the letter is issued.
    staff.goto(f"{url}/committees/{session_id}/")
    item_id = stack.db.value("SELECT id FROM committees_item WHERE project_id = %s", project_id)
    staff.select_option(f"select[name=decision-{item_id}]", "labelled")
    journey.shot(staff, "staff-session-decision")
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.click("main form button[type=submit]")
    staff.wait_for_load_state()
    journey.shot(staff, "staff-session-decided")
    assert stack.db.value("SELECT status FROM projects_project WHERE id = %s", project_id) == "labelled"
    reference = stack.db.value("SELECT reference FROM committees_letter WHERE project_id = %s", project_id)
    assert reference
    mail = wait_for_mail(stack, to=CONTACT_EMAIL, subject_contains="Lettre de labellisation")
    assert "DIAGCALL" in mail["Subject"]
    assert any(part.get_content_type() == "application/pdf" for part in mail.walk())

    # 6. The lead contact finds the letter on the project's page and downloads it.
    contact.goto(f"{url}/projects/{project_id}/")
    assert reference in contact.inner_text("main")
    journey.shot(contact, "project-with-letter")
    with contact.expect_download() as download:
        contact.click(f"main a[href='/committees/letters/{project_id}.pdf']")
    pdf = download.value.path().read_bytes()
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert reference in text and "DIAGCALL" in text, text[:500]

    # 7. Anyone holding the reference checks it is genuine; a forged one is refused.
    public = journey.page()
    public.set_viewport_size(size)
    public.goto(f"{url}/labels/{reference}/")
    assert reference in public.inner_text("main") and "DIAGCALL" in public.inner_text("main")
    assert public.locator("main .alert-success").count() == 1
    journey.shot(public, "letter-genuine")
    forged_reference = reference[:-4] + ("YYYY" if reference.endswith("ZZZZ") else "ZZZZ")
    forged = public.goto(f"{url}/labels/{forged_reference}/")
    assert forged.status == 404
    assert "DIAGCALL" not in public.inner_text("main")
    journey.shot(public, "letter-forged")
