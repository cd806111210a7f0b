"""Logo upload on the public profile: size limit, type checked by content, generated name, attachment."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from members.models import Organisation

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def post_logo(client, content: bytes, name: str):
    return client.post(
        "/members/biosense/edit/",
        {"description": "x", "directory_opt_in": "on", "logo": SimpleUploadedFile(name, content)},
    )


@pytest.mark.usefixtures("colleague", "outsider")
def test_a_png_logo_is_stored_under_a_generated_name_and_served_as_an_attachment(owner):
    client = Client()
    client.force_login(owner)

    assert post_logo(client, PNG, "../../etc/passwd.png").status_code == 302

    logo = Organisation.objects.get(slug="biosense").logo
    assert logo.name.startswith("members/logos/") and "passwd" not in logo.name
    response = Client().get("/members/biosense/logo/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.usefixtures("colleague", "outsider")
def test_a_file_that_is_not_an_image_is_refused_whatever_its_name(owner):
    client = Client()
    client.force_login(owner)

    response = post_logo(client, b"<svg onload=alert(1)>", "logo.png")

    assert response.status_code == 200
    assert "PNG, JPEG ou WebP" in response.content.decode()
    assert not Organisation.objects.get(slug="biosense").logo


@pytest.mark.usefixtures("colleague", "outsider")
def test_a_logo_over_the_size_limit_is_refused(owner):
    client = Client()
    client.force_login(owner)

    post_logo(client, PNG + b"\x00" * 600 * 1024, "big.png")

    assert not Organisation.objects.get(slug="biosense").logo


@pytest.mark.usefixtures("colleague", "outsider")
def test_the_logo_of_an_unlisted_organisation_is_not_served_to_the_public(owner):
    client = Client()
    client.force_login(owner)
    post_logo(client, PNG, "logo.png")
    Organisation.objects.filter(slug="biosense").update(directory_opt_in=False)

    assert Client().get("/members/biosense/logo/").status_code == 404


@pytest.mark.usefixtures("colleague", "outsider")
def test_a_logo_keeps_no_client_suffix_but_one_chosen_from_its_content(owner, settings):
    client = Client()
    client.force_login(owner)

    post_logo(client, PNG, "logo.html")

    name = Organisation.objects.get(slug="biosense").logo.name
    assert name.endswith(".png")
    assert ".html" not in name


@pytest.mark.usefixtures("colleague", "outsider")
def test_a_replaced_logo_is_removed_from_disk(owner, settings, tmp_path, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        post_logo(client, PNG, "first.png")
    first = tmp_path / Organisation.objects.get(slug="biosense").logo.name
    assert first.exists()

    with django_capture_on_commit_callbacks(execute=True):
        post_logo(client, b"\xff\xd8\xff\xe0" + b"\x00" * 64, "second.jpg")

    second = tmp_path / Organisation.objects.get(slug="biosense").logo.name
    assert second.exists() and second.suffix == ".jpg"
    assert not first.exists()
    assert sorted(p.name for p in (tmp_path / "members" / "logos").iterdir()) == [second.name]


@pytest.mark.usefixtures("colleague", "outsider")
def test_a_logo_staff_replace_or_clear_in_the_admin_is_removed_from_disk(
    owner, superuser, tmp_path, django_capture_on_commit_callbacks
):
    from medicen_portal.tests.test_audit import _admin_form_data

    client = Client()
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        post_logo(client, PNG, "first.png")
    organisation = Organisation.objects.get(slug="biosense")
    first = tmp_path / organisation.logo.name
    client.force_login(superuser)
    url = f"/admin/members/organisation/{organisation.pk}/change/"

    data = _admin_form_data(client.get(url)) | {"logo": SimpleUploadedFile("x.html", b"\xff\xd8\xff\xe0" + PNG)}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302

    second = tmp_path / Organisation.objects.get(slug="biosense").logo.name
    assert second.exists() and second.suffix == ".jpg"
    assert not first.exists()

    data = _admin_form_data(client.get(url)) | {"logo-clear": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302

    assert not Organisation.objects.get(slug="biosense").logo
    assert list((tmp_path / "members" / "logos").iterdir()) == []


@pytest.mark.usefixtures("owner", "colleague")
def test_the_logo_of_an_organisation_staff_delete_in_the_admin_is_removed_from_disk(
    outsider, superuser, tmp_path, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(outsider)
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = client.post(
            "/members/neurowave/edit/",
            {"description": "x", "directory_opt_in": "on", "logo": SimpleUploadedFile("l.png", PNG)},
        )
    assert uploaded.status_code == 302
    organisation = Organisation.objects.get(slug="neurowave")
    logo = tmp_path / organisation.logo.name
    assert logo.exists()
    client.force_login(superuser)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/members/organisation/{organisation.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Organisation.objects.filter(slug="neurowave").exists()
    assert not logo.exists()
