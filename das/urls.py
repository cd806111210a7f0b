from django.urls import path

from das import views

app_name = "das"
urlpatterns = [
    path("", views.home, name="home"),
]
