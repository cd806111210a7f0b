from django.contrib import admin
from django.urls import include, path

from calls import views as calls_views
from committees import views as committees_views
from medicen_portal.views import (
    PortalPasswordResetView,
    favicon,
    two_factor_backup_codes,
    two_factor_setup,
    two_factor_verify,
)
from members import views as members_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", members_views.PortalLoginView.as_view(), name="login"),
    path("accounts/my-data/", members_views.my_data, name="my_data"),
    path("accounts/two-factor/", two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/backup-codes/", two_factor_backup_codes, name="two_factor_backup_codes"),
    path("accounts/password_reset/", PortalPasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", members_views.set_language, name="set_language"),
    path("join/", members_views.join, name="join"),
    path("join/thanks/", members_views.join_done, name="join_done"),
    path("members/", include("members.urls")),
    path("calls/", include("calls.urls")),
    path("calls.json", calls_views.calls_json, name="calls_json"),
    path("meetings/", include("meetings.urls")),
    path("projects/", include("projects.urls")),
    path("committees/", include("committees.urls")),
    path("labels/<str:reference>/", committees_views.letter_verify, name="label_verify"),
    path("impact/", include("projects.impact_urls")),
    path("", include("das.urls")),
    # Browsers ask for /favicon.ico on pages that declare no icon (error pages, downloads).
    path("favicon.ico", favicon),
]

# The portal's own error pages (medicen_portal/errors.py); 500 and 503 need no database.
handler400 = "medicen_portal.errors.bad_request"
handler403 = "medicen_portal.errors.permission_denied"
handler404 = "medicen_portal.errors.page_not_found"
handler500 = "medicen_portal.errors.server_error"
