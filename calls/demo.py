"""Demo calls for `seed_demo`: the kinds of calls the cluster follows, dated around today."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from calls.models import Call, Funder
from das.models import StrategicArea

# (funder, programme, French title, English title, areas, opens in days, internal deadline in days, max aid rate)
DEMO_CALLS = [
    (
        Funder.BPIFRANCE,
        "i-Démo",
        "i-Démo — projets structurants de R&D en santé",
        "i-Démo — large health R&D projects",
        ["biotherapies-molecules", "biological-diagnostics"],
        -40,
        35,
        Decimal(45),
    ),
    (
        Funder.REGION_IDF,
        "Innov'up",
        "Innov'up — soutien aux projets innovants franciliens",
        "Innov'up — support for innovative projects in Île-de-France",
        [],
        -10,
        18,
        Decimal(30),
    ),
    (
        Funder.ANR,
        "PRCE",
        "ANR PRCE — projets de recherche collaborative avec les entreprises",
        "ANR PRCE — collaborative research projects with companies",
        ["imaging", "digital-health"],
        -60,
        6,
        None,
    ),
    (
        Funder.HORIZON_EUROPE,
        "Cluster 1 Health",
        "Horizon Europe — Santé, outils et technologies numériques",
        "Horizon Europe — Health, digital tools and technologies",
        ["digital-health", "techno-therapies"],
        20,
        80,
        None,
    ),
    (
        Funder.BPIFRANCE,
        "PSPC-Régions",
        "PSPC-Régions — projets structurants pour la compétitivité (session close)",
        "PSPC-Régions — structuring projects for competitiveness (closed round)",
        ["imaging", "digital-health"],
        -240,
        -150,
        Decimal(45),
    ),
]
CLOSED_PROGRAMME = "PSPC-Régions"  # its proposals were reviewed, labelled and funded (projects.demo)


def seed_calls_demo(*, now: datetime.datetime | None = None) -> list[Call]:
    """Five published calls: three open (one closing within a week), one opening later, and one
    closed five months ago, whose proposals went their way (projects.demo gives it some)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    areas = {area.code: area for area in StrategicArea.objects.all()}
    calls = []
    for funder, programme, title_fr, title_en, codes, opens, closes, rate in DEMO_CALLS:
        internal = timezone.make_aware(
            datetime.datetime.combine(today + datetime.timedelta(days=closes), datetime.time(23, 59))
        )
        call = Call.objects.create(
            funder=funder,
            programme=programme,
            title_fr=title_fr,
            title_en=title_en,
            description_fr="Le pôle rassemble les projets, les fait expertiser et les labellise "
            "avant la date limite du financeur.",
            description_en="The cluster gathers the proposals, reviews and labels them before the funder's deadline.",
            opens_on=today + datetime.timedelta(days=opens),
            internal_deadline=internal,
            funder_deadline=internal + datetime.timedelta(days=21),
            max_aid_rate=rate,
            documents_required="Annexe technique\nAnnexe financière\nLettres d\u2019engagement des partenaires",
            is_published=True,
        )
        call.areas.set([areas[code] for code in codes if code in areas])
        calls.append(call)
    return calls
