"""Cross-cutting security wiring: the staff second factor, login throttling, refusing NUL bytes."""

from __future__ import annotations

import copy
from urllib.parse import urlencode

from axes.backends import AxesStandaloneBackend
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django_otp import user_has_device
from django_otp.forms import OTPAuthenticationFormMixin

from common.cache import cached
from common.http import client_ip  # noqa: F401  (settings.AXES_CLIENT_IP_CALLABLE names it here)


class RequestAxesBackend(AxesStandaloneBackend):
    """django-axes' throttling for every login that comes with a request.

    Django's test client and scripts call authenticate() without a request; axes would
    refuse them outright. Every login view of the portal passes the request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def normalised_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The login's e-mail in lower case, so axes counts A@X.TEST and a@x.test as one account."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return username.strip().lower() if isinstance(username, str) else username


def needs_second_factor(user) -> bool:
    """Staff must present a TOTP code when 2FA is required, or once they enrolled a device."""
    return settings.ADMIN_REQUIRE_2FA or user_has_device(user, confirmed=True)


def staff_must_verify() -> bool:
    """Every staff capability needs a verified second factor (ADMIN_REQUIRE_2FA)."""
    return settings.ADMIN_REQUIRE_2FA


def _keep_flags_when_saving(demoted, real_staff: bool, real_superuser: bool):
    """`save()` for a demoted copy: never writes its lowered is_staff/is_superuser back."""

    def save(*args, **kwargs):
        fields = kwargs.get("update_fields")
        if fields is None:
            fields = [f.name for f in type(demoted)._meta.concrete_fields if not f.primary_key]
        kwargs["update_fields"] = [name for name in fields if name not in ("is_staff", "is_superuser")]
        demoted.is_staff, demoted.is_superuser = real_staff, real_superuser
        try:
            return type(demoted).save(demoted, *args, **kwargs)
        finally:
            demoted.is_staff = demoted.is_superuser = False

    return save


def unverified_staff_as_non_staff(request: HttpRequest, user):
    """The user the rest of the request sees: staff without a verified factor are not staff.

    A copy of the user whose is_staff and is_superuser are False, so that every existing
    check — `user.is_staff` in views, permission functions and templates, `has_perm` for
    superusers, the admin's `has_permission` — refuses staff capabilities without knowing
    about second factors. The real row is untouched (the copy's `save` keeps both flags).
    """
    if not (user.is_authenticated and (user.is_staff or user.is_superuser)):
        return user
    if user.is_verified():
        return user
    request.unverified_staff = True
    demoted = copy.copy(user)
    demoted.save = _keep_flags_when_saving(demoted, user.is_staff, user.is_superuser)
    demoted.is_staff = demoted.is_superuser = False
    demoted._perm_cache = set()
    demoted._user_perm_cache = set()
    demoted._group_perm_cache = set()
    return demoted


class StaffSecondFactorMiddleware:
    """With ADMIN_REQUIRE_2FA, a staff session without a verified second factor is not staff.

    One place for every app: after django-otp's middleware has told whether the session is
    verified, request.user becomes a non-staff copy for unverified staff, and
    `request.unverified_staff` is set so the 403/404 pages (medicen_portal/errors.py) tell
    the person to confirm their second factor at /accounts/two-factor/verify/.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.unverified_staff = False
        if staff_must_verify():
            user = request.user
            request.user = SimpleLazyObject(lambda: unverified_staff_as_non_staff(request, user))
        return self.get_response(request)


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

    def login(self, request: HttpRequest, extra_context=None):
        # Staff already logged in with their password confirm the second factor on the portal's
        # page (TOTP or a backup code) rather than logging in again.
        if request.method == "GET" and request.user.is_authenticated and getattr(request, "unverified_staff", False):
            target = request.GET.get("next") or reverse("admin:index")
            return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': target})}")
        return super().login(request, extra_context)

    # The sidebar lists every model the user may see, on every admin page: building the list
    # and rendering it were a third of the CPU of the organisations' changelist at 100,000
    # organisations (cProfile). Its HTML is kept ADMIN_NAV_SIDEBAR_SECONDS per user, language
    # and section of the admin (the part of the address that decides which entry is current),
    # and the list is built only when something shows it.
    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        apps = context["available_apps"]
        section = "/".join(request.path.removeprefix(reverse(f"{self.name}:index")).split("/")[:2])
        key = f"admin:nav-sidebar:{request.user.pk}:{get_language()}:{section}"

        def render_sidebar() -> str:  # a SafeString, cached as one
            return render_to_string("admin/app_list.html", {"app_list": apps, "show_changelinks": False}, request)

        context["nav_sidebar_apps"] = SimpleLazyObject(
            lambda: cached(key, render_sidebar, seconds=settings.ADMIN_NAV_SIDEBAR_SECONDS)
        )
        return context

    def get_app_list(self, request: HttpRequest, app_label: str | None = None):
        if app_label is None:  # every page's `available_apps`: built when first used
            return SimpleLazyObject(lambda: admin.AdminSite.get_app_list(self, request))
        return super().get_app_list(request, app_label)

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        # Asked twice per admin page (admin_view, then each_context): the device lookups run once.
        user = request.user
        remembered = getattr(request, "_needs_second_factor", None)
        if remembered is None or remembered[0] != user.pk:
            remembered = request._needs_second_factor = (user.pk, needs_second_factor(user))
        if remembered[1]:
            return user.is_verified()
        return True


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked account/client pair: a page saying how long to wait."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values if isinstance(value, str))


class RequestSizeLimitMiddleware:
    """Refuse a body larger than REQUEST_MAX_BYTES from its Content-Length, before reading it.

    Django reads a multipart body as a stream (files above FILE_UPLOAD_MAX_MEMORY_SIZE go to
    a temporary file), but only checks an attachment's size once the whole file has arrived.
    A 2 GB upload would be written to disk first; here it is answered 413 at once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise BadRequest("Malformed Content-Length") from None
        if length > settings.REQUEST_MAX_BYTES:
            from medicen_portal.errors import render_error_without_database

            return render_error_without_database(request, 413)
        return self.get_response(request)


FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulBytesMiddleware:
    """Refuse a request carrying a NUL byte anywhere a view could pass it to the database.

    PostgreSQL cannot store or compare text holding U+0000: psycopg raises on it, which
    was an HTTP 500 on `/projects/?q=%00`, `/meetings/calendar/%00.ics` and the admin's
    list filters. No legitimate form, link or file name of the portal contains one, so the
    request is refused here, once, for every view: HTTP 400 with the portal's error page.
    Placed before the session and authentication middleware, so a NUL in a cookie never
    reaches the session table either.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._carries_nul(request):
            raise BadRequest("NUL byte in the request")
        return self.get_response(request)

    @staticmethod
    def _carries_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path_info:
            return True
        if _has_nul(request.COOKIES) or _has_nul(request.COOKIES.values()):
            return True
        if any(_has_nul([key, *request.GET.getlist(key)]) for key in request.GET):
            return True
        if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
            # Reading POST here parses the body once; views and the CSRF check reuse it.
            if any(_has_nul([key, *request.POST.getlist(key)]) for key in request.POST):
                return True
            if any(_has_nul([key, *(f.name or "" for f in request.FILES.getlist(key))]) for key in request.FILES):
                return True
        return False
