from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.progress import row_progress
from members.imports import members_import

PHASES = {"read": "Reading", "check": "Checking", "write": "Writing"}


class Command(BaseCommand):
    help = (
        "Import member organisations from a CSV (semicolons, UTF-8 or Windows-1252) or XLSX file. "
        "All or nothing: one invalid row writes nothing. Columns: see docs/members.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check the file and report, write nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (it goes to stderr)")

    def handle(self, *args, file: Path, dry_run: bool, no_progress: bool, **options) -> None:
        try:
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        with row_progress(enabled=not no_progress) as progress:
            tasks: dict[str, int] = {}

            def show(phase: str, done: int, total: int) -> None:
                for name, label in PHASES.items():
                    if name not in tasks:
                        tasks[name] = progress.add_task(label, total=total, start=name == phase)
                if phase in tasks:
                    progress.start_task(tasks[phase])
                    progress.update(tasks[phase], completed=done, total=total)
                if phase == "done":
                    for task in tasks.values():
                        progress.update(task, completed=progress.tasks[task].total)

            report = members_import(content=content, dry_run=dry_run, progress=show)
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"{file}: {warning}"))
        for error in report.errors:
            self.stderr.write(self.style.ERROR(f"{file}: {error}"))
        summary = f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged ({report.encoding})"
        if not report.ok:
            raise CommandError(f"{len(report.errors)} error(s): nothing was imported. Checked: {summary}.")
        if dry_run:
            self.stdout.write(f"Dry run, nothing written: {summary}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported: {summary}."))
