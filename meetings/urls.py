"""/meetings/: the paths are those the pages had under das (e-mailed links keep working)."""

from django.urls import path

from meetings import views

app_name = "meetings"
urlpatterns = [
    path("", views.meeting_list, name="meeting_list"),
    path("new/", views.meeting_create, name="meeting_create"),
    path("<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("<int:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("<int:pk>/invite/", views.meeting_invite, name="meeting_invite"),
    path("<int:pk>/send/", views.meeting_send, name="meeting_send"),
    path("<int:pk>/calendar.ics", views.meeting_ics_download, name="meeting_ics"),
    path(
        "<int:pk>/invitations/<int:invitation_pk>/withdraw/",
        views.meeting_uninvite,
        name="meeting_uninvite",
    ),
    path("<int:pk>/respond/", views.meeting_respond, name="meeting_respond"),
    path("<int:pk>/agenda/", views.meeting_agenda_add, name="meeting_agenda_add"),
    path("<int:pk>/agenda/<int:item_pk>/remove/", views.meeting_agenda_remove, name="meeting_agenda_remove"),
    path("<int:pk>/outcome/", views.meeting_outcome, name="meeting_outcome"),
    path("rsvp/<str:token>/", views.meeting_rsvp, name="meeting_rsvp"),
    path("rsvp/<str:token>/calendar.ics", views.meeting_rsvp_ics, name="meeting_rsvp_ics"),
    path("calendar/<str:token>.ics", views.meeting_feed, name="meeting_feed"),
    path("calendar/reset/", views.meeting_feed_reset, name="meeting_feed_reset"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/<int:pk>/vote/", views.topic_vote, name="topic_vote"),
    path("topics/selected/", views.topic_selected, name="topic_selected"),
]
