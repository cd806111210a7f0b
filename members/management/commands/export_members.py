from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.progress import row_progress
from members.imports import EXPORT_KINDS, export_csv_stream, export_xlsx_file
from members.models import Organisation


class Command(BaseCommand):
    help = (
        "Export member organisations (or, with --kind, their contacts or membership years, keyed by SIREN) to FILE: "
        ".xlsx, or .csv (semicolons, UTF-8 with BOM). Columns: docs/members.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--status", choices=Organisation.Status.values, help="only organisations with this status")
        parser.add_argument(
            "--kind", choices=EXPORT_KINDS, default="organisations", help="which file (default: organisations)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (it goes to stderr)")

    def handle(self, *args, file: Path, status: str | None, kind: str, no_progress: bool, **options) -> None:
        file_format = file.suffix.lower().lstrip(".")
        if file_format not in {"csv", "xlsx"}:
            raise CommandError("The file name must end in .csv or .xlsx.")
        queryset = Organisation.objects.all()
        if status:
            queryset = queryset.filter(status=status)
        total = queryset.count() if kind == "organisations" else None
        try:
            with row_progress(enabled=not no_progress) as progress, file.open("wb") as target:
                task = progress.add_task("Exporting", total=total)

                def show(done: int) -> None:
                    progress.update(task, completed=done)

                # Written as it is read: memory stays flat however many organisations there are.
                if file_format == "xlsx":
                    export_xlsx_file(target, queryset, progress=show, kind=kind)
                else:
                    for piece in export_csv_stream(queryset, progress=show, kind=kind):
                        target.write(piece)
        except OSError as error:
            raise CommandError(f"Cannot write {file}: {error.strerror}") from error
        what = (
            f"{total} organisations" if kind == "organisations" else f"the {kind} of {queryset.count()} organisations"
        )
        self.stdout.write(self.style.SUCCESS(f"Exported {what} to {file}."))
