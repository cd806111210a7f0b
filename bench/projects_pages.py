"""Benchmark: time, queries and HTML size of the project list, the proposal form, the staff list
and the impact dashboard.

Run against a seeded database (e.g. `python manage.py seed_demo --projects 3000`, or
`--members 100000` for the proposal form at 100,000 organisations):

    DEBUG=true PYTHONPATH=. .venv/bin/python bench/projects_pages.py

Prints, for each page, the median time over 5 requests, the number of SQL queries and the size
of the HTML; the partner picker's search endpoint is measured too.
"""

from __future__ import annotations

import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medicen_portal.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from members.models import Organisation, User  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.selectors import impact_figures  # noqa: E402


def measure(client: Client, url: str) -> tuple[float, int, int]:
    times = []
    for _ in range(5):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times) * 1000, len(queries), len(response.content)


def main() -> None:
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    print(f"projects in the database: {Project.objects.count()}, funded: {Project.objects.funded().count()}")
    print(f"organisations in the database: {Organisation.objects.count()}")
    staff = User.objects.filter(is_staff=True).first()
    contact = User.objects.filter(email="contact@medicen.example").first()
    started = time.perf_counter()
    impact_figures()
    print(f"impact_figures(): {(time.perf_counter() - started) * 1000:.1f} ms")
    for label, user, url in [
        ("member list", contact, "/projects/"),
        ("new proposal form", contact, "/projects/new/"),
        ("partner search (member)", contact, "/projects/organisations/?q=bio"),
        ("partner search (staff)", staff, "/projects/organisations/?q=bio"),
        ("partner search, page 3", staff, "/projects/organisations/?q=sa&page=3"),
        ("staff list", staff, "/projects/"),
        ("staff list, page 5", staff, "/projects/?page=5"),
        ("impact (public)", None, "/impact/"),
        ("impact (staff detail)", staff, "/impact/"),
        ("impact CSV", None, "/impact/export.csv"),
    ]:
        client = Client()
        if user is not None:
            client.force_login(user)
        elapsed, queries, size = measure(client, url)
        print(f"{label:24} {elapsed:8.1f} ms  {queries:3d} queries  {size / 1024:8.1f} KB")


if __name__ == "__main__":
    main()
