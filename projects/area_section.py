"""The "labelled projects" section of a DAS page (das calls it through settings.DAS_AREA_SECTIONS).

das comes before projects in the dependency order and never imports it; projects adds its
section to the page of each area this way.
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Q

from projects.models import Project
from projects.permissions import visible_proposals
from projects.selectors import EVER_LABELLED as LABELLED_STATUSES  # the label is kept once given

SHOWN = 20


def area_projects_section(*, request, area, day: datetime.date) -> dict:
    """Projects labelled in the DAS: visitors see how many; members and staff see which ones."""
    projects = (
        Project.objects.filter(Q(primary_area=area) | Q(areas=area), status__in=LABELLED_STATUSES)
        .distinct()
        .select_related("lead_organisation")
        .order_by("-submitted_at", "-pk")
    )
    user = request.user
    section = {"template": "projects/_area_projects.html", "count": projects.count(), "projects": [], "links": set()}
    if not user.is_authenticated:
        return section
    # Which ones `user` may open, in the same query: the proposals they may see (one rule, permissions).
    visible = visible_proposals(user).filter(pk=OuterRef("pk"))
    section["projects"] = list(projects.annotate(linked=Exists(visible))[:SHOWN])
    section["links"] = {project.pk for project in section["projects"] if project.linked}
    return section
