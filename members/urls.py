from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("mine/", views.my_organisation, name="mine"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("<slug:slug>/", views.organisation_detail, name="organisation"),
    path("<slug:slug>/logo/", views.organisation_logo, name="logo"),
    path("<slug:slug>/edit/", views.organisation_edit, name="edit"),
    path("<slug:slug>/membership/", views.membership, name="membership"),
]
