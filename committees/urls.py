from django.urls import path

from committees import views

app_name = "committees"
urlpatterns = [
    path("", views.session_list, name="list"),
    path("<int:pk>/", views.session_detail, name="detail"),
    path("<int:pk>/decide/", views.session_decide, name="decide"),
    path("<int:pk>/dossiers/<int:item_pk>.pdf", views.dossier, name="dossier"),
    path("<int:pk>/dossiers.zip", views.dossiers_zip, name="dossiers_zip"),
    path("<int:pk>/minutes.pdf", views.minutes, name="minutes"),
    path("letters/<int:project_pk>.pdf", views.letter_download, name="letter"),
]
