"""A progress bar with rows per second for management commands (rich), on stderr so stdout stays a report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text


class RowsPerSecondColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("— rows/s" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed")


@contextmanager
def row_progress(*, enabled: bool = True) -> Iterator[Progress]:
    """`progress.add_task(label, total=n)`, then `progress.update(task, completed=done)` as rows go by."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RowsPerSecondColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        speed_estimate_period=5,
    )
    with progress:
        yield progress
