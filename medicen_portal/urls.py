from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from members.forms import EmailAuthenticationForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("members/", include("members.urls")),
    path("projects/", include("projects.urls")),
    path("impact/", include("projects.impact_urls")),
    path("", include("das.urls")),
]
