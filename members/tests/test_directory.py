"""The public member directory and the staff changelist: content, filters, query counts."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from members.models import Organisation
from members.selectors import membership_mix
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory
from tests.support import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def make(count: int, areas, **fields) -> list[Organisation]:
    organisations = []
    for n in range(count):
        organisation = OrganisationFactory(**fields)
        organisation.das_interests.set([areas["imaging"], areas["digital-health"]][: 1 + n % 2])
        PersonFactory(organisation=organisation, email=f"secret{organisation.pk}@member.example")
        organisations.append(organisation)
    return organisations


def test_the_directory_lists_active_members_who_opted_in_only(areas):
    OrganisationFactory(name="Listed Biotech")
    OrganisationFactory(name="Shy Biotech", directory_opt_in=False)
    OrganisationFactory(name="Former Biotech", status=Organisation.Status.RESIGNED)
    OrganisationFactory(name="Prospect Biotech", status=Organisation.Status.PROSPECT)

    page = Client().get("/members/").content.decode()

    assert "Listed Biotech" in page
    assert "Shy Biotech" not in page and "Former Biotech" not in page and "Prospect Biotech" not in page


def test_the_directory_never_shows_contacts_email_addresses(areas):
    make(3, areas)

    page = Client().get("/members/").content.decode()
    detail = Client().get(f"/members/{Organisation.objects.first().slug}/").content.decode()

    assert "@member.example" not in page
    assert "@member.example" not in detail


def test_search_ignores_accents_case_and_punctuation(areas):
    OrganisationFactory(name="Hôpital Saint-Louis (AP-HP)", city="Paris")
    OrganisationFactory(name="NeuroWave", city="Évry")

    page = Client().get("/members/", {"q": "hopital saint louis"}).content.decode()
    by_city = Client().get("/members/", {"q": "évry"}).content.decode()

    assert "Saint-Louis" in page and "NeuroWave" not in page
    assert "NeuroWave" in by_city and "Saint-Louis" not in by_city


def test_filters_by_das_category_and_departement(areas):
    imaging = OrganisationFactory(name="Imaging Co", postcode="92100", category="sme")
    imaging.das_interests.set([areas["imaging"]])
    digital = OrganisationFactory(name="Digital Co", postcode="75013", category="startup")
    digital.das_interests.set([areas["digital-health"]])

    by_das = Client().get("/members/", {"das": "imaging"}).content.decode()
    by_category = Client().get("/members/", {"category": "startup"}).content.decode()
    by_departement = Client().get("/members/", {"departement": "92"}).content.decode()

    assert "Imaging Co" in by_das and "Digital Co" not in by_das
    assert '<option value="imaging" selected>' in by_das
    assert '<option value="24" selected>' in by_das  # the page size in use, even when not asked for
    assert "Digital Co" in by_category and "Imaging Co" not in by_category
    assert "Imaging Co" in by_departement and "Digital Co" not in by_departement


def test_the_directory_is_paginated(areas):
    make(30, areas)

    first = Client().get("/members/", {"per_page": 12})
    third = Client().get("/members/", {"per_page": 12, "page": 3})

    assert len(first.context["page"].object_list) == 12
    assert len(third.context["page"].object_list) == 6
    assert "Page 1 sur 3" in first.content.decode()


def test_the_membership_mix_counts_the_triple_helix(areas):
    OrganisationFactory(category="startup")
    OrganisationFactory(category="large")
    OrganisationFactory(category="hospital")
    OrganisationFactory(category="research")
    OrganisationFactory(category="authority")
    OrganisationFactory(category="investor")
    OrganisationFactory(category="startup", status=Organisation.Status.LAPSED)

    OrganisationFactory(category="sme", directory_opt_in=False)

    assert membership_mix() == {
        "total": 7,
        "industry": 3,
        "research_clinical": 2,
        "public_bodies": 1,
        "others": 1,
        "listed": 6,
    }


def directory_queries(client, django_assert_max_num_queries, **params) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/members/", params)
    assert response.status_code == 200
    return len(captured)


def test_the_directory_query_count_does_not_grow_with_data_or_page_size(areas, django_assert_max_num_queries):
    client = Client()
    filters = {"q": "organisation", "das": "imaging", "departement": "75", "category": "startup"}
    make(5, areas)
    client.get("/members/")  # warm the membership mix cache, as in production
    small = directory_queries(client, django_assert_max_num_queries, per_page=12)
    small_filtered = directory_queries(client, django_assert_max_num_queries, per_page=12, **filters)
    make(60, areas)
    cache.clear()
    client.get("/members/")
    large = directory_queries(client, django_assert_max_num_queries, per_page=96)
    large_filtered = directory_queries(client, django_assert_max_num_queries, per_page=96, **filters)

    assert small == large
    assert small_filtered == large_filtered
    with django_assert_max_num_queries(8):
        cache.clear()  # the worst case: the membership mix is computed too
        client.get("/members/", {"per_page": 96, **filters})


def changelist_queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # counted cold: the changelist's COUNT is cached a minute (CachedCountPaginator)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/admin/members/organisation/")
    assert response.status_code == 200
    return len(captured)


def test_the_changelist_query_count_does_not_grow_with_data(areas, django_assert_max_num_queries):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    make(5, areas)
    small = changelist_queries(client)
    make(60, areas)
    large = changelist_queries(client)

    assert small == large
    with django_assert_max_num_queries(small):
        client.get("/admin/members/organisation/", {"status__exact": "active", "das": "imaging", "departement": "75"})


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("biosense", "BioSense"),
        ("BIO SENSE", "BioSense"),
        ("552100554", "BioSense"),
        ("552 100", "BioSense"),
        ("créteil", "NeuroWave"),
        ("jeanne.martin@neuro", "NeuroWave"),
    ],
)
def test_staff_search_by_name_siren_city_and_contact_email(areas, term, found):
    OrganisationFactory(name="BioSense", siren="552100554", city="Paris")
    neuro = OrganisationFactory(name="NeuroWave", siren="732829320", city="Créteil")
    PersonFactory(organisation=neuro, email="jeanne.martin@neurowave.example")
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/admin/members/organisation/", {"q": term})

    names = [organisation.name for organisation in response.context["cl"].result_list]
    assert names == [found]


@pytest.mark.usefixtures("colleague", "outsider")
def test_member_contacts_and_anonymous_visitors_cannot_open_the_admin(owner):
    client = Client()
    client.force_login(owner)

    assert client.get("/admin/members/organisation/").status_code == 302
    assert Client().get("/admin/members/organisation/import/").status_code == 302


# --- Figures that agree, départements that occur, numbered pages (issue 11, item 17) -------------


def test_the_directory_says_why_its_count_is_below_the_number_of_active_members(areas):
    make(3, areas)
    OrganisationFactory(name="Shy Biotech", directory_opt_in=False)

    page = Client().get("/members/").content.decode()
    filtered = Client().get("/members/", {"category": "startup", "q": "organisation"}).content.decode()

    assert "4 adhérents actifs au total" in page
    assert "3 d\u2019entre eux figurent dans cet annuaire" in page
    assert "3 organisations trouvées." in page
    assert "3 organisations trouvées parmi les 3 inscrites à l\u2019annuaire." in filtered


def test_the_departement_filter_offers_the_departements_where_listed_members_are(areas):
    OrganisationFactory(name="Lyon Bio", postcode="69007")
    OrganisationFactory(name="Marseille Med", postcode="13005")
    OrganisationFactory(name="Réunion Santé", postcode="97400")
    OrganisationFactory(name="Hidden Toulouse", postcode="31000", directory_opt_in=False)

    page = Client().get("/members/").content.decode()
    lyon = Client().get("/members/", {"departement": "69"}).content.decode()

    assert '<option value="69">69 — Rhône</option>' in page
    assert "13 — Bouches-du-Rhône" in page and "974 — La Réunion" in page
    assert "Haute-Garonne" not in page and '<option value="95">' not in page  # Val-d'Oise: nobody listed
    assert "Lyon Bio" in lyon and "Marseille Med" not in lyon
    assert '<option value="69" selected>' in lyon


def test_the_directory_numbers_its_pages(areas):
    make(30, areas)

    page = Client().get("/members/", {"per_page": 12, "page": 2}).content.decode()

    assert 'aria-current="page">\n            <span class="page-link">2</span>' in page
    assert 'href="?per_page=12&amp;page=1"' in page and 'href="?per_page=12&amp;page=3"' in page
    assert "Précédent" in page and "Suivant" in page


def test_the_changelist_count_is_cached_until_an_organisation_changes(
    areas, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from members.selectors import directory_changed

    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    make(3, areas)
    cold = changelist_queries(client)

    with django_assert_max_num_queries(cold - 1):
        warm = client.get("/admin/members/organisation/").content.decode()
    OrganisationFactory(name="Newcomer")
    with django_capture_on_commit_callbacks(execute=True):
        directory_changed()  # as every write path of organisations does
    with django_assert_max_num_queries(cold):
        after = client.get("/admin/members/organisation/").content.decode()

    assert "3 organisations" in warm
    assert "4 organisations" in after and "Newcomer" in after


def test_a_search_counts_and_pages_its_matches_from_their_ids_and_falls_back_past_the_cap(areas, monkeypatch):
    from members.selectors import IdsFirst

    make(5, areas, city="Lyon")
    OrganisationFactory(name="Elsewhere", city="Brest")

    few = Client().get("/members/", {"q": "lyon", "per_page": 12}).content.decode()
    cache.clear()
    monkeypatch.setattr(IdsFirst, "SEARCH_IDS_CAP", 2)
    many = Client().get("/members/", {"q": "lyon", "per_page": 12}).content.decode()

    for page in (few, many):
        assert "5 organisations trouvées parmi les 6 inscrites" in page
        assert "Elsewhere" not in page and page.count("member-card") == 5


def test_a_far_page_read_by_its_ids_first_shows_the_same_members(areas, monkeypatch):
    from members.selectors import IdsFirst

    make(14, areas)
    near = Client().get("/members/", {"per_page": 12, "page": 2}).content.decode()
    cache.clear()
    monkeypatch.setattr(IdsFirst, "IDS_FIRST_FROM", 0)
    far = Client().get("/members/", {"per_page": 12, "page": 2}).content.decode()

    names = sorted(Organisation.objects.values_list("name", flat=True))[12:]
    for page in (near, far):
        assert page.count("member-card") == 2
        assert all(name in page for name in names)


def changelist_names(client, **params) -> tuple[list[str], str]:
    """The organisations a changelist page shows, in its order, and the page itself."""
    response = client.get("/admin/members/organisation/", params)
    assert response.status_code == 200
    return [str(organisation) for organisation in response.context["cl"].result_list], response.content.decode()


@pytest.mark.parametrize("cap", [10_000, 3])
def test_a_changelist_search_pages_its_matches_from_their_ids_in_the_changelist_order(areas, monkeypatch, cap):
    from members.selectors import IdsFirst

    monkeypatch.setattr(IdsFirst, "SEARCH_IDS_CAP", cap)  # 3: a broad term, past the cap, counted and paged as before
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for n in range(7):
        OrganisationFactory(name=f"Neuro Lab {n % 3}", city="Lyon")
    OrganisationFactory(name="Cardio Lab", city="Brest")
    monkeypatch.setattr("members.admin.OrganisationAdmin.list_per_page", 3)

    expected = list(Organisation.objects.filter(city="Lyon").order_by("name", "-pk").values_list("name", flat=True))
    shown = []
    for page in (1, 2, 3):
        names, content = changelist_names(client, q="neuro", p=page)
        shown += names
        assert "7 organisations" in content
    assert shown == expected


def test_a_far_changelist_page_read_by_its_ids_first_shows_the_same_rows(areas, monkeypatch):
    from members.selectors import IdsFirst

    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for n in range(9):
        OrganisationFactory(name=f"Organisation {n % 4}")
    monkeypatch.setattr("members.admin.OrganisationAdmin.list_per_page", 4)
    near = [changelist_names(client, p=page)[0] for page in (2, 3)]
    monkeypatch.setattr(IdsFirst, "IDS_FIRST_FROM", 0)
    far = [changelist_names(client, p=page)[0] for page in (2, 3)]

    expected = list(Organisation.objects.order_by("name", "-pk").values_list("name", flat=True))
    assert near == far == [expected[4:8], expected[8:]]


def test_a_changelist_page_reads_only_the_columns_it_shows_and_no_query_per_row(areas, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    make(60, areas)
    client.get("/admin/members/organisation/")  # the count, cached
    with CaptureQueriesContext(connection) as captured:
        names, _content = changelist_names(client, p=2)
    page_query = next(q["sql"] for q in captured.captured_queries if 'FROM "members_organisation"' in q["sql"])

    assert len(names) == 10
    assert '"description"' not in page_query and '"search_key"' not in page_query
    with django_assert_max_num_queries(len(captured) + 1):  # a search reads its ids, then the page's rows
        changelist_names(client, q="organisation", p=2)


def test_a_card_shows_its_das_in_the_areas_order_in_the_visitors_language_and_links_to_its_page(areas):
    organisation = OrganisationFactory(name="Two Areas Biotech", slug="two-areas-biotech")
    organisation.das_interests.set([areas["digital-health"], areas["imaging"]])
    OrganisationFactory(name="No Area Biotech")
    first, second = sorted([areas["digital-health"], areas["imaging"]], key=lambda area: (area.position, area.code))

    french = Client().get("/members/").content.decode()
    english_client = Client()
    english_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = english_client.get("/members/").content.decode()

    expected = [(french, first.name_fr, second.name_fr), (english, first.name_en, second.name_en)]
    for page, first_name, second_name in expected:
        card = page.split("Two Areas Biotech", 1)[1].split("</article>", 1)[0]
        assert card.index(first_name) < card.index(second_name)
        assert 'href="/members/two-areas-biotech/"' in page
        assert "No Area Biotech" in page


def test_each_card_names_its_category_in_the_visitors_language(areas):
    OrganisationFactory(name="Hôpital Nord", category=Organisation.Category.HOSPITAL)
    OrganisationFactory(name="Petite Biotech", category=Organisation.Category.SME)

    french = Client().get("/members/").content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/members/").content.decode()

    assert "Hôpital ou centre clinique" in french and "PME" in french
    assert "Hospital or clinical centre" in english and "SME" in english


def test_a_card_shows_its_areas_in_their_order_in_the_reader_s_language_and_a_short_summary(areas):
    organisation = OrganisationFactory(name="Imagia SAS", description=" ".join(f"mot{n}" for n in range(40)))
    organisation.das_interests.set([areas["techno-therapies"], areas["imaging"]])
    OrganisationFactory(name="Nobody SAS").das_interests.clear()

    french = Client().get("/members/").content.decode()
    english = Client(headers={"accept-language": "en"}).get("/members/").content.decode()

    badge = '<span class="badge text-bg-light border me-1">{}</span>'
    assert badge.format("Imagerie") + badge.format("Technothérapies") in french
    assert badge.format("Imaging") + badge.format("Techno-therapies") in english
    assert " ".join(f"mot{n}" for n in range(30)) + " …</p>" in french and "mot30" not in french


def test_the_directory_groups_the_thousands_of_its_counts_as_a_french_reader_writes_them(areas):
    Organisation.objects.bulk_create(
        Organisation(
            name=f"Membre {n:04}", slug=f"membre-{n:04}", category="sme", status="active", directory_opt_in=True
        )
        for n in range(1234)
    )
    Organisation.objects.filter(name="Membre 0000").update(directory_opt_in=False)

    french = Client().get("/members/").content.decode()
    english = Client(headers={"accept-language": "en"}).get("/members/", {"category": "sme"}).content.decode()

    assert "1\u202f234 adhérents actifs au total." in french
    assert "1\u202f233 d\u2019entre eux figurent dans cet annuaire" in french
    assert "1\u202f233 organisations trouvées." in french
    assert "1,233 organisations found among the 1,233 listed in the directory." in english


def test_the_area_pages_and_the_admin_group_the_thousands_of_their_counts(areas, superuser):
    members = Organisation.objects.bulk_create(
        Organisation(name=f"Membre {n:04}", slug=f"membre-{n:04}", status="active", directory_opt_in=True)
        for n in range(1234)
    )
    Organisation.das_interests.through.objects.bulk_create(
        Organisation.das_interests.through(organisation=member, strategicarea=areas["imaging"]) for member in members
    )
    staff = Client()
    staff.force_login(superuser)

    area_page = page_text(Client().get("/areas/imaging/"))
    area_list = page_text(Client().get("/areas/"))
    changelist = page_text(staff.get("/admin/members/organisation/"))

    # page_text makes every space, the narrow no-break one of "1 234" included, a plain one.
    assert "1 234 adhérents de l\u2019annuaire s\u2019intéressent à ce domaine." in area_page
    assert "1 234 adhérents intéressés" in area_list
    assert "1 234 résultats" in changelist


def test_a_filtered_page_is_counted_from_the_directory_counts_as_the_database_counts_it(areas):
    import itertools

    from members.selectors import directory_count, directory_facts, directory_organisations

    places = ["75013", "92100", "92500", "97110", "97410", "20000", ""]
    for n, (category, postcode) in enumerate(itertools.product(["startup", "sme", "hospital"], places)):
        organisation = OrganisationFactory(category=category, postcode=postcode, city="Ville" if postcode else "")
        organisation.das_interests.set(list(areas.values())[n % 3 : n % 3 + n % 4])
    OrganisationFactory(category="sme", postcode="92100", directory_opt_in=False).das_interests.set([areas["imaging"]])
    OrganisationFactory(category="sme", postcode="92100", status=Organisation.Status.RESIGNED)
    OrganisationFactory(category="former-category", postcode="92100")  # a value no longer among the choices
    facts = directory_facts()

    told = 0
    for das, category, departement in itertools.product(
        ["", *areas], ["", "startup", "sme", "large"], ["", "75", "92", "971", "974", "20", "2A", "97", "9", "921"]
    ):
        filters = {"q": "", "das": das, "category": category, "departement": departement}
        count = directory_count(facts, filters)
        if departement in {"97", "9", "921"}:  # not a whole département: left to the database
            assert count is None
            continue
        assert count == directory_organisations(**filters).count(), filters
        told += bool(count)
    assert told > 40
    assert directory_count(facts, {"q": "ville", "das": "", "category": "", "departement": ""}) is None


def test_a_filtered_page_runs_only_its_own_query_and_its_count_follows_a_change(
    areas, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from members.selectors import directory_changed

    settings.MEMBERS_DIRECTORY_CACHE_SECONDS = 0  # every page computed
    make(5, areas, postcode="92100")
    filters = {"das": "imaging", "departement": "92", "category": "startup"}
    assert "5 organisations trouvées" in Client().get("/members/", filters).content.decode()

    with django_assert_num_queries(1):  # the page; its count comes from the directory's counts
        again = Client().get("/members/", {**filters, "per_page": 12}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        Organisation.objects.filter(postcode="92100").first().das_interests.clear()
        directory_changed()
    after = Client().get("/members/", filters).content.decode()

    assert "5 organisations trouvées" in again
    assert "4 organisations trouvées" in after and after.count("member-card") == 4


def test_a_card_escapes_what_the_member_wrote(areas):
    OrganisationFactory(
        name="Bio & <b>Co</b>", city="Saint-Denis <i>", description='Nous "soignons" <script>alert(1)</script>'
    ).das_interests.set([areas["imaging"]])

    page = Client().get("/members/").content.decode()

    assert "Bio &amp; &lt;b&gt;Co&lt;/b&gt;" in page and "<b>Co" not in page
    assert "Saint-Denis &lt;i&gt; (75)" in page
    assert "Nous &quot;soignons&quot; &lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_the_directory_s_shared_queryset_is_never_evaluated_and_new_members_show(
    areas, settings, django_capture_on_commit_callbacks
):
    from members.selectors import _listed_for_cards, directory_changed

    settings.MEMBERS_DIRECTORY_CACHE_SECONDS = 0  # every page computed
    make(3, areas)
    for params in ({}, {"das": "imaging"}, {"q": "organisation"}, {"departement": "7"}, {"page": 2, "per_page": 12}):
        assert Client().get("/members/", params).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        OrganisationFactory(name="Zeta Newcomer").das_interests.set([areas["imaging"]])
        directory_changed()  # as every write path does

    assert _listed_for_cards()._result_cache is None
    assert "Zeta Newcomer" in Client().get("/members/", {"das": "imaging"}).content.decode()


def test_a_card_and_the_organisation_s_page_name_an_overseas_departement_by_its_three_digits(areas):
    organisation = OrganisationFactory(name="Caraïbes Santé", city="Pointe-à-Pitre", postcode="97110")

    listed = Client().get("/members/").content.decode()
    page = Client().get(f"/members/{organisation.slug}/").content.decode()

    assert "Pointe-à-Pitre (971)" in listed and "Pointe-à-Pitre (971)" in page
