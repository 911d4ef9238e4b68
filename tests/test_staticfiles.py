"""The front-end assets come from the npm packages, and only the files the templates use are collected."""
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command


def test_the_vendor_files_are_found_in_node_modules():
    for url_path, file in settings.STATIC_VENDOR_FILES.items():
        assert finders.find(url_path) == str(file)
        assert file.is_file()


def test_collectstatic_copies_only_the_used_vendor_files(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", "--noinput", verbosity=0)
    collected = sorted(path.relative_to(tmp_path).as_posix() for path in (tmp_path / "vendor").rglob("*.js"))
    assert collected == ["vendor/echarts/echarts.min.js", "vendor/htmx/htmx.min.js"]


def test_the_site_icon_is_a_static_file_and_favicon_ico_leads_to_it(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == settings.STATIC_URL + "img/favicon.svg"
    assert finders.find("img/favicon.svg")
    assert 'rel="icon" href="{}"'.format(response["Location"]) in client.get("/").content.decode()
