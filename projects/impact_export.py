"""The impact dashboard as a spreadsheet file, written as the member export is written.

Semicolons, UTF-8 with a byte-order mark and CRLF line ends, so French Excel opens it in
columns with its accents; every text cell through `common.spreadsheet.neutralise`, because
acronyms and titles are typed by applicants (`=HYPERLINK(…)` must stay text).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from common.spreadsheet import neutralise
from projects.selectors import funded_projects_detail, impact_figures

SUMMARY_HEADER = ["dimension", "key", "projects_funded", "products_launched", "total_investment", "public_aid"]
# After a blank line, a second block: the proposals of each call and committee session.
OUTCOMES_HEADER = [
    "dimension", "key", "proposals", "labelled", "not_labelled", "funded", "labelled_rate", "funded_rate",
]  # fmt: skip
DETAIL_HEADER = [
    "id",
    "acronym",
    "title",
    "organisation",
    "das",
    "status",
    "granted",
    "public_aid",
    "total_investment",
    "products",
]


def _csv(rows: Iterable[list]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def impact_summary_csv() -> bytes:
    """The dashboard's figures: overall, then by DAS, by year and by funding scope; then, after a
    blank line and their own header, the proposals of each call and each committee session."""
    figures = impact_figures()
    rows: list[list] = [SUMMARY_HEADER, ["overall", "", *figures.overall.as_row()]]
    for dimension, breakdown in (("das", figures.by_area), ("year", figures.by_year), ("scope", figures.by_scope)):
        rows.extend([dimension, str(label), *row.as_row()] for label, row in breakdown)
    rows += [[], OUTCOMES_HEADER]
    for table in figures.outcomes:
        for row in table.rows:
            rates = [_rate(row.labelled, row.labelled + row.not_labelled), _rate(row.funded, row.labelled)]
            rows.append([table.key, row.label, row.proposals, row.labelled, row.not_labelled, row.funded, *rates])
    return _csv(rows)


def _rate(part: int, whole: int) -> str:
    """A share as a fraction (0.60), read as a number by any spreadsheet; empty when there is nothing to divide by."""
    return f"{part / whole:.2f}" if whole else ""


def impact_detail_csv() -> bytes:
    """One row per funded project (staff only: the view checks)."""
    rows: list[list] = [DETAIL_HEADER]
    for project in funded_projects_detail():
        rows.append(
            [
                project.pk,
                project.acronym,
                project.title,
                project.lead_organisation.name,
                project.primary_area.code if project.primary_area else "",
                project.status,
                project.granted or 0,
                project.aid or 0,
                project.total_investment or 0,
                project.product_count or 0,
            ]
        )
    return _csv(rows)
