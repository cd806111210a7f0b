"""Reads of the members app that span models or serve a page."""

from __future__ import annotations

import difflib
import functools
import hashlib
import itertools
import logging
from decimal import Decimal
from html import escape

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Aggregate, CharField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Left
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from common.cache import cached, changed, generation
from members.departements import departement_of, is_departement_code
from members.models import FeeRate, Organisation, organisation_name_key, search_term_key, strategic_areas

logger = logging.getLogger(__name__)

MIX_CACHE_SECONDS = 600
DIRECTORY = "members:directory"  # cached directory pages and membership mix (common.cache)


def fee_for(*, organisation: Organisation) -> Decimal:
    """The yearly fee of `organisation` from the fee grid (companies by headcount band)."""
    headcount = organisation.headcount or 0
    rate = (
        FeeRate.objects.filter(category=organisation.category, headcount_min__lte=headcount)
        .filter(Q(headcount_max__isnull=True) | Q(headcount_max__gte=headcount))
        .order_by("-headcount_min")
        .first()
    )
    if rate is None:
        raise ValidationError(
            _("The fee grid has no rate for %(category)s with a headcount of %(headcount)s."),
            code="no_fee_rate",
            params={"category": organisation.get_category_display(), "headcount": headcount},
        )
    return rate.amount


def probable_duplicates(
    *, name: str, siren: str = "", exclude_pk: int | None = None, limit: int = 10
) -> list[Organisation]:
    """Organisations that are probably the same as (name, siren): same SIREN, or a near-identical normalised name.

    Index-friendly: the SIREN and the exact key are equality lookups; near-identical keys are
    looked for only among those sharing the key's first characters (a prefix lookup).
    """
    key = organisation_name_key(name)
    if not key and not siren:
        return []
    condition = Q(name_key=key) if key else Q(pk__in=[])
    if siren:
        condition |= Q(siren=siren)
    candidates = Organisation.objects.filter(condition)
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    found = {organisation.pk: organisation for organisation in candidates[:limit]}
    if key and len(key) >= 6 and len(found) < limit:
        similar = Organisation.objects.filter(name_key__startswith=key[:5]).exclude(pk__in=list(found))
        if exclude_pk is not None:
            similar = similar.exclude(pk=exclude_pk)
        for organisation in similar.only("pk", "name", "name_key", "siren", "slug")[:200]:
            if difflib.SequenceMatcher(None, key, organisation.name_key).ratio() >= 0.9:
                found[organisation.pk] = organisation
                if len(found) >= limit:
                    break
    return list(found.values())


def directory_organisations(
    *, q: str = "", das: str = "", category: str = "", departement: str = ""
) -> QuerySet[Organisation]:
    """The public directory: listed members, filtered; only what a card shows is loaded, with
    `area_ids` (its DAS, "2,5") read in the same query, not in a second one: 0.2 to 0.9 ms less
    a page. A count or a list of ids leaves the column out. `directory_cards` names them.
    """
    organisations = _listed_for_cards().all()
    key = search_term_key(q)
    if key:
        organisations = organisations.filter(search_key__contains=key)
    if das:
        # EXISTS, one probe of the M2M table's (organisation, area) index per organisation the
        # other filters leave, rather than IN, which hashed the area's 36,000 pairs: the count of
        # "imaging" in 92 at 100,000 organisations, 8 to 13 ms against 11 to 19 (psql, 6 runs
        # each), and no slower for the area alone or with a category. The area's id is looked up
        # first (an InitPlan).
        organisations = organisations.filter(_interested_in(das))
    if category in Organisation.Category.values:
        organisations = organisations.filter(category=category)
    if departement:
        organisations = organisations.filter(postcode__startswith=departement)
    return organisations


@functools.cache
def _listed_for_cards() -> QuerySet[Organisation]:
    """The directory's unfiltered queryset, built once a process (never evaluated: each use is a
    copy, `.all()`): building it, its DAS subquery above all, was 0.3 ms of each page."""
    return (
        Organisation.objects.listed()
        .only("pk", "name", "slug", "category", "city", "postcode", "description")
        .annotate(area_ids=Subquery(_area_ids_of(OuterRef("pk"))))
        .order_by("name", "pk")
    )


@functools.lru_cache(maxsize=16)
def _interested_in(code: str) -> Exists:
    """The directory's DAS filter, built once a process per area (a filter copies it)."""
    through = Organisation.das_interests.through
    area = through.strategicarea.field.related_model.objects.filter(code=code).values("pk")[:1]
    return Exists(through.objects.filter(organisation_id=OuterRef("pk"), strategicarea_id=Subquery(area)))


class _Joined(Aggregate):
    """A column's values in one text, comma-separated (STRING_AGG in PostgreSQL, GROUP_CONCAT in SQLite)."""

    function = "STRING_AGG"
    template = "%(function)s((%(expressions)s)::text, ',')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, function="GROUP_CONCAT", template="%(function)s(%(expressions)s, ',')"
        )


def _area_ids_of(organisation_id) -> QuerySet:
    through = Organisation.das_interests.through
    return (
        through.objects.filter(organisation_id=organisation_id)
        .values("organisation_id")
        .annotate(ids=_Joined("strategicarea_id"))
        .values("ids")
    )


# A directory card, as templates/members/_directory_results.html prints it.
CARD = (
    '<div class="col"><article class="card h-100 member-card"><div class="card-body">'
    '<h2 class="h5 card-title"><a href="{url}">{name}</a></h2>'
    '<p class="small text-muted mb-2">{category}{place}</p>{summary}{badges}'
    "</div></article></div>"
)
CARD_PLACE = " · {}"
CARD_SUMMARY = '<p class="card-text small">{}</p>'
CARD_BADGE = '<span class="badge text-bg-light border me-1">{}</span>'


def directory_cards(organisations: list[Organisation], *, area_names: dict[int, str]) -> list[Organisation]:
    """A directory page's organisations, each with its `card`: the HTML of its card (`CARD`), with
    its name linked to its page, its category, its place ("Paris (75)"), the first 30 words of
    its description and its DAS as badges, in order.

    The DAS are the `area_ids` of `directory_organisations`, named and ordered from `area_names`
    (area id -> name, in the areas' order: `directory_areas`); an area created since those were
    cached is left out until they are. A prefetch of `das_interests` built a StrategicArea for
    every badge (96 cards: about 200) and joined them in SQL; it was a fifth of the time of a
    page. The detail page's address is reversed once, not once per card. Each card is put
    together here, not in template lookups, loops and filters: 24 cards took 4.4 ms to build and
    print at first; 1.2 ms with their text built here and their markup in the template; 0.65 ms
    now (96 cards: 3.6 ms then, 1.6 ms now; at 100,000 organisations, in-process).
    """
    # A slug is letters, digits, "-" and "_": "SLUG" cannot occur in the rest of the address.
    url = reverse("members:organisation", kwargs={"slug": "SLUG"})
    # Translated and escaped once a page: get_category_display() hashed every (lazy) label again
    # for each card. Each value is escaped with the standard library's html.escape, as Django's
    # escape() does, without its lazy-string wrapper: format_html() cost twice the rest of a card.
    categories = {value: escape(str(label)) for value, label in Organisation.Category.choices}
    badges = {pk: CARD_BADGE.format(escape(name)) for pk, name in area_names.items()}
    for organisation in organisations:
        ids = {int(pk) for pk in (organisation.area_ids or "").split(",") if pk}
        summary = Truncator(organisation.description).words(30, truncate=" …")
        card = CARD.format(
            url=escape(url.replace("SLUG", organisation.slug)),
            name=escape(organisation.name),
            category=categories.get(organisation.category) or escape(organisation.category),
            place=CARD_PLACE.format(escape(f"{organisation.city} ({organisation.departement})"))
            if organisation.city
            else "",
            summary=CARD_SUMMARY.format(escape(summary)) if summary else "",
            badges="".join(badge for pk, badge in badges.items() if pk in ids),
        )
        organisation.card = mark_safe(card)  # every value in it is escaped above  # noqa: S308  # nosec B308 B703
    return organisations


class IdsFirst:
    """The directory's list for a Paginator: a page's ids first, then the rows of those ids by primary key.

    Without a search, past the first pages, the page's ids come from the listed members' (name, id)
    index alone (an index-only scan, however far the page): OFFSET on the full rows made
    PostgreSQL read, and throw away, every row before the page (4,800 for page 200: 27 ms at
    100,000 organisations). Near the start, the page is read in one query, as before.
    With a search, every matching id is read at once, in order, from the trigram index of
    listed members (members migration 0007), and the count is their number: PostgreSQL otherwise
    walked the name index testing each row against the term (7,741 rows to fill the first page
    of "cardio", 42 to 62 ms) and counted the matches in a second query (20 ms). Past
    SEARCH_IDS_CAP matches, a broad term falls back to the count and the page.
    """

    SEARCH_IDS_CAP = 10_000
    # Before this offset, the rows skipped cost less than a second round trip (measured at 100,000).
    IDS_FIRST_FROM = 480

    def __init__(self, queryset: QuerySet[Organisation], *, search: bool = False) -> None:
        self.queryset = queryset
        self.search = search
        self._ids: list[int] | None = None

    def _all_ids(self) -> list[int] | None:
        if self.search and self._ids is None:
            ids = list(self.queryset.prefetch_related(None).values_list("pk", flat=True)[: self.SEARCH_IDS_CAP + 1])
            self._ids = ids if len(ids) <= self.SEARCH_IDS_CAP else []
            self.search = bool(self._ids) or len(ids) == 0
        return self._ids if self.search else None

    def known_count(self) -> int | None:
        """The number of matches when a search has read their ids (no COUNT needed), else None."""
        ids = self._all_ids()
        return None if ids is None else len(ids)

    def count(self) -> int:
        known = self.known_count()
        return known if known is not None else self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        if not isinstance(item, slice):
            return self[item : item + 1][0]
        ids = self._all_ids()
        if ids is not None:
            ids = ids[item]
        elif (item.start or 0) < self.IDS_FIRST_FROM:
            return list(self.queryset[item])  # near the start, one query is cheaper than two
        else:
            ids = list(self.queryset.prefetch_related(None).values_list("pk", flat=True)[item])
        if not ids:
            return []
        rows = {organisation.pk: organisation for organisation in self.queryset.filter(pk__in=ids)}
        return [rows[pk] for pk in ids if pk in rows]


def directory_facts() -> dict:
    """What every page of the directory shows whatever its filters, read in one cache lookup:
    `mix` (active members by side of the "triple helix": industry, research and clinical, public
    bodies, others; and how many are listed), `departements` (the postcode prefixes where listed
    members are, for the filter) and `areas` (the strategic areas, in their order, with their
    code and names only).

    Computed once per change of the directory (one aggregate, one scan of the listed members'
    postcode index, the five areas), kept at most MIX_CACHE_SECONDS; `generation` is the
    directory's current generation, for the key of the page itself (`directory_page_key`).
    """
    current = generation(DIRECTORY)

    def compute() -> dict:
        mix = Organisation.objects.active().aggregate(
            total=Count("pk"),
            industry=Count("pk", filter=Q(category__in=Organisation.COMPANY_CATEGORIES)),
            research_clinical=Count("pk", filter=Q(category__in=Organisation.RESEARCH_CLINICAL_CATEGORIES)),
            public_bodies=Count("pk", filter=Q(category=Organisation.Category.AUTHORITY)),
            listed=Count("pk", filter=Q(directory_opt_in=True)),
        )
        mix["others"] = mix["total"] - mix["industry"] - mix["research_clinical"] - mix["public_bodies"]
        prefixes = (
            Organisation.objects.listed()
            .exclude(postcode="")
            .annotate(prefix=Left("postcode", 3))
            .values_list("prefix", flat=True)
            .distinct()
        )
        return {
            "mix": mix,
            "departements": sorted({departement_of(prefix) for prefix in prefixes}),
            "areas": list(strategic_areas().only("pk", "code", "name_fr", "name_en")),
        }

    return {**cached(f"{DIRECTORY}:{current}:facts", compute, seconds=MIX_CACHE_SECONDS), "generation": current}


def directory_page(facts: dict, filters: dict, *, page_size: int, page_number: int) -> Page:
    """The page of the directory that `filters` select (`directory_organisations`), its cards
    ready to print (`directory_cards`), counted by `directory_count` where it can tell."""
    paginator = Paginator(IdsFirst(directory_organisations(**filters), search=bool(filters.get("q"))), page_size)
    count = directory_count(facts, filters)
    if count is not None:
        paginator.count = count
    page = paginator.get_page(page_number)
    directory_cards(page.object_list, area_names={pk: name for pk, _code, name in directory_areas(facts)})
    return page


def directory_count(facts: dict, filters: dict) -> int | None:
    """How many listed members the directory's `filters` select, with no query of their own:
    from its facts (no filter) or its counts by category, département and area
    (`_directory_counts`). None where those cannot tell, for the caller to count: a search, a
    département filter that is not a whole département's code (such as "9"), or the cache down.

    Without them, a filtered page ran a COUNT besides its page: "imaging" in 92, 7.7 ms of
    PostgreSQL's time at 100,000 organisations; "sme", 1.5 ms.
    """
    if not any(filters.values()):
        return facts["mix"]["listed"]
    departement = filters.get("departement") or None
    if filters.get("q") or (departement and not is_departement_code(departement)):
        return None
    if not facts["generation"]:  # the cache is down: one COUNT costs less than every count each time
        return None
    area = 0
    if filters.get("das"):
        area = next((pk for pk, code, _name in directory_areas(facts) if code == filters["das"]), None)
        if area is None:
            return None
    counts = _directory_counts(facts["generation"])
    return counts.get((filters.get("category") or None, departement), {}).get(area, 0)


def _directory_counts(generation: int) -> dict[tuple[str, str | None], dict[int, int]]:
    """Listed members by (category, département), each {0: all of them, area id: those interested
    in the area}; a category or département of None counts every one. Computed once per
    generation of the directory (two grouped queries, 0.2 s at 100,000 organisations), kept at
    most MIX_CACHE_SECONDS, under its own key: only a filtered page reads it.
    """

    def compute() -> dict:
        counts: dict[tuple[str, str | None], dict[int, int]] = {}

        def add(category: str, prefix: str, area: int, number: int) -> None:
            for key in itertools.product((category, None), (departement_of(prefix), None)):
                cell = counts.setdefault(key, {})
                cell[area] = cell.get(area, 0) + number

        listed = Organisation.objects.listed()
        for category, prefix, number in (
            listed.annotate(prefix=Left("postcode", 3)).values_list("category", "prefix").annotate(Count("pk"))
        ):
            add(category, prefix, 0, number)
        through = Organisation.das_interests.through
        for category, prefix, area, number in (
            through.objects.filter(organisation__in=listed.values("pk"))
            .annotate(category=F("organisation__category"), prefix=Left("organisation__postcode", 3))
            .values_list("category", "prefix", "strategicarea_id")
            .annotate(Count("pk"))
        ):
            add(category, prefix, area, number)
        return counts

    return cached(f"{DIRECTORY}:{generation}:counts", compute, seconds=MIX_CACHE_SECONDS)


def directory_areas(facts: dict) -> list[tuple[int, str, str]]:
    """(id, code, name in the current language) of each strategic area of `directory_facts`."""
    return [(area.pk, area.code, area.name) for area in facts["areas"]]


def membership_mix() -> dict[str, int]:
    """Active members by side of the "triple helix", and how many are listed (`directory_facts`)."""
    return directory_facts()["mix"]


def directory_page_key(*, generation: int, filters: dict, page_size: int, page: int, language: str) -> str:
    """The cache key of one page of the directory, as of the directory's `generation` (`directory_facts`)."""
    what = repr((sorted(filters.items()), page_size, page, language)).encode()
    return f"{DIRECTORY}:{generation}:{hashlib.sha256(what).hexdigest()[:32]}"


def directory_changed() -> None:
    """Drop every cached directory page and membership mix: an organisation, its DAS or its status changed.

    Called by each write path: the profile edit, the admin's save and delete, the import, and
    `organisation_status_sync` (the daily task, renewals and resignations).
    """
    changed(DIRECTORY)


# --- Personal data (see members/privacy.py) -------------------------------------------------


def user_data(user) -> dict:
    """The login's own fields (never the password hash)."""
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language": user.language,
        "is_staff": user.is_staff,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def personal_data(person) -> dict:
    """What the members app holds about a person: their record, contact roles and organisation."""
    organisation = person.organisation
    return {
        "person": {
            "civility": person.civility,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "position": person.position,
            "email": person.email,
            "affiliation": person.affiliation,
            "invited_at": person.invited_at,
        },
        "contact_roles": {
            "primary": person.is_primary_contact,
            "billing": person.is_billing_contact,
            "scientific": person.is_scientific_contact,
            "communication": person.is_communication_contact,
        },
        "organisation": None
        if organisation is None
        else {
            "name": organisation.name,
            "slug": organisation.slug,
            "siren": organisation.siren,
            "city": organisation.city,
            "status": organisation.status,
        },
    }
