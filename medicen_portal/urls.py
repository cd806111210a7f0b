from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from medicen_portal.views import two_factor_setup
from members.forms import EmailAuthenticationForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm), name="login"),
    path("accounts/two-factor/", two_factor_setup, name="two_factor_setup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("members/", include("members.urls")),
    path("projects/", include("projects.urls")),
    path("impact/", include("projects.impact_urls")),
    path("", include("das.urls")),
]
