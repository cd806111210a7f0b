"""With ADMIN_REQUIRE_2FA, every staff capability needs a verified second factor, not only /admin/."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from medicen_portal.tests.test_permission_matrix import MATRIX, _request
from members.models import User
from outbox import services as outbox
from outbox.models import Message

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
STAFF_PAGES = sorted(name for name, page in MATRIX.items() if page.right == "staff")


def _code(device: TOTPDevice) -> str:
    return str(TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()).zfill(6)


def _verified_session(client: Client, user: User) -> TOTPDevice:
    """Log in with password and then the second factor, through the portal's own pages."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    response = client.post("/accounts/two-factor/verify/", {"token": _code(device)})
    assert response.status_code == 302
    return device


@pytest.fixture
def required(settings):
    settings.ADMIN_REQUIRE_2FA = True


def test_the_matrix_has_staff_only_pages_to_check():
    assert {"projects:manage", "meetings:meeting_create", "meetings:meeting_outcome"} <= set(STAFF_PAGES)


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_without_a_verified_second_factor_are_refused_every_staff_page(client, world, required, name):
    page = MATRIX[name]
    client.force_login(world.users["staff"])

    response = getattr(client, page.method)(reverse(name, kwargs=page.kwargs(world)))

    assert response.status_code in (403, 404)
    assert "/accounts/two-factor/verify/" in response.content.decode()


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_with_a_verified_second_factor_get_every_staff_page(client, world, required, name):
    page = MATRIX[name]
    _verified_session(client, world.users["staff"])

    response = _request(client, page, reverse(name, kwargs=page.kwargs(world)), world)

    assert response.status_code == page.ok


def test_the_detailed_impact_export_needs_the_second_factor(client, superuser, required):
    client.force_login(superuser)
    refused = client.get("/impact/export.csv?detail=1")
    verified = Client()
    _verified_session(verified, superuser)

    assert refused.status_code == 404
    assert verified.get("/impact/export.csv?detail=1").status_code == 200


def test_without_the_requirement_a_password_session_stays_staff(client, superuser, world, settings):
    settings.ADMIN_REQUIRE_2FA = False
    client.force_login(superuser)

    assert client.get(reverse("projects:manage", kwargs={"pk": world.objects["project"].pk})).status_code == 200


def test_the_navigation_hides_staff_links_until_the_session_is_verified(client, superuser, required):
    client.force_login(superuser)

    assert reverse("admin:index") not in client.get("/").content.decode()


def test_an_unverified_staff_session_never_loses_its_staff_flag_in_the_database(client, superuser, required):
    client.force_login(superuser)

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})  # saves request.user's language

    superuser.refresh_from_db()
    assert superuser.language == "en"
    assert superuser.is_staff and superuser.is_superuser


def test_staff_logging_in_are_sent_to_confirm_their_second_factor(client, superuser, required):
    response = client.post(
        "/accounts/login/?next=/projects/",
        {"username": superuser.email, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.2",
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/verify/")
    assert "next=%2Fprojects%2F" in response["Location"]


def test_staff_not_yet_enrolled_must_enter_their_password_again_before_seeing_a_secret(client, superuser, required):
    client.force_login(superuser)

    first = client.get("/accounts/two-factor/verify/?next=/projects/", follow=True)
    wrong = client.post("/accounts/two-factor/", {"password": "not-my-password"})

    assert "<svg" not in first.content.decode()
    assert 'type="password"' in first.content.decode()
    assert "<svg" not in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=superuser).exists()


def test_enrolling_e_mails_the_owner_and_shows_backup_codes_once(
    client, superuser, required, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(superuser)
    client.post("/accounts/two-factor/", {"password": PASSWORD})
    client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=superuser, confirmed=False)

    monkeypatch.setattr(outbox, "dispatch", outbox.send_synchronously())  # the outbox's worker, in this process

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/two-factor/", {"token": _code(device)})
        assert mailoutbox == []  # nothing leaves before the commit

    codes = list(StaticToken.objects.filter(device__user=superuser).values_list("token", flat=True))
    assert len(codes) == 10
    assert all(code in response.content.decode() for code in codes)
    assert Message.objects.get(kind="account.second_factor").to == [superuser.email]  # through the outbox
    assert [message.to for message in mailoutbox] == [[superuser.email]]
    assert "second factor" in mailoutbox[0].subject.lower() or "facteur" in mailoutbox[0].subject.lower()
    assert client.get(reverse("projects:list")).status_code == 200


def test_a_backup_code_verifies_a_session_once(client, superuser, required):
    TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    from medicen_portal.views import _new_backup_codes

    code = _new_backup_codes(superuser)[0]
    client.force_login(superuser)
    used = client.post("/accounts/two-factor/verify/", {"token": code})
    other = Client()
    other.force_login(superuser)
    reused = other.post("/accounts/two-factor/verify/", {"token": code})

    assert used.status_code == 302
    assert client.get(reverse("meetings:meeting_create")).status_code == 200
    assert reused.status_code == 200
    assert other.get(reverse("meetings:meeting_create")).status_code in (403, 404)


def test_a_wrong_code_does_not_verify_the_session(client, superuser, required):
    TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    client.force_login(superuser)

    response = client.post("/accounts/two-factor/verify/", {"token": "000000"})

    assert response.status_code == 200
    assert client.get(reverse("meetings:meeting_create")).status_code == 403


def test_new_backup_codes_need_a_verified_session_and_are_e_mailed(
    client, superuser, required, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    _verified_session(client, superuser)
    monkeypatch.setattr(outbox, "dispatch", outbox.send_synchronously())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/two-factor/backup-codes/")

    assert response.status_code == 200
    assert StaticToken.objects.filter(device__user=superuser).count() == 10
    assert len(mailoutbox) == 1
    assert Message.objects.filter(kind="account.second_factor", status="sent").count() == 1


def test_the_verify_page_does_not_redirect_elsewhere(client, superuser, required):
    device = TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    client.force_login(superuser)

    response = client.post("/accounts/two-factor/verify/?next=https://evil.example/", {"token": _code(device)})

    assert response["Location"] == "/"


def test_unverified_staff_opening_the_admin_are_sent_to_confirm_their_second_factor(client, superuser, required):
    TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    client.force_login(superuser)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/accounts/two-factor/verify/?next=%2Fadmin%2F")
    assert response.status_code == 200


def _device_queries(client: Client, path: str) -> tuple[int, int]:
    """(status, number of queries of the device tables) of one admin page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return response.status_code, sum(1 for query in captured if "otp_" in query["sql"])


def test_an_admin_page_looks_up_the_staffs_devices_once_and_still_refuses_an_unverified_enrolled_session(
    client, superuser, settings
):
    """Without ADMIN_REQUIRE_2FA: staff who enrolled a device need it verified; the lookup is not repeated per page."""
    settings.ADMIN_REQUIRE_2FA = False
    client.force_login(superuser)
    status, lookups = _device_queries(client, "/admin/members/organisation/")
    assert (status, lookups) == (200, 2)  # one query per kind of device (TOTP, backup codes), once

    TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    assert client.get("/admin/members/organisation/").status_code == 302  # to the admin's login

    verified = Client()
    _verified_session(verified, superuser)
    status, lookups = _device_queries(verified, "/admin/members/organisation/")
    assert status == 200
    assert lookups <= 3  # the session's device, then one lookup per kind of device
