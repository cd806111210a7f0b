"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import SmtpSink, database_url_for_subprocess, free_port_for_tests

BASE_DIR = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:
    # The manifest storage needs collectstatic; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings) -> None:
    # Each test sees an empty cache without flushing a Redis database the broker may share.
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"} for name, config in settings.CACHES.items()
    }


@pytest.fixture
def cache_down(settings) -> None:
    """The cache (Redis) unreachable: a port nothing listens on."""
    settings.CACHES = {
        "default": {
            "BACKEND": "common.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port_for_tests()}/0",
        }
    }


@pytest.fixture(autouse=True)
def _default_language() -> None:
    # A request through LocaleMiddleware leaves its language active in the thread; each test
    # starts in the portal's default language (French) whatever the previous one asked for.
    from django.utils import translation

    translation.deactivate()


# --- One vocabulary of test users, for every app ---------------------------------------------
# owner: the primary contact of `organisation` (an active, listed member startup); colleague: its
# scientific contact; outsider: the primary contact of `other_organisation`; kol: the president
# of `area`'s board; reviewer: another board member of `area` (vice-president), from an
# organisation of their own; staff: the cluster's staff (is_staff, no other permission);
# superuser: staff with every permission (the admin). An app's conftest sets the scene by
# overriding `organisation`, `other_organisation` or `area`, never by redefining the users.

DAS = [
    ("biological-diagnostics", "Diagnostic biologique", "Biological diagnostics"),
    ("imaging", "Imagerie", "Imaging"),
    ("biotherapies-molecules", "Biothérapies et molécules", "Biotherapies and molecules"),
    ("digital-health", "Santé numérique", "Digital health"),
    ("techno-therapies", "Technothérapies", "Techno-therapies"),
]


def _contact(organisation, *, email: str, **roles):
    from members.tests.factories import contact

    return contact(organisation, email=email, **roles)


def _board_member(area, *, role: str, organisation=None):
    from das.tests.factories import MandateFactory
    from members.tests.factories import PersonFactory, UserFactory

    user = UserFactory()
    person = PersonFactory(user=user, email=user.email, **({"organisation": organisation} if organisation else {}))
    MandateFactory(person=person, area=area, role=role)
    return user


@pytest.fixture
def organisation(db):
    from members.tests.factories import OrganisationFactory

    return OrganisationFactory(name="BioSense Diagnostics", slug="biosense", description="Tests rapides.")


@pytest.fixture
def other_organisation(db):
    from members.tests.factories import OrganisationFactory

    return OrganisationFactory(name="NeuroWave SAS", slug="neurowave")


@pytest.fixture
def owner(organisation):
    return _contact(organisation, email=f"owner@{organisation.slug}.example", is_primary_contact=True)


@pytest.fixture
def colleague(organisation):
    return _contact(organisation, email=f"colleague@{organisation.slug}.example", is_scientific_contact=True)


@pytest.fixture
def outsider(other_organisation):
    return _contact(other_organisation, email=f"outsider@{other_organisation.slug}.example", is_primary_contact=True)


@pytest.fixture
def governance(db) -> None:
    """The real five DAS and their boards, as `seed_medicen` loads them (das/data/governance.toml)."""
    from das.services import governance_load

    governance_load()


@pytest.fixture
def areas(db) -> dict:
    """The five DAS, by code."""
    from das.models import StrategicArea

    return {
        code: StrategicArea.objects.get_or_create(
            code=code, defaults={"name_fr": fr, "name_en": en, "position": position}
        )[0]
        for position, (code, fr, en) in enumerate(DAS)
    }


@pytest.fixture
def area(db):
    from das.tests.factories import StrategicAreaFactory

    return StrategicAreaFactory(code="imaging", name_fr="Imagerie", name_en="Imaging")


@pytest.fixture
def kol(area):
    return _board_member(area, role="president")


@pytest.fixture
def reviewer(area):
    from members.tests.factories import OrganisationFactory

    return _board_member(area, role="vice_president", organisation=OrganisationFactory(name="Expert Lab"))


@pytest.fixture
def staff(db):
    from members.tests.factories import UserFactory

    return UserFactory(is_staff=True, email="staff@medicen.example")


@pytest.fixture
def superuser(db):
    from members.tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True, email="admin@medicen.example")


@pytest.fixture
def smtp_sink(settings) -> Iterator[SmtpSink]:
    """A running SMTP sink; this process and any worker started by the test send to it."""
    sink = SmtpSink()
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def start_celery_worker(request, transactional_db) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start real `celery worker` processes on the configured broker, reading the test database.

    If the test also uses `smtp_sink`, the workers send their e-mail to it.
    Every worker still running at the end of the test is stopped.
    """
    processes: list[tuple[subprocess.Popen, object]] = []
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess(), "CELERY_TASK_ALWAYS_EAGER": "false"}
    if "smtp_sink" in request.fixturenames:
        env["EMAIL_URL"] = request.getfixturevalue("smtp_sink").url

    def start(*, concurrency: int = 1, pool: str = "solo", name: str = "worker") -> subprocess.Popen:
        log = open(Path(os.environ["VAR_DIR"]) / f"{name}.log", "w")  # noqa: SIM115 - closed at teardown
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "medicen_portal", "worker", f"--pool={pool}",
             f"--concurrency={concurrency}", f"--hostname={name}@%h", "--loglevel=INFO",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append((process, log))
        return process

    try:
        yield start
    finally:
        for process, log in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()


@pytest.fixture
def celery_worker_process(start_celery_worker) -> subprocess.Popen:
    """One real worker process (solo pool)."""
    return start_celery_worker()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # CI proves every test against the real services: a skipped test is a failure there.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("FAIL_ON_SKIP") and reporter and reporter.stats.get("skipped"):
        reporter.write_line(f"FAIL_ON_SKIP: {len(reporter.stats['skipped'])} test(s) were skipped.", red=True)
        session.exitstatus = 1
