"""Cross-cutting security wiring: the admin's second factor and login throttling."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_otp import user_has_device
from django_otp.forms import OTPAuthenticationFormMixin


def client_ip(request: HttpRequest) -> str:
    """The client's address as seen by the first trusted proxy (TRUSTED_PROXIES).

    With no trusted proxy, X-Forwarded-For is ignored: anyone can forge it. With N, each
    proxy appended the address it received from, so the N-th entry from the right is the
    last one a trusted machine wrote; entries further left are whatever the client sent.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.TRUSTED_PROXIES == 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < settings.TRUSTED_PROXIES:
        return remote
    return forwarded[-settings.TRUSTED_PROXIES]


class RequestAxesBackend(AxesStandaloneBackend):
    """django-axes' throttling for every login that comes with a request.

    Django's test client and scripts call authenticate() without a request; axes would
    refuse them outright. Every login view of the portal passes the request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def needs_second_factor(user) -> bool:
    """Staff must present a TOTP code when 2FA is required, or once they enrolled a device."""
    return settings.ADMIN_REQUIRE_2FA or user_has_device(user, confirmed=True)


class AdminLoginForm(AdminAuthenticationForm, OTPAuthenticationFormMixin):
    """The admin login: e-mail, password and, for staff who need one, a TOTP code."""

    otp_device = forms.CharField(required=False, widget=forms.Select)
    otp_token = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}))
    otp_challenge = forms.CharField(required=False)

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and needs_second_factor(user):
            self.clean_otp(user)
        return cleaned


class PortalAdminSite(admin.AdminSite):
    site_header = "Medicen Portal"
    site_title = "Medicen Portal"
    login_form = AdminLoginForm
    login_template = "otp/admin111/login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        if needs_second_factor(request.user):
            return request.user.is_verified()
        return True


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked account/client pair: a page saying how long to wait."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)
