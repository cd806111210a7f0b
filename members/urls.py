from django.urls import path

from members import billing_views, views

app_name = "members"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("mine/", views.my_organisation, name="mine"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("<slug:slug>/", views.organisation_detail, name="organisation"),
    path("<slug:slug>/logo/", views.organisation_logo, name="logo"),
    path("<slug:slug>/edit/", views.organisation_edit, name="edit"),
    path("<slug:slug>/membership/", views.membership, name="membership"),
    path("<slug:slug>/billing/", billing_views.billing_overview, name="billing"),
    path("<slug:slug>/billing/edit/", billing_views.billing_edit, name="billing_edit"),
    path("<slug:slug>/invoices/<str:number>/pdf/", billing_views.invoice_download, name="invoice_pdf"),
    path("<slug:slug>/contacts/", billing_views.contacts_manage, name="contacts"),
    path("<slug:slug>/contacts/<int:pk>/roles/", billing_views.contact_roles, name="contact_roles"),
    path("<slug:slug>/contacts/<int:pk>/remove/", billing_views.contact_remove, name="contact_remove"),
    path("<slug:slug>/contacts/<int:pk>/invite/", billing_views.contact_invite, name="contact_invite"),
]
