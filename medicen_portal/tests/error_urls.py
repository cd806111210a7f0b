"""The portal's URLs plus a view that fails, to see the 500 page as a browser would."""

from django.urls import path

from medicen_portal.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def fails(request):
    raise RuntimeError("a bug")


urlpatterns = [path("test-fails/", fails), *urlpatterns]
