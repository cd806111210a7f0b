"""Three users on every proposal page and attachment: the owner, a consortium partner, an outsider."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects import services
from projects.models import Project
from projects.tests.factories import reviewer_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def attachment(project, owner):
    return services.attachment_add(
        project=project, upload=SimpleUploadedFile("plan.pdf", PDF, "application/pdf"), by=owner
    )


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_owner_sees_and_edits_the_proposal(client, owner, project):
    assert get(client, owner, f"/projects/{project.pk}/").status_code == 200
    assert get(client, owner, f"/projects/{project.pk}/edit/").status_code == 200
    assert project.title in client.get("/projects/").content.decode()


def test_consortium_colleague_sees_the_proposal_but_may_not_edit_it(client, partner, project):
    assert get(client, partner, f"/projects/{project.pk}/").status_code == 200
    assert client.get(f"/projects/{project.pk}/edit/").status_code == 403
    assert project.title in client.get("/projects/").content.decode()


@pytest.mark.parametrize(
    "path",
    ["/projects/{pk}/", "/projects/{pk}/edit/", "/projects/{pk}/manage/", "/projects/{pk}/attachments/{a}/"],
)
def test_an_outsider_gets_404_on_every_proposal_page(client, outsider, project, attachment, path):
    response = get(client, outsider, path.format(pk=project.pk, a=attachment.pk))

    assert response.status_code == 404


def test_an_outsider_does_not_see_the_proposal_in_the_list(client, outsider, project):
    assert project.title not in get(client, outsider, "/projects/").content.decode()


@pytest.mark.parametrize("path", ["/projects/{pk}/status/", "/projects/{pk}/attachments/"])
def test_an_outsider_gets_404_on_every_proposal_action(client, outsider, project, path):
    client.force_login(outsider)

    response = client.post(path.format(pk=project.pk), {"to": "withdrawn"})

    assert response.status_code == 404
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT


def test_an_outsider_cannot_delete_an_attachment(client, outsider, project, attachment):
    client.force_login(outsider)

    response = client.post(f"/projects/{project.pk}/attachments/{attachment.pk}/delete/")

    assert response.status_code == 404
    assert project.attachments.count() == 1


def test_anonymous_visitors_are_sent_to_the_login_page(client, project, attachment):
    for path in (f"/projects/{project.pk}/", f"/projects/{project.pk}/attachments/{attachment.pk}/", "/projects/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_owner_and_colleague_download_the_attachment_as_an_attachment(client, owner, partner, project, attachment):
    for user in (owner, partner):
        response = get(client, user, f"/projects/{project.pk}/attachments/{attachment.pk}/")
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert 'filename="plan.pdf"' in response["Content-Disposition"]
        assert b"".join(response.streaming_content) == PDF


def test_an_attachment_is_not_reachable_through_another_proposal(client, owner, project, attachment):
    other = services.project_save_draft(project=None, by=owner, fields={"title": "Other"}, other_areas=[], partners=[])

    response = get(client, owner, f"/projects/{other.pk}/attachments/{attachment.pk}/")

    assert response.status_code == 404


def test_the_staff_page_is_for_staff_only(client, owner, partner, staff, project):
    assert get(client, staff, f"/projects/{project.pk}/manage/").status_code == 200
    assert get(client, owner, f"/projects/{project.pk}/manage/").status_code == 404
    assert get(client, partner, f"/projects/{project.pk}/manage/").status_code == 404


def test_a_reviewer_sees_only_the_proposals_assigned_to_them_without_contacts_emails(client, staff, project):
    project.partners.update(contact_email="jeanne.martin@example.org")
    Project.objects.filter(pk=project.pk).update(status=Project.Status.UNDER_REVIEW)
    project.refresh_from_db()
    assigned = reviewer_for(project.primary_area)
    not_assigned = reviewer_for(project.primary_area)
    services.review_assign(project=project, reviewer=assigned.person, by=staff)

    response = get(client, assigned, f"/projects/{project.pk}/")
    assert response.status_code == 200
    assert "jeanne.martin@example.org" not in response.content.decode()
    assert get(client, not_assigned, f"/projects/{project.pk}/").status_code == 404


def test_a_member_without_organisation_cannot_propose(client, db):
    from members.tests.factories import UserFactory

    user = UserFactory()

    assert get(client, user, "/projects/new/").status_code == 403
