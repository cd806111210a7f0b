from django.urls import path

from projects import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_create, name="create"),
    path("organisations/", views.organisation_search, name="organisation_search"),
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/<int:review_pk>/", views.review_detail, name="review"),
    path("reviews/<int:review_pk>/submit/", views.review_submit, name="review_submit"),
    path("reviews/<int:review_pk>/conflict/", views.review_conflict, name="review_conflict"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/status/", views.project_transition, name="transition"),
    path("<int:pk>/manage/", views.project_manage, name="manage"),
    path("<int:pk>/manage/invite/", views.reviewer_invite, name="reviewer_invite"),
    path("<int:pk>/manage/assign/", views.reviewer_assign, name="reviewer_assign"),
    path("<int:pk>/manage/reviews/<int:review_pk>/share/", views.review_share, name="review_share"),
    path("<int:pk>/manage/funding/", views.funding_record, name="funding"),
    path("<int:pk>/manage/products/", views.product_record, name="product"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment"),
    path("<int:pk>/attachments/<int:attachment_pk>/delete/", views.attachment_delete, name="attachment_delete"),
]
