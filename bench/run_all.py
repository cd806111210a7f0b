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


# Issue 16's targets, next to its starting figures (10,000 organisations for the import and export,
# 100,000 for the pages; `make bench` of 2026-12-03). Each benchmark prints "figure: NAME VALUE".
# (figure, what it is, starting figure, target, "min" if the figure must reach the target or "max")
TARGETS = [
    ("import_new_10000_rows_per_s", "import, 10,000 new organisations (rows/s)", "34", 1000, "min"),
    ("reimport_unchanged_10000_rows_per_s", "re-import of the same file, unchanged (rows/s)", "106", 1000, "min"),
    ("dry_run_10000_rows_per_s", "dry run of 10,000 new organisations (rows/s)", "64", 1000, "min"),
    ("import_new_100000_rows_per_s", "import, 100,000 new organisations (rows/s)", "—", 1000, "min"),
    ("import_new_10000_queries", "import, 10,000 new: SQL queries", "~188,000", None, ""),
    ("import_new_100000_queries", "import, 100,000 new: SQL queries", "—", None, ""),
    ("export_csv_10000_rows_per_s", "CSV export, 10,000 (rows/s)", "1,075", 5000, "min"),
    ("export_csv_100000_rows_per_s", "CSV export, 100,000 (rows/s)", "—", 5000, "min"),
    ("export_csv_10000_peak_mib", "CSV export, 10,000: peak memory of the process (MiB)", "—", None, ""),
    ("export_csv_100000_peak_mib", "CSV export, 100,000: peak memory of the process (MiB)", "—", None, ""),
    ("changelist_x1_p95_ms", "staff changelist, 1 client, p95 (ms)", "117.5", 150, "max"),
    ("changelist_x20_p95_ms", "staff changelist, 20 clients, p95 (ms)", "631.4", 500, "max"),
    ("uncached_x20_p95_ms", "directory, page cache off, 20 clients, p95 (ms)", "363.1", 200, "max"),
    ("bare_x20_p95_ms", "bare view (the directory's SQL only), 20 clients, p95 (ms)", "305.5", None, ""),
    ("directory_x20_p95_ms", "directory as served, 20 clients, p95 (ms)", "95.2", None, ""),
]


def figures_of(texts: list[str]) -> dict[str, float]:
    found = {}
    for text in texts:
        for line in text.splitlines():
            if line.startswith("figure: "):
                _label, name, value = line.split(maxsplit=2)
                found[name] = float(value)
    return found


def targets_table(texts: list[str]) -> str:
    """Issue 16's figures side by side: where they started, the target, and this run's."""
    figures = figures_of(texts)
    rows = ["| figure | start (issue 16) | target | measured | |", "|---|---:|---:|---:|---|"]
    for name, label, start, target, sense in TARGETS:
        value = figures.get(name)
        shown = "—" if value is None else f"{value:,.1f}".replace(".0", "") if value % 1 else f"{value:,.0f}"
        goal = "" if target is None else (f"≥ {target:,}" if sense == "min" else f"≤ {target:,}")
        met = ""
        if value is not None and target is not None:
            met = "met" if (value >= target if sense == "min" else value <= target) else "**missed**"
        rows.append(f"| {label} | {start} | {goal} | {shown} | {met} |")
    return "\n".join(rows)


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
        # Import and export of 10,000 and 100,000 organisations: rows/s, queries, peak memory.
        "members_import_export": (
            [PYTHON, "bench/members_import_export.py", "--sizes", "10000", "100000"],
            {**env, "BENCH_DATABASE_URL": stack.pg.create_database("import_bench")},
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
    targets = (
        "## Targets (issue 16)\n\nEach figure from the last run of its benchmark (the load average of the run is in "
        "its section below).\n\n" + targets_table(sections) + "\n"
    )
    # The "figure:" lines are for the table above, not for the reader of each section.
    sections = ["\n".join(line for line in text.splitlines() if not line.startswith("figure: ")) + "\n"
                for text in sections]  # fmt: skip
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(
        "# Performance\n\n"
        f"Written by `make bench` on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. "
        "Figures are from that one run; rerun `make bench` to refresh them.\n\n"
        "## Machine\n\n| | |\n|---|---|\n" + machine() + "\n\n" + targets + "\n" + "\n".join(sections),
        encoding="utf-8",
    )
    print(f"wrote {OUTPUT.relative_to(BASE_DIR)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
