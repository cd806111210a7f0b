from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from members.imports import members_import


class Command(BaseCommand):
    help = (
        "Import member organisations from a CSV (semicolons, UTF-8 or Windows-1252) or XLSX file. "
        "All or nothing: one invalid row writes nothing. Columns: see docs/members.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check the file and report, write nothing")

    def handle(self, *args, file: Path, dry_run: bool, **options) -> None:
        try:
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        report = members_import(content=content, dry_run=dry_run)
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
