"""django-auditlog's middleware, recording the client address as the rest of the portal reads it."""

from __future__ import annotations

from auditlog.middleware import AuditlogMiddleware as BaseAuditlogMiddleware
from django.conf import settings

from common.http import client_ip


class AuditlogMiddleware(BaseAuditlogMiddleware):
    """Its own reads the first X-Forwarded-For entry, which any client can write, so the audit trail
    would keep a forged address: this one trusts only TRUSTED_PROXIES (`client_ip`). Same otherwise."""

    @staticmethod
    def _get_remote_addr(request):
        return None if settings.AUDITLOG_DISABLE_REMOTE_ADDR else client_ip(request)

    @staticmethod
    def _get_remote_port(request):
        return None  # X-Forwarded-Port is the client's word too
