from __future__ import annotations

import datetime
import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import check_for_language, get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from common.cache import cached
from common.http import client_ip, over_limit
from members import applications, services
from members.forms import DirectoryFilterForm, EmailAuthenticationForm, JoinForm, OrganisationProfileForm
from members.models import MembershipYear, logo_kind
from members.permissions import (
    can_edit_organisation_profile,
    can_manage_contacts,
    can_see_billing,
    can_view_organisation_private,
    get_organisation_for_user,
    get_public_organisation,
    organisation_of,
)
from members.privacy import personal_data_export
from members.selectors import directory_facts, directory_page, directory_page_key


def directory(request: HttpRequest) -> HttpResponse:
    """The public member directory: listed members, searchable and filtered, with the membership mix.

    The list part (count, cards, pagination) is cached per filters, page and language until the
    directory changes (members.selectors.directory_changed) or MEMBERS_DIRECTORY_CACHE_SECONDS pass.
    """
    facts = directory_facts()
    form = DirectoryFilterForm(request.GET or None, facts=facts)
    filters, page_size, page_number = form.filters(), form.page_size(), form.page_number()
    mix = facts["mix"]

    def results() -> str:
        page = directory_page(facts, filters, page_size=page_size, page_number=page_number)
        context = {
            "page": page,
            "filtered": any(filters.values()),
            "listed": mix["listed"],
            "query": form.query_string(),
        }
        return render_to_string("members/_directory_results.html", context, request)

    key = directory_page_key(
        generation=facts["generation"], filters=filters, page_size=page_size, page=page_number, language=get_language()
    )
    context = {
        "form": form,
        "options": form.options(),
        "mix": mix,
        "results": cached(key, results, seconds=settings.MEMBERS_DIRECTORY_CACHE_SECONDS),
    }
    return render(request, "members/directory.html", context)


def organisation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = get_public_organisation(request.user, slug)
    return render(
        request,
        "members/organisation_detail.html",
        {
            "organisation": organisation,
            "can_edit": can_edit_organisation_profile(request.user, organisation),
            "can_view_private": can_view_organisation_private(request.user, organisation),
        },
    )


def organisation_logo(request: HttpRequest, slug: str) -> FileResponse:
    """The logo, for whoever may see the organisation's page; served as an attachment, typed by its content."""
    organisation = get_public_organisation(request.user, slug)
    if not organisation.logo:
        raise Http404
    handle = organisation.logo.open("rb")
    kind = logo_kind(handle.read(16))
    handle.seek(0)
    if kind is None:
        handle.close()
        raise Http404
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{organisation.slug}.{kind}",
        content_type={"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}[kind],
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_edit(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = get_organisation_for_user(request.user, slug)
    if not can_edit_organisation_profile(request.user, organisation):
        raise PermissionDenied
    form = OrganisationProfileForm(request.POST or None, request.FILES or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.PROFILE_FIELDS}
        if fields["logo"] is False:  # "clear" ticked
            fields["logo"] = ""
        services.organisation_profile_update(
            organisation=organisation, by=request.user, das_interests=form.cleaned_data["das_interests"], **fields
        )
        messages.success(request, _("The profile of %(name)s was saved.") % {"name": organisation.name})
        return redirect("members:organisation", slug=organisation.slug)
    return render(request, "members/organisation_edit.html", {"organisation": organisation, "form": form})


@login_required
def membership(request: HttpRequest, slug: str) -> HttpResponse:
    """The organisation's own page: membership years, fees, contacts. Its contacts and staff only."""
    organisation = get_organisation_for_user(request.user, slug)
    years = MembershipYear.objects.filter(organisation=organisation).order_by("-year")
    # People anonymised after they left stay linked (past records) but are no longer contacts.
    contacts = (
        organisation.people.filter(anonymised_at__isnull=True)
        .select_related("user")
        .order_by("last_name", "first_name")
    )
    return render(
        request,
        "members/membership.html",
        {
            "organisation": organisation,
            "years": years,
            "contacts": contacts,
            "can_edit": can_edit_organisation_profile(request.user, organisation),
            # Amounts and invoices: billing and primary contacts (and staff) only.
            "can_see_billing": can_see_billing(request.user, organisation),
            "can_manage_contacts": can_manage_contacts(request.user, organisation),
        },
    )


@login_required
def my_organisation(request: HttpRequest) -> HttpResponse:
    organisation = organisation_of(request.user)
    if organisation is None:
        raise Http404
    return redirect("members:membership", slug=organisation.slug)


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Set a password from a staff invitation; the link is signed, expires and works once."""
    user = services.invitation_user(token)
    if user is None:
        return render(request, "members/invitation_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your password is set; you are logged in."))
        organisation = organisation_of(user)
        if organisation is not None:
            return redirect("members:membership", slug=organisation.slug)
        return redirect("das:home")
    return render(request, "members/invitation.html", {"form": form, "invited": user})


# --- Language -----------------------------------------------------------------------------


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class PortalLoginView(LoginView):
    """Login by e-mail; the account's language, chosen on any device, becomes this browser's."""

    authentication_form = EmailAuthenticationForm

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if settings.ADMIN_REQUIRE_2FA and (user.is_staff or user.is_superuser):
            # Staff go on through their second factor (enrolment first if they have none yet).
            response = redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': self.get_success_url()})}")
        language = user.language
        if language:
            _set_language_cookie(response, language)
        return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (cookie and redirect); for a logged-in user the choice is also saved."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if (
        request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and check_for_language(language)
        and request.user.language != language
    ):
        services.user_set_language(user=request.user, language=language)
    return response


# --- Personal data ----------------------------------------------------------------------


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """Everything the portal holds about the logged-in person, as a JSON file (GDPR right of access)."""
    data = {
        "generated_at": timezone.now(),
        "portal": settings.SITE_URL,
        **personal_data_export(user=request.user),
    }
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2, sort_keys=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"medicen-my-data-{datetime.date.today().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- Joining ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    """The public application to join (no login); a few per client address per hour, and a honeypot."""
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if over_limit(
            f"join:client:{client_ip(request)}", limit=settings.JOIN_APPLICATIONS_PER_CLIENT_PER_HOUR, seconds=3600
        ):
            form.add_error(
                None, _("Too many applications were sent from your connection: please try again in an hour.")
            )
            return render(request, "members/join.html", {"form": form}, status=429)
        if not form.is_spam():  # a bot filled the hidden field: it sees the same thanks, nothing is kept
            data = {name: value for name, value in form.cleaned_data.items() if name in JoinForm.Meta.fields}
            das_interests = data.pop("das_interests")
            language = get_language() if get_language() in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
            application = applications.application_submit(data=data, das_interests=das_interests, language=language)
            request.session["join_email"] = application.email
        return redirect("join_done")
    return render(request, "members/join.html", {"form": form})


def join_done(request: HttpRequest) -> HttpResponse:
    """The confirmation after applying (the address the acknowledgement went to, if this browser applied)."""
    return render(request, "members/join_done.html", {"email": request.session.get("join_email", "")})
