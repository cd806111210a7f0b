"""`make bench`: run every benchmark in bench/ and write docs/performance.md with the figures.

Each benchmark runs against its own database on a throwaway PostgreSQL cluster and Redis
(bench/harness.py), never the machine's own services, and prints its figures next to its
baseline. This runner adds the machine the run happened on.
`python bench/run_all.py NAME…` runs only the named ones.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import PYTHON, Stack

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT = BASE_DIR / "docs" / "performance.md"
SECTIONS = BASE_DIR / "docs" / "performance"


def _first_line(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def machine() -> str:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    )
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    rows = [
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("Memory", f"{memory_kib / 1024 / 1024:.1f} GiB"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("PostgreSQL", _first_line([str(pg_bin[-1]), "--version"]) if pg_bin else "not found"),
        ("Redis", _first_line(["redis-server", "--version"])),
    ]
    return "\n".join(f"| {name} | {value} |" for name, value in rows)


def _benchmarks(stack: Stack) -> dict[str, tuple[list[str], dict[str, str], list[list[str]]]]:
    """name -> (command, extra environment, manage.py commands to run first)."""
    env = {**stack.env, "DEBUG": "true", "LOG_LEVEL": "WARNING"}
    return {
        # Directory and admin changelist at 100,000 organisations vs a bare view running the same SQL.
        "members_directory": (
            [PYTHON, "bench/members_directory.py", "--seconds", "20"],
            # It also measures queries per page with Django's test client ("testserver").
            {
                **env,
                "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
                "BENCH_DATABASE_URL": stack.pg.create_database("members_bench"),
            },
            [],
        ),
        # 10,000 reminders through Redis and 2 workers vs a plain smtplib loop into the same sink.
        "meetings_reminders": (
            [PYTHON, "bench/meetings_reminders.py"],
            {**env, "DATABASE_URL": stack.pg.create_database("meetings_bench")},
            [["migrate", "--no-input"], ["seed_medicen"]],
        ),
        # Project pages and the impact dashboard on 3,335 projects.
        "projects_pages": (
            [PYTHON, "bench/projects_pages.py"],
            {**env, "DATABASE_URL": stack.pg.create_database("projects_bench"), "PYTHONPATH": str(BASE_DIR)},
            [["migrate", "--no-input"], ["seed_demo", "--members", "1000", "--projects", "3000", "--seed", "11"]],
        ),
    }


def main() -> int:
    only = set(sys.argv[1:])
    failures = []
    SECTIONS.mkdir(parents=True, exist_ok=True)
    with Stack("bench") as stack:
        stack.start_services()
        for name, (command, env, setup) in _benchmarks(stack).items():
            if only and name not in only:
                continue
            print(f"== {name}", flush=True)
            started = time.monotonic()
            for args in setup:
                subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, capture_output=True)
            result = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True)
            elapsed = time.monotonic() - started
            print(result.stdout, end="", flush=True)
            if result.returncode:
                failures.append(name)
                print(result.stderr[-3000:], file=sys.stderr)
                section = f"## {name}\n\nFAILED (exit {result.returncode}) after {elapsed:.0f} s.\n"
            else:
                section = f"## {name}\n\n```\n{result.stdout.strip()}\n```\n\n_(took {elapsed:.0f} s)_\n"
            stamp = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}"
            (SECTIONS / f"{name}.md").write_text(section.replace("\n\n", f"\n\nRun {stamp}.\n\n", 1))
    # Sections of benchmarks not rerun this time are kept from their last run.
    sections = [path.read_text() for path in sorted(SECTIONS.glob("*.md"))]
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(
        "# Performance\n\n"
        f"Written by `make bench` on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. "
        "Figures are from that one run; rerun `make bench` to refresh them.\n\n"
        "## Machine\n\n| | |\n|---|---|\n" + machine() + "\n\n" + "\n".join(sections),
        encoding="utf-8",
    )
    print(f"wrote {OUTPUT.relative_to(BASE_DIR)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
