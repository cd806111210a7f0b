"""/impact/: the cluster's public impact dashboard (included from medicen_portal/urls.py)."""

from django.urls import path

from projects import views

app_name = "impact"
urlpatterns = [
    path("", views.impact, name="dashboard"),
    path("export.csv", views.impact_csv, name="csv"),
]
