import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _login(client: Client, email: str, password: str, ip: str = "198.51.100.7", **headers):
    return client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip, **headers)


def _fail(client: Client, email: str, times: int, **kwargs) -> None:
    for _ in range(times):
        assert _login(client, email, "wrong-password", **kwargs).status_code in (200, 429)


@pytest.fixture
def alice():
    return UserFactory(email="alice@biotech.example")


@pytest.fixture
def bob():
    return UserFactory(email="bob@biotech.example")


def test_after_five_failures_even_the_right_password_is_refused_with_a_clear_message(client, alice):
    _fail(client, alice.email, 5)

    response = _login(client, alice.email, PASSWORD)

    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert 'data-portal-error="429"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_is_for_one_account_from_one_client(client, alice, bob):
    _fail(client, alice.email, 5)

    assert _login(Client(), bob.email, PASSWORD).status_code == 302
    assert _login(Client(), alice.email, PASSWORD, ip="203.0.113.50").status_code == 302


def test_a_forged_forwarded_for_header_does_not_bypass_the_lock(client, alice):
    for n in range(5):
        _login(client, alice.email, "wrong-password", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    response = _login(Client(), alice.email, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200")

    assert response.status_code == 429


def test_a_forged_forwarded_for_header_does_not_lock_out_the_user_it_names(client, alice):
    # An attacker elsewhere claims to be alice's address while guessing her password.
    _fail(client, alice.email, 6, ip="203.0.113.66", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert _login(Client(), alice.email, PASSWORD, ip="198.51.100.7").status_code == 302


def test_behind_one_trusted_proxy_the_client_is_the_address_the_proxy_saw(client, alice, settings):
    settings.TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    # The attacker prepends forged entries; the proxy appends the real one (203.0.113.66).
    for n in range(5):
        _login(client, alice.email, "nope", ip=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.66")

    locked = _login(Client(), alice.email, PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.66")
    other_client = _login(Client(), alice.email, PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert locked.status_code == 429
    assert other_client.status_code == 302


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/admin/login/"])
def test_security_headers_are_on_portal_and_admin_pages(client, url):
    response = client.get(url)

    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_hsts_and_secure_cookies_in_production(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.CSRF_COOKIE_SECURE = True

    response = client.get("/accounts/login/", secure=True)

    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.cookies["csrftoken"]["secure"]


def test_pages_have_no_inline_script(client):
    for url in ["/", "/accounts/login/", "/admin/login/"]:
        text = client.get(url).content.decode()
        assert "<script>" not in text
        assert " onclick=" not in text


def test_staff_without_a_second_factor_are_kept_out_of_the_admin_when_it_is_required(client, superuser, settings):
    settings.ADMIN_REQUIRE_2FA = True
    client.force_login(superuser)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_log_in_to_the_admin_with_password_and_totp_code(client, superuser, settings):
    settings.ADMIN_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()

    without_code = client.post(
        "/admin/login/?next=/admin/", {"username": superuser.email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.9"
    )
    with_code = client.post(
        "/admin/login/?next=/admin/",
        {"username": superuser.email, "password": PASSWORD, "otp_device": device.persistent_id, "otp_token": str(code)},
        REMOTE_ADDR="198.51.100.9",
    )

    assert without_code.status_code == 200
    assert with_code.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_staff_enrol_an_authenticator_and_then_reach_the_admin(client, superuser, settings):
    settings.ADMIN_REQUIRE_2FA = True
    client.force_login(superuser)

    asks_password = client.get("/accounts/two-factor/")
    client.post("/accounts/two-factor/", {"password": PASSWORD})
    page = client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=superuser, confirmed=False)
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    confirmed = client.post("/accounts/two-factor/", {"token": str(code).zfill(6)})

    assert "<svg" not in asks_password.content.decode()
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    assert confirmed.status_code == 200
    assert TOTPDevice.objects.get(user=superuser).confirmed
    assert client.get("/admin/").status_code == 200


def test_a_wrong_enrolment_code_is_refused(client, superuser):
    client.force_login(superuser)
    client.post("/accounts/two-factor/", {"password": PASSWORD})
    client.get("/accounts/two-factor/")

    response = client.post("/accounts/two-factor/", {"token": "000000"})

    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=superuser, confirmed=True).exists()
