"""Pages that are wiring rather than domain: the second factor (enrol, verify, backup codes), the favicon.

Enrolment asks for the password again first: a session opened with a stolen or forgotten-open
password alone must not be able to attach its own authenticator to a staff account. The QR
code is drawn only after that, for a device created then (an earlier unconfirmed one is
discarded: its secret may have been seen). The owner is e-mailed whenever a device or a new
set of backup codes is added, so an unexpected one is noticed.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import PasswordResetView
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from medicen_portal.errors import render_error
from medicen_portal.security import client_ip
from outbox.services import message_enqueue

logger = logging.getLogger(__name__)

BACKUP_CODES = 10
REAUTH_SESSION_KEY = "two_factor_password_confirmed_at"
REAUTH_SECONDS = 10 * 60


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code shown by your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class VerifyForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code from your authenticator app, or a backup code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class PasswordForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("This password is not correct."))
        return password


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def _next_url(request: HttpRequest, default: str = "/") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def notify_second_factor_change(*, user, what: str) -> None:
    """E-mail the account's owner that a second factor was added to it (through the outbox).

    Call inside the transaction that adds it: the e-mail exists only if the change is committed.
    Each change is its own e-mail (a fresh key), and it is retried like any other.
    """
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {"user": user, "what": what, "when": timezone.localtime(), "site_url": settings.SITE_URL}
        message_enqueue(
            key=f"account-second-factor:{user.pk}:{uuid.uuid4().hex}",
            kind="account.second_factor",
            to=[user.email],
            subject=_("A second factor was added to your Medicen Portal account"),
            body=render_to_string("registration/emails/second_factor_added.txt", context),
            language=language,
        )


def _new_backup_codes(user) -> list[str]:
    """Replace the account's backup codes with a fresh set; each works once."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name="backup", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _password_recently_confirmed(request: HttpRequest) -> bool:
    confirmed_at = request.session.get(REAUTH_SESSION_KEY)
    return confirmed_at is not None and timezone.now().timestamp() - confirmed_at < REAUTH_SECONDS


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: password again, then scan the QR code and confirm a first code."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed:
        context = {
            "confirmed": confirmed,
            "backup_codes_left": StaticToken.objects.filter(device__user=user).count(),
            "verified": user.is_verified(),
        }
        return render(request, "registration/two_factor.html", context)

    if not _password_recently_confirmed(request):
        form = PasswordForm(request.POST or None, user=user)
        if request.method == "POST" and form.is_valid():
            request.session[REAUTH_SESSION_KEY] = timezone.now().timestamp()
            # A fresh secret, drawn only now: an earlier unconfirmed one may have been seen.
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            return redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': _next_url(request, '')})}")
        return render(request, "registration/two_factor.html", {"password_form": form, "next": _next_url(request, "")})

    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": _("Authenticator app")}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = _new_backup_codes(user)
                notify_second_factor_change(user=user, what=_("an authenticator app and backup codes"))
            request.session.pop(REAUTH_SESSION_KEY, None)
            otp_login(request, device)
            messages.success(request, _("Two-factor authentication is on for your account."))
            # Shown once, in this response: they are not kept anywhere readable.
            context = {"backup_codes": codes, "next": _next_url(request, "")}
            return render(request, "registration/two_factor_backup_codes.html", context)
        form.add_error("token", _("This code is not valid. Check your device's clock and try the next code."))
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret": device.bin_key.hex(),
        "next": _next_url(request, ""),
    }
    return render(request, "registration/two_factor.html", context)


@login_required
@require_POST
def two_factor_backup_codes(request: HttpRequest) -> HttpResponse:
    """A new set of backup codes (the old ones stop working), from a verified session only."""
    if not (request.user.is_verified() and user_has_device(request.user, confirmed=True)):
        return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': reverse('two_factor_setup')})}")
    with transaction.atomic():
        codes = _new_backup_codes(request.user)
        notify_second_factor_change(user=request.user, what=_("a new set of backup codes"))
    return render(request, "registration/two_factor_backup_codes.html", {"backup_codes": codes, "next": ""})


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Confirm this session with the authenticator's code or a backup code, then go on."""
    user = request.user
    if not user_has_device(user, confirmed=True):
        return redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': _next_url(request, '')})}")
    if user.is_verified():
        return redirect(_next_url(request))
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", _("This code is not valid. Check your device's clock and try the next code."))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request, "")})


class RateLimitedPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending at most one e-mail per address per interval, through the outbox.

    The page answers the same whether or not an e-mail went out, so the limit reveals
    nothing about which addresses have accounts.
    """

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        digest = hashlib.sha256(to_email.strip().lower().encode()).hexdigest()
        if not cache.add(f"password-reset:email:{digest}", 1, settings.PASSWORD_RESET_EMAIL_INTERVAL_SECONDS):
            logger.info("Password reset e-mail not sent: one went to this address less than %s s ago",
                        settings.PASSWORD_RESET_EMAIL_INTERVAL_SECONDS)  # fmt: skip
            return
        # Rendered as Django's form does, then handed to the one mail path (docs/architecture.md):
        # claimed, sent once, retried after a 4xx, visible to staff if it fails. The key holds a
        # digest of the token, so a second request (a new token) is a new e-mail and a replay of this
        # one is not; never the token itself, which staff reading the outbox could use.
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        html = render_to_string(html_email_template_name, context) if html_email_template_name else ""
        with transaction.atomic():
            message_enqueue(
                key=f"password-reset:{context['user'].pk}:{hashlib.sha256(context['token'].encode()).hexdigest()[:32]}",
                kind="accounts.password-reset",
                to=[to_email],
                subject=subject,
                body=body,
                html=html,
                language=translation.get_language() or "",
                from_email=from_email or "",
            )


class PortalPasswordResetView(PasswordResetView):
    """Password reset, rate-limited per address (the form) and per client address (here, HTTP 429)."""

    form_class = RateLimitedPasswordResetForm

    def post(self, request, *args, **kwargs):
        key = f"password-reset:client:{client_ip(request)}"
        cache.add(key, 0, 3600)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, 3600)
            count = 1
        if count > settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR:
            return render_error(request, 429)
        return super().post(request, *args, **kwargs)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that declare no icon (error pages, downloads)."""
    # Resolved per request: the hashed name exists only once collectstatic has run.
    return HttpResponsePermanentRedirect(static("favicon.svg"))
