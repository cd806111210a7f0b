"""`make load`: 50 concurrent users for 60 s against gunicorn + PostgreSQL with 100,000 organisations.

Starts throwaway PostgreSQL, Redis and SMTP sink (bench/harness.py), seeds 100,000
organisations and 10,000 proposals, serves the portal with gunicorn, runs locust headless
and prints p50/p95/p99 and the error rate per page, then checks the targets: 0 errors,
directory p95 at most 200 ms, no connection-pool exhaustion.
Options through the environment: LOAD_MEMBERS, LOAD_PROJECTS, LOAD_USERS, LOAD_SECONDS, WEB_WORKERS.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import PYTHON, Stack

MEMBERS = int(os.environ.get("LOAD_MEMBERS", 100_000))
PROJECTS = int(os.environ.get("LOAD_PROJECTS", 10_000))
USERS = int(os.environ.get("LOAD_USERS", 50))
SECONDS = int(os.environ.get("LOAD_SECONDS", 60))
WORKERS = int(os.environ.get("WEB_WORKERS", 4))
PASSWORD = "load-test-password-2026"

FIXTURE_SCRIPT = """
import json, sys
from members.models import Organisation, Person, User
from projects.models import Project
listed = Organisation.objects.filter(status="active", directory_opt_in=True)
slugs = list(listed.order_by("?").values_list("slug", flat=True)[:2000])
contacts = []
for organisation_id in Project.objects.values_list("lead_organisation_id", flat=True).distinct()[:60]:
    person = Person.objects.filter(organisation_id=organisation_id).exclude(email="").order_by("pk").first()
    if person is None:
        continue
    user, _ = User.objects.get_or_create(email=f"load{person.pk}@load.example")
    user.set_password(sys.argv[1]); user.save()
    Person.objects.filter(pk=person.pk).update(user=user)
    proposals = list(Project.objects.filter(lead_organisation_id=organisation_id).values_list("pk", flat=True)[:20])
    contacts.append({"email": user.email, "proposals": proposals})
print(json.dumps({"slugs": slugs, "contacts": contacts, "password": sys.argv[1]}))
"""


def main() -> int:
    with Stack("load") as stack:
        stack.start_services()
        print(f"seeding {MEMBERS} organisations and {PROJECTS} proposals…", flush=True)
        stack.prepare_portal(members=MEMBERS, projects=PROJECTS)
        fixtures = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", FIXTURE_SCRIPT.replace("sys.argv[1]", repr(PASSWORD))],
            cwd=stack.root.parent.parent, env=stack.env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        fixtures_file = stack.root / "fixtures.json"
        fixtures_file.write_text(fixtures.strip().splitlines()[-1])
        stack.start_web(workers=WORKERS)
        stack.start_worker(concurrency=1)
        prefix = stack.root / "locust"
        subprocess.run(
            [PYTHON, "-m", "locust", "-f", "bench/locustfile.py", "--headless", "-u", str(USERS), "-r", str(USERS),
             "-t", f"{SECONDS}s", "--host", stack.url, "--csv", str(prefix), "--only-summary"],
            cwd=stack.root.parent.parent, env={**os.environ, "LOAD_FIXTURES": str(fixtures_file)},
            stdout=(stack.logs / "locust.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        rows = list(csv.DictReader((prefix.parent / "locust_stats.csv").open()))
        log_text = (stack.logs / "web.log").read_text(errors="replace")
        exhausted = sum(log_text.count(s) for s in ("too many clients", "too many connections", "PoolTimeout"))
    print(f"## Load test — {USERS} users for {SECONDS} s, {MEMBERS:,} organisations, {PROJECTS:,} proposals\n")
    print(f"gunicorn with {WORKERS} sync workers on PostgreSQL (persistent connections), Redis, 1 worker.\n")
    print("| page | requests | errors | error rate | p50 ms | p95 ms | p99 ms | req/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    errors_total, directory_p95 = 0, None
    for row in rows:
        requests, failures = int(row["Request Count"]), int(row["Failure Count"])
        errors_total += failures if row["Name"] != "Aggregated" else 0
        rate = failures / requests if requests else 0
        print(f"| {row['Name']} | {requests} | {failures} | {rate:.2%} | {row['50%']} | {row['95%']} | {row['99%']} | "
              f"{float(row['Requests/s']):.1f} |")  # fmt: skip
        if row["Name"] == "/members/?q=":
            directory_p95 = float(row["95%"])
    print()
    checks = [
        ("0 errors", errors_total == 0, f"{errors_total} errors"),
        (
            "directory search p95 ≤ 200 ms",
            directory_p95 is not None and directory_p95 <= 200,
            f"p95 {directory_p95} ms",
        ),
        ("no connection-pool exhaustion", exhausted == 0, f"{exhausted} exhaustion messages in the web log"),
    ]
    for name, ok, figure in checks:
        print(f"- {'PASS' if ok else 'MISS'} — {name}: {figure}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
