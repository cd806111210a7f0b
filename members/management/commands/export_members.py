from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from members.imports import members_export
from members.models import Organisation


class Command(BaseCommand):
    help = "Export member organisations to FILE: .xlsx, or .csv (semicolons, UTF-8 with BOM). Columns: docs/members.md."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--status", choices=Organisation.Status.values, help="only organisations with this status")

    def handle(self, *args, file: Path, status: str | None, **options) -> None:
        file_format = file.suffix.lower().lstrip(".")
        if file_format not in {"csv", "xlsx"}:
            raise CommandError("The file name must end in .csv or .xlsx.")
        queryset = Organisation.objects.all()
        if status:
            queryset = queryset.filter(status=status)
        try:
            file.write_bytes(members_export(queryset=queryset, file_format=file_format))
        except OSError as error:
            raise CommandError(f"Cannot write {file}: {error.strerror}") from error
        self.stdout.write(self.style.SUCCESS(f"Exported {queryset.count()} organisations to {file}."))
