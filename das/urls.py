from django.urls import path

from das import views
from das.meetings import views as meetings

app_name = "das"
urlpatterns = [
    path("", views.home, name="home"),
    path("areas/", views.area_list, name="area_list"),
    path("areas/<slug:code>/", views.area_detail, name="area_detail"),
    path("meetings/", meetings.meeting_list, name="meeting_list"),
    path("meetings/new/", meetings.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", meetings.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", meetings.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/cancel/", meetings.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/invite/", meetings.meeting_invite, name="meeting_invite"),
    path("meetings/<int:pk>/send/", meetings.meeting_send, name="meeting_send"),
    path("meetings/<int:pk>/calendar.ics", meetings.meeting_ics_download, name="meeting_ics"),
    path(
        "meetings/<int:pk>/invitations/<int:invitation_pk>/withdraw/",
        meetings.meeting_uninvite,
        name="meeting_uninvite",
    ),
    path("meetings/<int:pk>/respond/", meetings.meeting_respond, name="meeting_respond"),
    path("meetings/<int:pk>/agenda/", meetings.meeting_agenda_add, name="meeting_agenda_add"),
    path(
        "meetings/<int:pk>/agenda/<int:item_pk>/remove/", meetings.meeting_agenda_remove, name="meeting_agenda_remove"
    ),
    path("meetings/<int:pk>/outcome/", meetings.meeting_outcome, name="meeting_outcome"),
    path("meetings/rsvp/<str:token>/", meetings.meeting_rsvp, name="meeting_rsvp"),
    path("meetings/rsvp/<str:token>/calendar.ics", meetings.meeting_rsvp_ics, name="meeting_rsvp_ics"),
    path("meetings/calendar/<str:token>.ics", meetings.meeting_feed, name="meeting_feed"),
    path("meetings/calendar/reset/", meetings.meeting_feed_reset, name="meeting_feed_reset"),
    path("meetings/topics/", meetings.topic_list, name="topic_list"),
    path("meetings/topics/<int:pk>/vote/", meetings.topic_vote, name="topic_vote"),
    path("meetings/topics/selected/", meetings.topic_selected, name="topic_selected"),
]
