from django.urls import path

from calls import views

app_name = "calls"
urlpatterns = [
    path("", views.call_list, name="list"),
    path("<int:pk>/", views.call_detail, name="detail"),
    path("deadlines.ics", views.deadlines_ics, name="ics"),
    path("unsubscribe/<str:token>/", views.calls_unsubscribe, name="unsubscribe"),
]
