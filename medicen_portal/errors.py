"""The portal's own error pages, and what a request does when PostgreSQL goes away under it.

400, 403, 404 and 429 are rendered like any page (navigation, the reader's language). The
500 and 503 pages never touch the database: they are rendered without context processors,
with an anonymous user, so they still answer while PostgreSQL is down or restarting.

A request whose database connection drops (PostgreSQL restarting, a backend terminated):
- a GET or HEAD that has not written anything yet is run once more, half a second later, on a
  fresh connection.
  It only read, so running it again cannot do anything twice, and a restart of a fraction
  of a second (the faults run measured 0.3 s) is then invisible to the person;
- otherwise (a POST, a GET that already wrote, or the retry failing too, as while the
  server is still starting) the answer is the portal's 503 page with `Retry-After`: the
  request may or may not have been committed, so it is not replayed behind the user's
  back, and "try again in a few seconds" is the truth, where a 500 would say "bug".
"""

from __future__ import annotations

import logging
import sys
import time

from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template import loader
from django.urls import reverse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
RETRY_DELAY_SECONDS = 0.5  # before the one new attempt of a read-only GET
_READ_ONLY_STATEMENTS = {"SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "SET", "SHOW", "BEGIN", "COMMIT"}


def _texts(status: int) -> tuple[str, str]:
    return {
        400: (_("Bad request"), _("The address or the form sent contains something the portal cannot accept.")),
        403: (_("Access refused"), _("Your account does not give access to this page.")),
        404: (
            _("Page not found"),
            _("This page does not exist, or it is not visible with your account. Check the address."),
        ),
        413: (
            _("File too large"),
            _("What you sent is larger than the portal accepts. Send a smaller file (at most 10 MB)."),
        ),
        429: (_("Too many requests"), _("Too many attempts in a short time. Wait a few minutes, then try again.")),
        500: (
            _("Something went wrong"),
            _("The portal could not answer this request. The error has been recorded; try again in a moment."),
        ),
        503: (
            _("The portal is briefly unavailable"),
            _("The portal is restarting or under maintenance. Nothing you did is lost: try again in a few seconds."),
        ),
    }[status]


def _second_factor_context(request: HttpRequest) -> dict:
    """Staff whose session is not verified are told how to verify (see security.py)."""
    if getattr(request, "unverified_staff", False):
        return {"needs_second_factor": True, "second_factor_url": _second_factor_url(request)}
    return {}


def _second_factor_url(request: HttpRequest) -> str:
    from urllib.parse import urlencode

    return f"{reverse('two_factor_verify')}?{urlencode({'next': request.get_full_path()})}"


def render_error(request: HttpRequest, status: int, extra: dict | None = None) -> HttpResponse:
    """An error page of the portal, with navigation, in the reader's language."""
    heading, explanation = _texts(status)
    context = {"status": status, "heading": heading, "explanation": explanation, **(extra or {})}
    template = loader.get_template(f"errors/{status}.html")
    return HttpResponse(template.render(context, request), status=status)


def render_error_without_database(request: HttpRequest, status: int) -> HttpResponse:
    """The 500 and 503 pages: no context processor runs, so nothing asks the database."""
    heading, explanation = _texts(status)
    context = {
        "status": status,
        "heading": heading,
        "explanation": explanation,
        "user": AnonymousUser(),
        "request": request,
        "csrf_token": get_token(request),  # the language switch still posts
    }
    response = HttpResponse(loader.get_template(f"errors/{status}.html").render(context), status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, 403, _second_factor_context(request))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, 404, _second_factor_context(request))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted from a page left open too long: say so, in the portal's page."""
    return render_error(
        request,
        403,
        {
            "explanation": _(
                "This form has expired (or cookies are blocked). Go back, reload the page and send it again."
            )
        },
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, or the 503 page when the cause is a lost database connection."""
    exception = sys.exc_info()[1]
    if database_connection_lost(exception):
        request.database_connection_lost = True  # DatabaseRestartMiddleware may run a GET once more
        return render_error_without_database(request, 503)
    return render_error_without_database(request, 500)


def database_connection_lost(exception: BaseException | None) -> bool:
    """True when the error is PostgreSQL being unreachable, not a bad query.

    A connection refused (server restarting) or terminated mid-query is an OperationalError
    or InterfaceError whose connection is no longer usable; a statement timeout or a
    deadlock is an OperationalError too, but its connection still works.
    """
    if not isinstance(exception, (OperationalError, InterfaceError)):
        return False
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if raw is None or getattr(raw, "closed", False) or getattr(raw, "broken", False):
            return True
    return isinstance(exception, InterfaceError)


class DatabaseRestartMiddleware:
    """Runs a read-only GET once more when its database connection dropped (see the module doc)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.database_wrote = False
        request.database_connection_lost = False
        response = self._run(request)
        if request.database_connection_lost and self._may_run_again(request):
            logger.warning("Database connection lost during %s %s: running it once more", request.method, request.path)
            self._drop_connections()
            # A restart refuses connections for a fraction of a second (0.3 s measured by
            # bench/faults.py); retrying at once mostly met a server still starting.
            time.sleep(RETRY_DELAY_SECONDS)
            request.database_connection_lost = False
            response = self._run(request)
        if request.database_connection_lost:
            # The 503 page went out; drop the dead connection now rather than at the next request.
            self._drop_connections()
        return response

    @staticmethod
    def _may_run_again(request: HttpRequest) -> bool:
        """Only what only read: a GET or HEAD that wrote nothing, outside a transaction."""
        return (
            request.method in ("GET", "HEAD")
            and not request.database_wrote
            and not any(c.in_atomic_block for c in connections.all(initialized_only=True))
        )

    @staticmethod
    def _drop_connections() -> None:
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close()

    def _run(self, request: HttpRequest) -> HttpResponse:
        def watch(execute, sql, params, many, context):
            verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
            if verb not in _READ_ONLY_STATEMENTS:
                request.database_wrote = True
            return execute(sql, params, many, context)

        connection = connections["default"]
        with connection.execute_wrapper(watch):
            return self.get_response(request)
