"""Benchmark of the members' import and export (issues 16 and 15): rows per second, queries, peak memory.

    .venv/bin/python bench/members_import_export.py [--sizes 10000 100000]

For each size N, on BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/medicen_import_bench,
emptied first): `seed_demo --members N`, then each step in its own process (so its peak memory is
its own): the CSV export (and the XLSX export at the first size), the contacts and membership
years exported (their own files, keyed by SIREN), the organisations emptied (their people and
years with them), the import of the exported file as N new organisations, the re-import of the
same file (unchanged), and its dry run; then the contacts and years files imported as new rows,
and again (unchanged). Each step prints its time, rows per second, SQL queries and the process's peak
resident memory (the Django process before the step is about 100 MB of it). Lines starting with
"figure:" are read by bench/run_all.py into the table of targets of docs/performance.md.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/medicen_import_bench"


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "medicen_portal.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM): unlike ru_maxrss, it does not inherit the
    high-water mark of the parent that forked it (the parent has just seeded N organisations)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(name: str, path: str) -> dict:
    """One measured step, in this process; returns its figures."""
    from django.db import connection

    from members.models import Organisation

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    before = peak_mib()
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        if name.startswith("export_"):
            from members.imports import export_csv_stream, export_xlsx_file

            kind = {"export_contacts": "contacts", "export_years": "years"}.get(name, "organisations")
            with open(path, "wb") as target:
                if name == "export_xlsx":
                    export_xlsx_file(target, Organisation.objects.all())
                else:
                    for piece in export_csv_stream(Organisation.objects.all(), kind=kind):
                        target.write(piece)
            rows = Organisation.objects.count() if kind == "organisations" else _data_lines(path)
            outcome = f"{Path(path).stat().st_size / 1e6:.1f} MB"
        else:
            from members.imports import members_import

            report = members_import(content=Path(path).read_bytes(), dry_run=name == "dry_run")
            if report.errors:
                sys.exit(f"{name}: {len(report.errors)} errors, first: {report.errors[0]}")
            rows = report.new + report.updated + report.unchanged
            outcome = (
                f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
                f"{len(report.warnings)} duplicate warnings"
            )
        seconds = time.perf_counter() - started
    return {
        "step": name,
        "rows": rows,
        "seconds": seconds,
        "queries": queries,
        "peak_mib": peak_mib(),
        "before_mib": before,
        "outcome": outcome,
    }


def _data_lines(path: str) -> int:
    with open(path, "rb") as file:
        return sum(1 for _line in file) - 1


def run_step(name: str, path: str, database_url: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--step", name, "--file", path],
        cwd=ROOT,
        env={**os.environ, "BENCH_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
    )
    if result.returncode:
        sys.exit(f"step {name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare(size: int) -> None:
    """An empty database, then `size` demo organisations (with their DAS interests)."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        # The governance goes with the organisations (its people, their mandates): forget what the
        # seed loaded, so seed_demo loads it again, as on a new database (das.services.governance_load).
        cursor.execute("TRUNCATE members_organisation, das_seedrecord RESTART IDENTITY CASCADE")
    with contextlib.redirect_stdout(io.StringIO()):  # its logins are of no use here
        call_command("seed_demo", members=size, projects=0, verbosity=0)


def empty_organisations() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE members_organisation RESTART IDENTITY CASCADE")
        cursor.execute("VACUUM ANALYZE members_organisation")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    setup_django(database_url)
    if args.step:
        print(json.dumps(step(args.step, args.file)))
        return

    print(f"PostgreSQL, {os.cpu_count()} CPU cores (shared); load average before: {os.getloadavg()[0]:.1f}")
    print("Starting point (issue 16, 10,000 organisations): import 34 rows/s, re-import 106 rows/s,")
    print("dry run 64 rows/s, export about 1,075 rows/s; 18,822 queries for 1,000 new rows.")
    print("Targets: import, re-import and dry run >= 1,000 rows/s; export >= 5,000 rows/s, memory flat.")
    print(f"\n{'step':28s} {'rows':>8s} {'seconds':>8s} {'rows/s':>8s} {'queries':>8s} {'peak MiB':>9s}  outcome")
    with tempfile.TemporaryDirectory() as folder:
        for number, size in enumerate(args.sizes):
            prepare(size)
            csv_path = str(Path(folder) / f"members-{size}.csv")
            steps = ["export_csv"] + (["export_xlsx"] if number == 0 else [])
            results = [run_step(name, csv_path if name == "export_csv" else csv_path + ".xlsx", database_url)
                       for name in steps]  # fmt: skip
            # The contacts and membership years, each in its own file keyed by SIREN.
            related = {kind: str(Path(folder) / f"{kind}-{size}.csv") for kind in ("contacts", "years")}
            for kind, path in related.items():
                results.append(run_step(f"export_{kind}", path, database_url))
            empty_organisations()
            # The dry run checks the file against the emptied table: the work of an import of new rows.
            for name in ("dry_run", "import_new", "reimport_unchanged"):
                results.append(run_step(name, csv_path, database_url))
            for kind, path in related.items():
                for name in (f"import_{kind}_new", f"reimport_{kind}_unchanged"):
                    results.append(run_step(name, path, database_url))
            for result in results:
                rate = result["rows"] / result["seconds"] if result["seconds"] else 0
                label = f"{result['step']} ({size:,})"
                print(
                    f"{label:28s} {result['rows']:8d} {result['seconds']:8.1f} {rate:8.0f} {result['queries']:8d} "
                    f"{result['peak_mib']:9.0f}  {result['outcome']}"
                )
                print(f"figure: {result['step']}_{size}_rows_per_s {rate:.0f}")
                print(f"figure: {result['step']}_{size}_queries {result['queries']}")
                print(f"figure: {result['step']}_{size}_peak_mib {result['peak_mib']:.0f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
