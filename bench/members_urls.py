"""The portal's URLs plus /bench/bare-directory/ (the directory's SQL, nothing rendered) and the directory uncached."""

from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path

from medicen_portal.urls import urlpatterns as portal_urlpatterns
from members.forms import DirectoryFilterForm
from members.selectors import directory_facts, directory_page
from members.views import directory


def bare_directory(request: HttpRequest) -> HttpResponse:
    """Runs exactly the directory's queries (its cached facts and counts, the page with its DAS); renders nothing."""
    facts = directory_facts()
    form = DirectoryFilterForm(request.GET or None, facts=facts)
    page = directory_page(facts, form.filters(), page_size=form.page_size(), page_number=form.page_number())
    return HttpResponse(str(len(page.object_list)), content_type="text/plain")


def uncached_directory(request: HttpRequest) -> HttpResponse:
    """The directory with its page cache off: what a visitor pays for a page nobody asked for lately."""
    with override_settings(MEMBERS_DIRECTORY_CACHE_SECONDS=0):
        return directory(request)


urlpatterns = [
    path("bench/bare-directory/", bare_directory),
    path("bench/uncached-directory/", uncached_directory),
    *portal_urlpatterns,
]
