"""Deterministic synthetic members for development and benchmarks (used by seed_demo)."""

from __future__ import annotations

import datetime
import random
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.utils import timezone
from django.utils.text import slugify
from faker import Faker
from stdnum import luhn

from common.bulk import bulk_insert
from members.models import (
    FeeRate,
    MembershipYear,
    Organisation,
    Person,
    organisation_name_key,
    organisation_search_key,
)
from members.selectors import directory_changed

# Weighted like a Paris-region health cluster: mostly companies, then research and care.
CATEGORY_WEIGHTS = {
    Organisation.Category.STARTUP: 34,
    Organisation.Category.SME: 24,
    Organisation.Category.MIDSIZE: 5,
    Organisation.Category.LARGE: 8,
    Organisation.Category.RESEARCH: 9,
    Organisation.Category.UNIVERSITY: 4,
    Organisation.Category.HOSPITAL: 8,
    Organisation.Category.AUTHORITY: 2,
    Organisation.Category.INVESTOR: 3,
    Organisation.Category.OTHER: 3,
}
STATUS_WEIGHTS = {
    Organisation.Status.ACTIVE: 82,
    Organisation.Status.LAPSED: 8,
    Organisation.Status.RESIGNED: 4,
    Organisation.Status.PROSPECT: 6,
}
# Île-de-France départements, most members are there; a few come from elsewhere.
DEPARTEMENTS = ["75"] * 8 + ["92"] * 4 + ["94"] * 3 + ["91"] * 3 + ["93", "78", "77", "95", "69", "13", "31", "67"]
COMPANY_WORDS = [
    "Bio",
    "Medi",
    "Cardio",
    "Neuro",
    "Onco",
    "Gen",
    "Immuno",
    "Theranos",
    "Vita",
    "Derma",
    "Ortho",
    "Pharma",
]
COMPANY_SUFFIXES = [
    "Diagnostics",
    "Therapeutics",
    "Imaging",
    "Health",
    "Robotics",
    "Biotech",
    "Medical",
    "Devices",
    "Data",
]
LEGAL_FORMS = ["SAS", "SA", "SARL", ""]
RESEARCH = [
    "Inserm U{n}",
    "CNRS UMR {n}",
    "CEA — Laboratoire {w}",
    "Inria — équipe {w}",
    "Institut Pasteur — unité {w}",
]
HOSPITALS = ["Hôpital {s} (AP-HP)", "Centre hospitalier de {c}", "GHU {s}", "Institut {s}", "Clinique {s}"]
UNIVERSITIES = ["Université {c}", "Université Paris {n}", "École d\u2019ingénieurs de {c}"]
AUTHORITIES = ["Ville de {c}", "Communauté d\u2019agglomération de {c}", "Département {n}"]
INVESTORS = ["{w} Capital", "{w} Ventures", "{w} Partners"]
OTHERS = ["Fondation {w}", "Association {w} Santé", "Collectif {w}"]
SAINTS = ["Saint-Louis", "Saint-Antoine", "Pitié-Salpêtrière", "Necker", "Cochin", "Bichat", "Beaujon", "Henri-Mondor"]
ROLES = ["Directeur général", "Directrice R&D", "Responsable innovation", "Chef de projet", "Responsable administratif"]


ACTIVITIES = {
    "company": [
        "développe {thing} pour {who}",
        "conçoit et fabrique {thing}",
        "amène {thing} du laboratoire à la clinique",
    ],
    "research": [
        "étudie {topic}",
        "conduit un programme de recherche sur {topic}",
        "héberge une plateforme dédiée à {topic}",
    ],
    "hospital": ["mène des essais cliniques en {topic}", "est un centre de référence pour {topic}"],
    "other": ["soutient l\u2019innovation en {topic}", "finance et accompagne des entreprises en {topic}"],
}
THINGS = [
    "des tests de diagnostic in vitro",
    "des logiciels d\u2019IA pour l\u2019imagerie médicale",
    "des dispositifs médicaux implantables",
    "des thérapies cellulaires et géniques",
    "des solutions de télésurveillance",
    "des robots chirurgicaux",
    "de nouvelles molécules antibiotiques",
    "des analyseurs de biologie délocalisée",
]
WHO = ["les hôpitaux", "les médecins généralistes", "les patients atteints de maladies chroniques", "les laboratoires"]
TOPICS = [
    "oncologie",
    "maladies neurodégénératives",
    "imagerie cardiovasculaire",
    "maladies rares",
    "maladies infectieuses",
    "santé numérique",
    "médecine régénérative",
]
RESIGNATION_REASONS = [
    "Rachat de l\u2019entreprise",
    "Restrictions budgétaires",
    "Activité recentrée hors santé",
    "Départ de la région",
]
HEADCOUNT_BANDS = {
    Organisation.Category.STARTUP: (2, 30),
    Organisation.Category.SME: (10, 249),
    Organisation.Category.MIDSIZE: (250, 4999),
    Organisation.Category.LARGE: (5000, 60000),
}


def _description(rng: random.Random, name: str, category: str) -> str:
    if category in Organisation.COMPANY_CATEGORIES:
        kind = "company"
    elif category in (Organisation.Category.RESEARCH, Organisation.Category.UNIVERSITY):
        kind = "research"
    elif category == Organisation.Category.HOSPITAL:
        kind = "hospital"
    else:
        kind = "other"
    activity = rng.choice(ACTIVITIES[kind]).format(
        thing=rng.choice(THINGS), who=rng.choice(WHO), topic=rng.choice(TOPICS)
    )
    return f"{name} {activity}."


def _siren(rng: random.Random, taken: set[str]) -> str:
    while True:
        body = f"{rng.randrange(10_000_000, 99_999_999)}"
        number = body + luhn.calc_check_digit(body)
        if number not in taken:
            taken.add(number)
            return number


def _host(slug: str, length: int) -> str:
    """A host name from a slug cut at `length`: a label never ends with a hyphen ("…-sante-.example"
    was refused by the contacts import)."""
    return f"{slug[:length].strip('-')}.example"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _name(rng: random.Random, fake: Faker, category: str) -> str:
    fill = {"n": rng.randrange(1, 1300), "w": fake.last_name(), "c": fake.city(), "s": rng.choice(SAINTS)}
    if category in Organisation.COMPANY_CATEGORIES:
        base = rng.choice(COMPANY_WORDS) + rng.choice(["", "x", "ia", "on", "is"]) + " " + rng.choice(COMPANY_SUFFIXES)
        return f"{base} {rng.choice(LEGAL_FORMS)}".strip()
    pattern = {
        Organisation.Category.RESEARCH: RESEARCH,
        Organisation.Category.HOSPITAL: HOSPITALS,
        Organisation.Category.UNIVERSITY: UNIVERSITIES,
        Organisation.Category.AUTHORITY: AUTHORITIES,
        Organisation.Category.INVESTOR: INVESTORS,
    }.get(category, OTHERS)
    return rng.choice(pattern).format(**fill)


ORGANISATION_FIELDS = (
    "name",
    "slug",
    "category",
    "siren",
    "address",
    "postcode",
    "city",
    "website",
    "status",
    "member_since",
    "headcount",
    "description",
    "directory_opt_in",
    "name_key",
    "search_key",
)
PERSON_FIELDS = (
    "is_primary_contact",
    "is_billing_contact",
    "is_scientific_contact",
    "is_communication_contact",
    "civility",
    "first_name",
    "last_name",
    "position",
    "email",
    "organisation_id",
)
MEMBERSHIP_YEAR_FIELDS = (
    "organisation_id",
    "year",
    "fee",
    "status",
    "invoice_reference",
    "paid_on",
    "resigned_on",
    "resignation_reason",
)


@dataclass(frozen=True)
class SeededOrganisation:
    """What the rest of the seed needs to know of an organisation it created."""

    pk: int
    slug: str
    category: str
    status: str
    member_since: datetime.date | None
    headcount: int | None


def seed_organisations(*, rng: random.Random, fake: Faker, count: int) -> list[int]:
    """Create `count` organisations with one to three contacts each, their DAS and years; return their ids."""
    taken_sirens = set(Organisation.objects.exclude(siren="").values_list("siren", flat=True))
    taken_slugs = set(Organisation.objects.values_list("slug", flat=True))
    categories, category_weights = zip(*CATEGORY_WEIGHTS.items(), strict=True)
    statuses, status_weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    rows = []
    for _ in range(count):
        category = str(rng.choices(categories, category_weights)[0])
        name = _name(rng, fake, category)
        slug = base = slugify(name)[:240] or "organisation"
        suffix = 1
        while slug in taken_slugs:
            suffix += 1
            slug = f"{base}-{suffix}"
        taken_slugs.add(slug)
        status = str(rng.choices(statuses, status_weights)[0])
        city = fake.city()
        since = (
            None
            if status == Organisation.Status.PROSPECT
            else datetime.date(rng.randrange(2005, 2027), rng.randrange(1, 13), 1)
        )
        rows.append(
            (
                name,
                slug,
                category,
                _siren(rng, taken_sirens),
                f"{rng.randrange(1, 200)} {fake.street_name()}",
                f"{rng.choice(DEPARTEMENTS)}{rng.randrange(0, 1000):03d}",
                city,
                f"https://www.{_host(slug, 50)}",
                status,
                since,
                rng.randrange(*HEADCOUNT_BANDS[category]) if category in HEADCOUNT_BANDS else None,
                _description(rng, name, category),
                rng.random() < 0.85,
                # No save() runs: derive the normalised name here.
                organisation_name_key(name),
                organisation_search_key(name, city),
            )
        )
    ids = bulk_insert(Organisation, ORGANISATION_FIELDS, rows, with_ids=True)
    created = [
        SeededOrganisation(pk=pk, slug=row[1], category=row[2], status=row[8], member_since=row[9], headcount=row[10])
        for pk, row in zip(ids, rows, strict=True)
    ]
    del rows
    _seed_people(rng=rng, fake=fake, organisations=created)
    _seed_das_interests(rng=rng, organisations=created)
    _seed_membership_years(rng=rng, organisations=created)
    directory_changed()
    return ids


def _seed_people(*, rng: random.Random, fake: Faker, organisations: list[SeededOrganisation]) -> None:
    civilities = [str(Person.Civility.MR), str(Person.Civility.MRS), str(Person.Civility.DR)]
    people = []
    for organisation in organisations:
        domain = _host(organisation.slug, 40)
        for index in range(rng.randrange(1, 4)):
            first, last = fake.first_name(), fake.last_name()
            people.append(
                (
                    index == 0,
                    index == 1 or (index == 0 and rng.random() < 0.3),
                    index == 2,
                    index == 0 and rng.random() < 0.5,
                    rng.choice(civilities),
                    first,
                    last,
                    rng.choice(ROLES),
                    f"{_ascii(first)}.{_ascii(last)}@{domain}",
                    organisation.pk,
                )
            )
    bulk_insert(Person, PERSON_FIELDS, people)


def _seed_das_interests(*, rng: random.Random, organisations: list[SeededOrganisation]) -> None:
    area_ids = list(apps.get_model("das", "StrategicArea").objects.values_list("pk", flat=True))
    if not area_ids:
        return
    links = [
        (organisation.pk, area_id)
        for organisation in organisations
        for area_id in rng.sample(area_ids, rng.choice([1, 1, 2, 2, 3]))
    ]
    bulk_insert(Organisation.das_interests.through, ("organisation_id", "strategicarea_id"), links)


def _seed_membership_years(*, rng: random.Random, organisations: list[SeededOrganisation]) -> None:
    """Last year and this year of each member, consistent with its status; the fee comes from the grid."""
    grid: dict[str, list[FeeRate]] = {}
    for rate in FeeRate.objects.order_by("-headcount_min"):
        grid.setdefault(rate.category, []).append(rate)

    def fee(organisation: SeededOrganisation):
        headcount = organisation.headcount or 0
        for rate in grid.get(organisation.category, []):
            if rate.headcount_min <= headcount and (rate.headcount_max is None or headcount <= rate.headcount_max):
                return rate.amount
        return Decimal(0)

    this_year = timezone.localdate().year
    years = []
    for organisation in organisations:
        if organisation.member_since is None:
            continue
        first = max(organisation.member_since.year, this_year - 1)
        for year in range(first, this_year + 1):
            last = year == this_year
            status, paid_on, resigned_on, reason = MembershipYear.Status.ACTIVE, None, None, ""
            if last and organisation.status == Organisation.Status.LAPSED:
                status = MembershipYear.Status.LAPSED
            elif last and organisation.status == Organisation.Status.RESIGNED:
                status = MembershipYear.Status.RESIGNED
                resigned_on = datetime.date(year, rng.randrange(1, 7), rng.randrange(1, 29))
                reason = rng.choice(RESIGNATION_REASONS)
            if status == MembershipYear.Status.ACTIVE:
                paid_on = datetime.date(year, rng.randrange(1, 4), rng.randrange(1, 29))
            years.append(
                (
                    organisation.pk,
                    year,
                    fee(organisation),
                    str(status),
                    f"F{year}-{organisation.pk:06d}" if paid_on else "",
                    paid_on,
                    resigned_on,
                    reason,
                )
            )
    bulk_insert(MembershipYear, MEMBERSHIP_YEAR_FIELDS, years)


def demo_login(*, email: str, password: str, person: Person, staff: bool = False) -> None:
    """Create or reset a demo login and attach it to `person`."""
    from members.models import User

    user, _ = User.objects.get_or_create(email=email)
    user.first_name, user.last_name = person.first_name, person.last_name
    user.is_staff = user.is_superuser = staff
    user.set_password(password)
    user.save()
    Person.objects.filter(user=user).exclude(pk=person.pk).update(user=None)
    person.user = user
    person.save(update_fields=["user"])
