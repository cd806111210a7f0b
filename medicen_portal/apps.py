from auditlog.apps import AuditlogConfig
from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.apps import DefaultConfig as StaticAppConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPAppConfig


class PortalAdminConfig(AdminConfig):
    """django.contrib.admin, whose default site is the portal's (second factor for staff)."""

    default_site = "medicen_portal.security.PortalAdminSite"


# Third-party apps under names the admin shows in the reader's language (labels unchanged,
# so no migration moves). The rest of their admin text: medicen_portal/admin_fr.py.
class LoginThrottlingConfig(AxesAppConfig):
    verbose_name = _("Login throttling")


class TwoFactorConfig(TOTPAppConfig):
    verbose_name = _("Two-factor authentication")


class BackupCodesConfig(StaticAppConfig):
    verbose_name = _("Two-factor backup codes")


class AuditLogConfig(AuditlogConfig):
    verbose_name = _("Audit log")

    def ready(self) -> None:
        super().ready()
        # Every admin module has been imported by now (the admin app is ready first).
        from medicen_portal import admin_fr

        admin_fr.install()
