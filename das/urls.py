from django.urls import path

from das import views

app_name = "das"
urlpatterns = [
    path("", views.home, name="home"),
    path("areas/", views.area_list, name="area_list"),
    path("areas/<slug:code>/", views.area_detail, name="area_detail"),
]
