"""The admin in French, third-party sections included (auditlog, axes, django-otp)."""

from __future__ import annotations

import pytest
from axes.models import AccessLog
from django_otp.plugins.otp_totp.models import TOTPDevice

from members.tests.factories import OrganisationFactory, UserFactory
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = UserFactory(email="sophie.martin@medicen.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.cookies["django_language"] = "fr"
    return client


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_admin_index_names_the_third_party_sections_in_french(staff_client):
    html = _page(staff_client, "/admin/")

    for french in ("Journal d\u2019audit", "Limitation des connexions", "Applications d\u2019authentification"):
        assert french in html
    for english in ("Audit log", "Axes", "Otp_Totp", "TOTP device"):
        assert english not in html


def test_the_two_factor_devices_list_and_form_are_in_french(staff_client):
    device = TOTPDevice.objects.create(user=UserFactory(), name="Téléphone", confirmed=True)

    listing = _page(staff_client, "/admin/otp_totp/totpdevice/")
    form = _page(staff_client, f"/admin/otp_totp/totpdevice/{device.pk}/change/")

    assert "Créé le" in listing and "Dernière utilisation" in listing
    assert "Recherche par adresse e-mail de l\u2019utilisateur" in listing
    for english in ("Created at", "Last used at", "Search by user", 'alt="Search"'):
        assert english not in listing
    for french in ("Identité", "Horodatages", "Le nom lisible de cet appareil."):
        assert french in form
    for english in ("Identity", "Timestamps", "The human-readable name of this device."):
        assert english not in form


def test_the_audit_log_list_has_french_columns_and_change_summaries(staff_client):
    organisation = OrganisationFactory(name="Oncox Devices SAS")  # audited: one entry
    organisation.city = "Évry"
    organisation.save()
    listing = _page(staff_client, "/admin/auditlog/logentry/")

    for french in ("Créée le", "Objet", "Modifications", "Identifiant de corrélation"):
        assert french in listing
    assert "modifications\u202f: ville" in listing  # the city and the search key changed
    for english in (">Created<", ">Resource<", ">Changes<", "Correlation ID", "changes: "):
        assert english not in listing


def test_login_records_and_permissions_are_named_in_french(staff_client):
    log = AccessLog.objects.create(
        username="claire@oncox.example", ip_address="192.0.2.1", user_agent="Firefox", http_accept="*/*", path_info="/"
    )

    record = _page(staff_client, f"/admin/axes/accesslog/{log.pk}/change/")
    group_form = _page(staff_client, "/admin/auth/group/add/")

    assert "Connexion de claire@oncox.example le" in record
    assert "Access Log for" not in record
    assert "Peut ajouter les objets" in group_form
    assert "Can add organisation" not in group_form


def test_deleting_selected_rows_agrees_with_the_french_noun(staff_client):
    ProjectFactory()  # and its organisation: the action menu shows only above rows
    organisations = _page(staff_client, "/admin/members/organisation/")
    projects = _page(staff_client, "/admin/projects/project/")

    assert "Supprimer les organisations sélectionnées" in organisations
    assert "Supprimer les projets sélectionnés" in projects


def test_the_audit_log_filters_by_the_french_names_of_the_objects(staff_client):
    ProjectFactory()  # a project and its organisation: two kinds of audited object
    listing = _page(staff_client, "/admin/auditlog/logentry/")

    filters = listing[listing.index('id="changelist-filter"') :]
    assert ">Projet</a>" in filters and ">Organisation</a>" in filters
    for english in (">project</a>", ">organisation</a>"):
        assert english not in filters


def test_the_audit_log_does_not_show_a_creations_reverse_relations_as_changed_fields(staff_client):
    from auditlog.models import LogEntry

    project = ProjectFactory()
    entry = LogEntry.objects.get_for_object(project).get(action=LogEntry.Action.CREATE)
    assert "events" in entry.changes_dict  # what django-auditlog records: every reverse relation, as None

    listing = _page(staff_client, "/admin/auditlog/logentry/")
    detail = _page(staff_client, f"/admin/auditlog/logentry/{entry.pk}/change/")

    for english in ("events", "partners", "attachments", "funding_decisions", "ProjectEvent.None"):
        assert english not in listing, english
        assert english not in detail, english
    assert "titre" in listing and "Titre" in detail
