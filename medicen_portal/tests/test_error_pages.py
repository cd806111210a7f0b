"""The portal's own 400/403/404/500/503 pages, and requests caught by a database restart."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from medicen_portal import errors
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    user = UserFactory()
    PersonFactory(organisation=OrganisationFactory(), user=user, email=user.email)
    return user


@pytest.mark.parametrize(
    ("language", "heading", "nav"), [("fr", "Page introuvable", "Adhérents"), ("en", "Page not found", "Members")]
)
def test_a_missing_page_is_the_portals_own_404_in_the_readers_language(client, language, heading, nav):
    client.cookies["django_language"] = language

    response = client.get("/no-such-page/")

    text = response.content.decode()
    assert response.status_code == 404
    assert 'data-portal-error="404"' in text
    assert heading in text
    assert nav in text  # the navigation is there


def test_a_refused_page_is_the_portals_own_403_in_french(client, member):
    client.force_login(member)

    response = client.get(reverse("meetings:meeting_list"))

    text = response.content.decode()
    assert response.status_code == 403
    assert 'data-portal-error="403"' in text
    assert "Accès refusé" in text
    assert "403 Forbidden" not in text


def test_an_expired_form_is_explained_on_the_portals_own_403(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)

    response = client.post("/i18n/setlang/", {"language": "en"})

    assert response.status_code == 403
    assert 'data-portal-error="403"' in response.content.decode()


def test_the_500_page_is_rendered_without_asking_the_database(django_assert_max_num_queries):
    request = RequestFactory().get("/")

    def refuse(execute, sql, params, many, context):
        raise AssertionError(f"the 500 page queried the database: {sql}")

    with connection.execute_wrapper(refuse), django_assert_max_num_queries(0):
        response = errors.server_error(request)

    text = response.content.decode()
    assert response.status_code == 500
    assert 'data-portal-error="500"' in text
    assert "Medicen Portal" in text


@pytest.mark.urls("medicen_portal.tests.error_urls")
@pytest.mark.parametrize(("language", "heading"), [("fr", "Une erreur est survenue"), ("en", "Something went wrong")])
def test_an_unexpected_error_answers_the_portals_own_500(language, heading):
    client = Client(raise_request_exception=False)
    client.cookies["django_language"] = language

    response = client.get("/test-fails/")

    text = response.content.decode()
    assert response.status_code == 500
    assert 'data-portal-error="500"' in text
    assert heading in text


# --- A database restart under a request (PostgreSQL: the CI database) ---------------------------------

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")


class TerminateBackend:
    """An execute wrapper that kills the request's own PostgreSQL backend before its first N queries.

    The termination is real (`pg_terminate_backend` from a second connection), as when
    PostgreSQL restarts under a running request; nothing is mocked.
    """

    def __init__(self, times: int = 1) -> None:
        self.remaining = times
        self.attempted: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.attempted.append(sql)
        if self.remaining > 0:
            self.remaining -= 1
            pid = context["connection"].connection.info.backend_pid
            db = context["connection"].settings_dict
            with psycopg.connect(
                host=db["HOST"] or "127.0.0.1",
                port=db["PORT"] or 5432,
                dbname=db["NAME"],
                user=db["USER"],
                password=db["PASSWORD"] or None,
                autocommit=True,
            ) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
                while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                    pass
        return execute(sql, params, many, context)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_get_whose_connection_is_terminated_is_run_once_more_and_answers(member):
    client = Client(raise_request_exception=False)
    client.force_login(member)
    killer = TerminateBackend(times=1)

    with connection.execute_wrapper(killer):
        response = client.get(reverse("projects:list"))

    assert killer.remaining == 0  # the backend was terminated under the request
    assert response.status_code == 200


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_get_that_fails_again_answers_the_portals_503_with_retry_after(member):
    client = Client(raise_request_exception=False)
    client.force_login(member)
    killer = TerminateBackend(times=2)

    with connection.execute_wrapper(killer):
        response = client.get(reverse("projects:list"))

    assert response.status_code == 503
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    assert 'data-portal-error="503"' in response.content.decode()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_post_whose_connection_is_terminated_is_not_replayed_and_answers_503(member):
    client = Client(raise_request_exception=False)
    client.force_login(member)
    killer = TerminateBackend(times=1)

    with connection.execute_wrapper(killer):
        response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 503
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    member.refresh_from_db()
    assert member.language == ""  # not run a second time behind the person's back
