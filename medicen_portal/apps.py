from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """django.contrib.admin, whose default site is the portal's (second factor for staff)."""

    default_site = "medicen_portal.security.PortalAdminSite"
