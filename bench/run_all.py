"""`make bench`: run every benchmark in bench/ and write docs/performance.md with the figures.

A benchmark is a script `bench/bench_*.py` that starts what it needs (see bench/harness.py),
prints a Markdown section with its figures and their baselines, and exits 0. This runner adds
the machine the run happened on.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT = BASE_DIR / "docs" / "performance.md"


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


def main() -> int:
    only = sys.argv[1:]
    scripts = sorted(p for p in (BASE_DIR / "bench").glob("bench_*.py") if not only or p.stem in only)
    sections, failures = [], []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script)], cwd=BASE_DIR, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        print(result.stdout, end="")
        if result.returncode:
            failures.append(script.name)
            print(result.stderr[-3000:], file=sys.stderr)
            sections.append(f"## {script.stem}\n\nFAILED (exit {result.returncode}) after {elapsed:.0f} s.\n")
        else:
            sections.append(result.stdout.strip() + f"\n\n_(run took {elapsed:.0f} s)_\n")
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
