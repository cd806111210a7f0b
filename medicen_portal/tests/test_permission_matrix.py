"""The permission matrix, generated from the URL configuration (as pretix does).

Every named URL of the portal must appear in exactly one of PUBLIC, EXEMPT or MATRIX, so a
new page that nobody thought about fails this test. For each MATRIX page:
anonymous → redirect to login; a user of another organisation → 404; a user with the
wrong role → 403; the right user → 200.

One more role, "staff without a verified second factor" (ADMIN_REQUIRE_2FA on), is checked in
test_second_factor.py over every page of this matrix whose right user is staff: 403 or 404
with a link to verify, then the page itself once the session is verified.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from projects.models import Review

if TYPE_CHECKING:
    from medicen_portal.tests.conftest import World

# Pages anyone may see.
PUBLIC = {
    "das:home",
    "das:area_list",
    "das:area_detail",
    "members:directory",
    "members:organisation",
    "impact:dashboard",
    "impact:csv",
    "calls:list",
    "calls:detail",
    "calls:ics",
    "calls_json",
    "label_verify",
    "join",
    "join_done",
}
PUBLIC_KWARGS = {
    "members:organisation": lambda world: {"slug": world.objects["organisation_a"].slug},
    "calls:detail": lambda world: {"pk": world.objects["call"].pk},
    "das:area_detail": lambda world: {"code": "imaging"},
    "label_verify": lambda world: {"reference": world.objects["letter"].reference},
}

# Named URLs outside the matrix, each with the reason.
EXEMPT = {
    "login": "the login page itself",
    "logout": "POST-only, ends a session",
    "password_change": "Django auth view: login required, no object",
    "password_change_done": "Django auth view: login required, no object",
    "password_reset": "public by design: asks for an e-mail address",
    "password_reset_done": "public by design",
    "password_reset_confirm": "signed, expiring token in the URL",
    "password_reset_complete": "public by design",
    "set_language": "switches the language, no data",
    "two_factor_setup": "login required, acts only on the caller's own account",
    "two_factor_verify": "login required, verifies only the caller's own session",
    "two_factor_backup_codes": "login required and POST-only, replaces only the caller's own codes",
    "members:invitation": "signed, expiring token; tampered and expired links refused in members/tests",
    "members:logo": "public image of a listed organisation; type and access tested in members/tests",
    "meetings:meeting_rsvp": "signed RSVP token, no login by design; tampering and lateness refused in das/tests",
    "calls:unsubscribe": "signed token naming the person; tampering refused in calls/tests",
    "meetings:meeting_feed": "private calendar feed whose secret is the URL; reset tested in das/tests",
    "meetings:meeting_rsvp_ics": "signed RSVP token, no login by design; withdrawn invitations refused in das/tests",
}


@dataclass
class Page:
    """One member-facing page: how to build its URL and who is who for it."""

    kwargs: Callable[[World], dict] = lambda world: {}
    right: str = "contact_a"  # may use the page: `ok`
    other_organisation: str | None = "contact_b"  # must not learn it exists: 404
    wrong_role: str | None = None  # authenticated but not allowed: 403
    method: str = "get"
    ok: int = 200  # 302 for POST-only actions, which redirect after doing their work
    # A person whose invitation to the meeting was withdrawn: must not see it any more (404).
    withdrawn: str | None = None
    data: Callable[[World], dict] = lambda world: {}  # what a POST sends


def _slug(world):
    return {"slug": world.objects["organisation_a"].slug}


def _colleague(world):
    return {"slug": world.objects["organisation_a"].slug, "pk": world.users["colleague_a"].person.pk}


def _project(world):
    return {"pk": world.objects["project"].pk}


def _meeting(world):
    return {"pk": world.objects["meeting"].pk}


def _session(world):
    return {"pk": world.objects["session"].pk}


MATRIX: dict[str, Page] = {
    # labelling committees: staff and the session's members; the letter as the project
    "committees:list": Page(right="kol_a", other_organisation=None),
    "committees:detail": Page(kwargs=_session, right="kol_a", other_organisation="kol_b"),
    "committees:decide": Page(
        kwargs=_session, right="staff", other_organisation="kol_b", wrong_role="kol_a", method="post", ok=302
    ),
    "committees:dossier": Page(
        kwargs=lambda world: {"pk": world.objects["session"].pk, "item_pk": world.objects["item"].pk},
        right="kol_a",
        other_organisation="kol_b",
    ),
    "committees:dossiers_zip": Page(kwargs=_session, right="kol_a", other_organisation="kol_b"),
    "committees:minutes": Page(kwargs=_session, right="kol_a", other_organisation="kol_b"),
    "committees:letter": Page(kwargs=lambda world: {"project_pk": world.objects["project"].pk}),
    # accounts: one's own data only, no object in the URL
    "my_data": Page(other_organisation=None),
    # members
    "members:mine": Page(ok=302, other_organisation=None),
    "members:edit": Page(kwargs=_slug, wrong_role="colleague_a"),
    "members:membership": Page(kwargs=_slug),
    # members' billing and colleagues: billing/primary contacts see invoices, primary contacts manage colleagues
    "members:billing": Page(kwargs=_slug, wrong_role="colleague_a"),
    "members:billing_edit": Page(kwargs=_slug, wrong_role="colleague_a"),
    "members:invoice_pdf": Page(
        kwargs=lambda world: {"slug": world.objects["organisation_a"].slug, "number": world.objects["invoice"].number},
        wrong_role="colleague_a",
    ),
    "members:contacts": Page(kwargs=_slug, wrong_role="colleague_a"),
    "members:contact_roles": Page(kwargs=_colleague, wrong_role="colleague_a", method="post", ok=302),
    "members:contact_remove": Page(kwargs=_colleague, wrong_role="colleague_a", method="post", ok=302),
    "members:contact_invite": Page(kwargs=_colleague, wrong_role="colleague_a", method="post", ok=302),
    # projects: the proposing organisation's contacts; reviewers see only what they are assigned
    "projects:list": Page(other_organisation=None),
    "projects:create": Page(other_organisation=None, wrong_role="kol_a"),
    # the partner picker's search: member contacts (listed members) and staff (all)
    "projects:organisation_search": Page(other_organisation=None, wrong_role="kol_a"),
    "projects:reviews": Page(right="kol_a", other_organisation=None, wrong_role=None),
    "projects:review": Page(
        kwargs=lambda world: {"review_pk": world.objects["review"].pk}, right="kol_a", other_organisation="kol_b"
    ),
    # the review page's two actions, each its own URL: the reviewer only
    "projects:review_submit": Page(
        kwargs=lambda world: {"review_pk": world.objects["review"].pk},
        right="kol_a",
        other_organisation="kol_b",
        method="post",
        ok=400,  # an empty form: the page again, with what is missing
    ),
    "projects:review_conflict": Page(
        kwargs=lambda world: {"review_pk": world.objects["review"].pk},
        right="kol_a",
        other_organisation="kol_b",
        method="post",
        ok=302,
        data=lambda world: {"reason": "I advise the proposing company."},
    ),
    "projects:detail": Page(kwargs=_project),
    "projects:edit": Page(kwargs=_project, wrong_role="kol_a"),
    "projects:transition": Page(kwargs=_project, method="post", ok=302),
    "projects:manage": Page(kwargs=_project, right="staff"),
    # the manage page's actions: staff only; others do not learn the page exists (404)
    "projects:reviewer_invite": Page(
        kwargs=_project,
        right="staff",
        method="post",
        ok=302,
        data=lambda world: {"person": world.objects["expert"].pk},
    ),
    "projects:reviewer_assign": Page(
        kwargs=_project,
        right="staff",
        method="post",
        ok=302,
        data=lambda world: {"reviewer": world.users["kol_a"].person.pk},
    ),
    "projects:review_share": Page(
        kwargs=lambda world: {"pk": world.objects["project"].pk, "review_pk": world.objects["review"].pk},
        right="staff",
        method="post",
        ok=302,
        data=lambda world: {"action": "share"},
    ),
    # an empty form comes back with its errors
    "projects:funding": Page(kwargs=_project, right="staff", method="post", ok=400),
    "projects:product": Page(kwargs=_project, right="staff", method="post", ok=400),
    "projects:attachment_upload": Page(kwargs=_project, method="post", ok=302, wrong_role="kol_a"),
    "projects:attachment": Page(
        kwargs=lambda world: {"pk": world.objects["project"].pk, "attachment_pk": world.objects["attachment"].pk}
    ),
    "projects:attachment_delete": Page(
        kwargs=lambda world: {"pk": world.objects["project"].pk, "attachment_pk": world.objects["attachment"].pk},
        method="post",
        ok=302,
    ),
    # meetings: staff manage; KOLs see the committee and their own board; a KOL of another
    # board must not learn a board meeting exists; member contacts have no business there
    "meetings:meeting_list": Page(right="kol_a", other_organisation=None, wrong_role="contact_a"),
    "meetings:meeting_create": Page(right="staff", other_organisation=None, wrong_role="kol_a"),
    "meetings:meeting_detail": Page(
        kwargs=_meeting, right="kol_a", other_organisation="kol_b", withdrawn="withdrawn_a"
    ),
    "meetings:meeting_ics": Page(kwargs=_meeting, right="kol_a", other_organisation="kol_b", withdrawn="withdrawn_a"),
    "meetings:meeting_send": Page(
        kwargs=lambda world: {"pk": world.objects["draft"].pk},
        right="staff",
        other_organisation="kol_b",
        wrong_role=None,  # a draft is staff-only: everyone else gets 404
        method="post",
        ok=302,
    ),
    "meetings:meeting_edit": Page(kwargs=_meeting, right="staff", other_organisation="kol_b", wrong_role="kol_a"),
    "meetings:meeting_cancel": Page(
        kwargs=_meeting, right="staff", other_organisation="kol_b", wrong_role="kol_a", method="post", ok=302
    ),
    "meetings:meeting_invite": Page(
        kwargs=_meeting, right="staff", other_organisation="kol_b", wrong_role="kol_a", method="post", ok=302
    ),
    "meetings:meeting_uninvite": Page(
        kwargs=lambda world: {"pk": world.objects["meeting"].pk, "invitation_pk": world.objects["invitation"].pk},
        right="staff",
        other_organisation="kol_b",
        wrong_role="kol_a",
        method="post",
        ok=302,
    ),
    "meetings:meeting_respond": Page(
        kwargs=_meeting, right="kol_a", other_organisation="kol_b", method="post", ok=302, withdrawn="withdrawn_a"
    ),
    "meetings:meeting_agenda_add": Page(
        kwargs=_meeting, right="staff", other_organisation="kol_b", wrong_role="kol_a", method="post", ok=302
    ),
    "meetings:meeting_agenda_remove": Page(
        kwargs=lambda world: {"pk": world.objects["meeting"].pk, "item_pk": world.objects["agenda_item"].pk},
        right="staff",
        other_organisation="kol_b",
        wrong_role="kol_a",
        method="post",
        ok=302,
    ),
    "meetings:meeting_outcome": Page(kwargs=_meeting, right="staff", other_organisation="kol_b", wrong_role="kol_a"),
    "meetings:meeting_feed_reset": Page(
        right="kol_a", other_organisation=None, wrong_role="contact_a", method="post", ok=302
    ),
    "meetings:topic_list": Page(right="kol_a", other_organisation=None, wrong_role="contact_a"),
    "meetings:topic_vote": Page(
        kwargs=lambda world: {"pk": world.objects["topic"].pk},
        right="kol_a",
        other_organisation=None,
        wrong_role="contact_a",
        method="post",
        ok=302,
    ),
    "meetings:topic_selected": Page(right="kol_a", other_organisation=None, wrong_role="contact_a"),
}


def _named_urls() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue  # the admin has its own permission system (staff + 2FA)
                inner = pattern.namespace if namespace is None else f"{namespace}:{pattern.namespace}"
                walk(pattern.url_patterns, inner if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_named_url_is_in_the_permission_matrix():
    names = _named_urls()
    listed = PUBLIC | set(EXEMPT) | set(MATRIX)

    assert sorted(names - listed) == [], "add these URLs to the permission matrix"
    assert sorted(listed - names) == [], "these matrix entries name no URL"
    assert not (PUBLIC & set(MATRIX)), "a URL is both public and protected"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_pages_answer_anonymous_visitors(client, world, name):
    kwargs = PUBLIC_KWARGS.get(name, lambda world: {})(world)

    assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


def _request(client, page: Page, url: str, world: World | None = None):
    if page.method == "post" and world is not None:
        return client.post(url, page.data(world))
    return getattr(client, page.method)(url)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous_visitors_are_sent_to_login(client, world, name):
    page = MATRIX[name]
    url = reverse(name, kwargs=page.kwargs(world))

    response = _request(client, page, url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(n for n, p in MATRIX.items() if p.other_organisation))
def test_users_of_another_organisation_get_404(client, world, name):
    page = MATRIX[name]
    client.force_login(world.users[page.other_organisation])

    assert _request(client, page, reverse(name, kwargs=page.kwargs(world))).status_code == 404


@pytest.mark.parametrize("name", sorted(n for n, p in MATRIX.items() if p.wrong_role))
def test_users_with_the_wrong_role_get_403(client, world, name):
    page = MATRIX[name]
    client.force_login(world.users[page.wrong_role])

    assert _request(client, page, reverse(name, kwargs=page.kwargs(world))).status_code == 403


@pytest.mark.parametrize("name", sorted(n for n, p in MATRIX.items() if p.withdrawn))
def test_people_whose_invitation_was_withdrawn_get_404(client, world, name):
    page = MATRIX[name]
    client.force_login(world.users[page.withdrawn])

    assert _request(client, page, reverse(name, kwargs=page.kwargs(world))).status_code == 404


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_the_right_user_gets_the_page(client, world, name):
    page = MATRIX[name]
    client.force_login(world.users[page.right])

    assert _request(client, page, reverse(name, kwargs=page.kwargs(world)), world).status_code == page.ok


# Roles beyond the three of each page: what a consortium partner and a reviewer in conflict get.
def _attachment(world):
    return {"pk": world.objects["project"].pk, "attachment_pk": world.objects["attachment"].pk}


OTHER_ROLES = [
    # a contact of a partner organisation (not the proposer) reads the proposal, changes nothing
    ("partner_c", "projects:detail", _project, "get", 200),
    ("partner_c", "projects:attachment", _attachment, "get", 200),
    ("partner_c", "projects:edit", _project, "get", 403),
    ("partner_c", "projects:attachment_delete", _attachment, "post", 403),
    ("partner_c", "projects:manage", _project, "get", 404),
    ("partner_c", "projects:reviews", lambda world: {}, "get", 200),
    # a reviewer who declared a conflict: the proposal and its documents are gone
    ("kol_conflict", "projects:detail", _project, "get", 404),
    ("kol_conflict", "projects:attachment", _attachment, "get", 404),
    ("kol_conflict", "projects:review", lambda world: {"review_pk": world.objects["conflict_review"].pk}, "get", 200),
    ("kol_conflict", "projects:review", lambda world: {"review_pk": world.objects["review"].pk}, "get", 404),
    ("staff", "projects:review_conflict", lambda world: {"review_pk": world.objects["review"].pk}, "post", 404),
    # a reviewer whose organisation is in the consortium: their review page shows nothing (below)
    ("kol_set_aside", "projects:review", lambda world: {"review_pk": world.objects["set_aside_review"].pk}, "get", 200),
    ("kol_set_aside", "projects:manage", _project, "get", 404),
    # a reviewer whose mandate's organisation is in the consortium (not a contact of it): nothing
    ("kol_affiliated", "projects:detail", _project, "get", 404),
    ("kol_affiliated", "projects:attachment", _attachment, "get", 404),
    (
        "kol_affiliated",
        "projects:review",
        lambda world: {"review_pk": world.objects["affiliated_review"].pk},
        "get",
        200,
    ),
]


@pytest.mark.parametrize(("role", "name", "kwargs", "method", "status"), OTHER_ROLES)
def test_other_roles_get_what_their_role_allows(client, world, role, name, kwargs, method, status):
    client.force_login(world.users[role])

    assert getattr(client, method)(reverse(name, kwargs=kwargs(world))).status_code == status


@pytest.mark.parametrize(
    "role, review",
    [
        ("kol_conflict", "conflict_review"),
        ("kol_set_aside", "set_aside_review"),
        ("kol_affiliated", "affiliated_review"),
    ],
)
def test_a_review_in_conflict_shows_nothing_of_the_proposal_and_cannot_be_submitted(client, world, role, review):
    client.force_login(world.users[role])
    review = world.objects[review]
    project = world.objects["project"]
    url = reverse("projects:review", kwargs={"review_pk": review.pk})

    page = client.get(url).content.decode()
    client.post(url, {"action": "review", **dict.fromkeys(Review.CRITERIA, 5), "recommendation": "label"})

    for secret in (project.summary, project.objectives, "annex.pdf", "Gamma Clinic"):
        assert secret not in page
    review.refresh_from_db()
    assert review.state != Review.State.SUBMITTED
