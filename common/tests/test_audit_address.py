"""The audit trail records the client's address as the portal reads it, not as a client claims it."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.test import Client

from members.models import Organisation

pytestmark = pytest.mark.django_db


def _edit_profile_as(owner, **headers) -> LogEntry:
    client = Client()
    client.force_login(owner)
    client.post("/members/biosense/edit/", {"description": "Nouveau texte."}, REMOTE_ADDR="198.51.100.7", **headers)
    organisation = Organisation.objects.get(slug="biosense")
    return LogEntry.objects.get_for_object(organisation).latest("timestamp")


def test_a_forged_x_forwarded_for_does_not_reach_the_audit_trail(owner, settings):
    settings.TRUSTED_PROXIES = 0

    entry = _edit_profile_as(owner, HTTP_X_FORWARDED_FOR="203.0.113.66", HTTP_X_FORWARDED_PORT="4444")

    assert (entry.remote_addr, entry.remote_port, entry.actor) == ("198.51.100.7", None, owner)


def test_behind_one_trusted_proxy_the_address_it_saw_is_recorded(owner, settings):
    settings.TRUSTED_PROXIES = 1

    entry = _edit_profile_as(owner, HTTP_X_FORWARDED_FOR="203.0.113.66, 192.0.2.10")

    assert entry.remote_addr == "192.0.2.10"
