"""The portal's URLs plus /bench/bare-directory/ (the directory's SQL, nothing rendered) and the directory uncached."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path

from medicen_portal.urls import urlpatterns as portal_urlpatterns
from members.forms import DirectoryFilterForm
from members.selectors import IdsFirst, directory_areas, directory_cards, directory_facts, directory_organisations
from members.views import directory


def bare_directory(request: HttpRequest) -> HttpResponse:
    """Runs exactly the directory's queries (its cached facts, the count, the page with its DAS); renders nothing."""
    facts = directory_facts()
    form = DirectoryFilterForm(request.GET or None, facts=facts)
    filters = form.filters()
    mix = facts["mix"]
    paginator = Paginator(IdsFirst(directory_organisations(**filters), search=bool(filters.get("q"))), form.page_size())
    if not any(filters.values()):
        paginator.count = mix["listed"]
    page = paginator.get_page(request.GET.get("page"))
    rows = directory_cards(page.object_list, area_names={pk: name for pk, _code, name in directory_areas(facts)})
    return HttpResponse(str(len(rows)), content_type="text/plain")


def uncached_directory(request: HttpRequest) -> HttpResponse:
    """The directory with its page cache off: what a visitor pays for a page nobody asked for lately."""
    with override_settings(MEMBERS_DIRECTORY_CACHE_SECONDS=0):
        return directory(request)


urlpatterns = [
    path("bench/bare-directory/", bare_directory),
    path("bench/uncached-directory/", uncached_directory),
    *portal_urlpatterns,
]
