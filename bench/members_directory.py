"""Benchmark of the member directory and the staff changelist at 100,000 organisations.

    .venv/bin/python bench/members_directory.py [--members 100000] [--seconds 20] [--clients 20]

Seeds BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/medicen_members_bench) with
`seed_demo --members N` if it has fewer organisations, starts gunicorn on BENCH_PORT (8150), and
prints: queries per page (in-process, at two page sizes), p50/p95 latency under --clients
concurrent keep-alive clients — for the directory as served (its page cache on: Redis when
REDIS_URL is set) and with its page cache off (every page computed) — and the throughput of both
next to a bare view that runs the same SQL and renders nothing. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/medicen_members_bench"


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "false"  # as in production, whatever the caller set
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.members_settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(members: int) -> None:
    from django.core.management import call_command

    from members.models import Organisation

    call_command("migrate", verbosity=0)
    have = Organisation.objects.count()
    if have >= members:
        print(f"Database already has {have:,} organisations.")
        return
    if have:
        sys.exit(f"The benchmark database has {have} organisations; drop it or pass --members {have}.")
    started = time.perf_counter()
    call_command("seed_demo", members=members, projects=335)
    print(f"Seeded {members:,} organisations in {time.perf_counter() - started:.0f} s.")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def staff_cookie() -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from members.models import User

    user, _ = User.objects.get_or_create(email="bench-staff@medicen.example", defaults={"is_staff": True})
    user.is_staff = user.is_superuser = True
    user.set_password("bench-password-not-secret")
    user.save()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def scenarios() -> dict[str, list[str]]:
    from django.apps import apps

    codes = list(apps.get_model("das", "StrategicArea").objects.values_list("code", flat=True))
    directory = [
        "",
        "?" + urlencode({"page": 200}),
        "?" + urlencode({"q": "cardio"}),
        "?" + urlencode({"q": "saint louis"}),
        "?" + urlencode({"das": codes[1], "departement": "92"}),
        "?" + urlencode({"category": "sme", "per_page": 96}),
    ]
    return {
        "directory": [f"/members/{query}" for query in directory],
        "uncached": [f"/bench/uncached-directory/{query}" for query in directory],
        "bare": [f"/bench/bare-directory/{query}" for query in directory],
        "changelist": [
            "/admin/members/organisation/",
            "/admin/members/organisation/?q=neuro",
            "/admin/members/organisation/?status__exact=active&category__exact=sme",
            "/admin/members/organisation/?das=" + codes[0] + "&departement=75",
            "/admin/members/organisation/?p=100",
        ],
    }


def count_queries(paths: dict[str, list[str]], cookie: str) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    print(
        "\nQueries and time per page (in-process, one at a time; directory anonymous with its page cache off,"
        " the worst case; changelist as staff):"
    )
    Client().get("/members/")  # warm the membership mix cache, as in production
    for name in ("uncached", "changelist"):
        client = Client(HTTP_COOKIE=cookie) if name == "changelist" else Client()
        for target in paths[name] + (
            [f"/bench/uncached-directory/?per_page={size}" for size in (12, 96)] if name == "uncached" else []
        ):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(target)
            queries = len(captured)  # read now: the next requests may reset the connection's log
            started = time.perf_counter()
            for _ in range(10):
                client.get(target)
            elapsed = (time.perf_counter() - started) / 10 * 1000
            print(f"  {queries:2d} queries  {elapsed:6.1f} ms  {response.status_code}  {target}")


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.members_settings"}
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "medicen_portal.wsgi", f"--bind=127.0.0.1:{port}",
         f"--workers={workers}", "--worker-class=sync", "--keep-alive=30", "--log-level=warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/members/")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    sys.exit("gunicorn did not start")


def _client_process(port: int, targets: list[str], threads: int, offset: int, stop_at: float, cookie: str, out) -> None:
    """One load process: `threads` keep-alive clients cycling through `targets` until `stop_at`."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(start: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": cookie} if cookie else {}
        mine, failures, index = [], 0, start
        while time.time() < stop_at:
            target = targets[index % len(targets)]
            index += 1
            started = time.perf_counter()
            try:
                connection.request("GET", target, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures += 1
            except (OSError, http.client.HTTPException):
                failures += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors += failures

    pool = [threading.Thread(target=client, args=(offset + n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.send((latencies, errors))
    out.close()


def load(port: int, targets: list[str], *, clients: int, seconds: float, cookie: str) -> tuple[list[float], int]:
    """`clients` concurrent clients, spread over a few processes so the load generator's own GIL
    does not become the bottleneck (it runs on the same machine as the server)."""
    processes = min(clients, 4)
    stop_at = time.time() + seconds
    pipes, workers = [], []
    for number in range(processes):
        threads = clients // processes + (1 if number < clients % processes else 0)
        receiver, sender = multiprocessing.Pipe(duplex=False)
        process = multiprocessing.Process(
            target=_client_process, args=(port, targets, threads, number * 7, stop_at, cookie, sender)
        )
        process.start()
        pipes.append(receiver)
        workers.append(process)
    latencies: list[float] = []
    errors = 0
    for receiver, process in zip(pipes, workers, strict=True):
        part, failures = receiver.recv()
        latencies.extend(part)
        errors += failures
        process.join()
    return latencies, errors


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 3)))
    args = parser.parse_args()
    port = int(os.environ.get("BENCH_PORT", 8150))
    setup_django(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    seed(args.members)
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off: hashed static files, as in production
    cookie = staff_cookie()
    paths = scenarios()
    count_queries(paths, cookie)

    from django.db import connections

    connections.close_all()
    server = start_gunicorn(port, args.workers)
    try:
        print(
            f"\ngunicorn: {args.workers} sync workers; {args.clients} concurrent keep-alive clients, "
            f"{args.seconds:.0f} s per run ({os.cpu_count()} CPU cores, shared)"
        )
        from django.conf import settings

        backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        print(f"cache: {backend}" + ("" if os.environ.get("REDIS_URL") else " (no REDIS_URL: one cache per worker)"))
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        print(f"{'run':24s} {'requests':>9s} {'req/s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'errors':>7s}")
        results = {}
        figures: list[str] = []  # read by bench/run_all.py into the table of targets
        for name in ("directory", "uncached", "bare", "changelist"):
            # The directory is public: its visitors are anonymous; the changelist is staff's.
            who = cookie if name == "changelist" else ""
            load(port, paths[name], clients=args.clients, seconds=2, cookie=who)  # warm-up
            for clients in (1, args.clients):
                latencies, errors = load(port, paths[name], clients=clients, seconds=args.seconds, cookie=who)
                throughput = len(latencies) / args.seconds
                if clients == args.clients:
                    results[name] = throughput
                label = f"{name} x{clients}"
                print(
                    f"{label:24s} {len(latencies):9d} {throughput:8.1f} {1000 * statistics.median(latencies):8.1f} "
                    f"{1000 * percentile(latencies, 0.95):8.1f} {errors:7d}"
                )
                figures.append(f"figure: {name}_x{clients}_p95_ms {1000 * percentile(latencies, 0.95):.1f}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        print(f"\nthroughput against the bare view ({args.clients} clients):")
        print(f"  directory (page cache on, as served)  / bare: {results['directory'] / results['bare']:.2f}")
        print(f"  directory (page cache off, every page computed) / bare: {results['uncached'] / results['bare']:.2f}")
        print("\n".join(figures))
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
