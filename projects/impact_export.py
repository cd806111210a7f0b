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
    """The dashboard's figures: overall, then by DAS, by year and by funding scope."""
    figures = impact_figures()
    rows: list[list] = [SUMMARY_HEADER, ["overall", "", *figures.overall.as_row()]]
    for dimension, breakdown in (("das", figures.by_area), ("year", figures.by_year), ("scope", figures.by_scope)):
        rows.extend([dimension, str(label), *row.as_row()] for label, row in breakdown)
    return _csv(rows)


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
