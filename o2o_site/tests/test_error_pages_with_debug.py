"""With DEBUG on (`make run`) a shopper still meets the shop's own 404 and 500 pages; Django's
debug pages only when a developer asks for them (DEBUG_PAGES=true): o2o_site/error_pages.py."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PROJECT_DIR = Path(__file__).resolve().parents[2]
DJANGO_URL_PATTERNS_PAGE = "Using the URLconf defined in"


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    settings.DEBUG_PAGES = False
    return settings


def test_a_page_that_does_not_exist_shows_the_shops_404_page_with_debug_on(debug_on):
    response = Client().get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="is")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Síðan fannst ekki" in html
    assert DJANGO_URL_PATTERNS_PAGE not in html
    assert "o2o_site.urls" not in html


def test_a_product_no_longer_sold_shows_the_shops_404_page_with_debug_on(debug_on):
    response = Client().get("/products/no-such-product/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Http404" not in response.content.decode()


def test_a_missing_slash_is_still_added_with_debug_on(debug_on):
    response = Client().get("/account/login")

    assert response.status_code == 301
    assert response["Location"] == "/account/login/"


def test_an_error_shows_the_shops_500_page_and_logs_the_traceback(debug_on, caplog):
    debug_on.ROOT_URLCONF = "o2o_site.tests.broken_urls"

    response = Client(raise_request_exception=False).get("/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "Traceback" not in html and "the till is on fire" not in html
    assert "Something went wrong" in html
    assert any("the till is on fire" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


def test_a_developer_asks_for_djangos_debug_pages(debug_on):
    debug_on.DEBUG_PAGES = True

    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert DJANGO_URL_PATTERNS_PAGE in response.content.decode()


def settings_with(env):
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'])"
    )
    environment = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    environment.update(DJANGO_SETTINGS_MODULE="o2o_site.settings", DEBUG="true", **env)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_make_run_ignores_a_copy_of_env_example():
    # given .env.example used as the .env (ENV_FILE names the file to read, .env by default)
    example = str(PROJECT_DIR / ".env.example")

    # then manage.py reads it, and `make run` (which sets ENV_FILE empty) runs the demo on SQLite
    assert settings_with({"ENV_FILE": example}) == "['shop.example.com'] django.db.backends.postgresql"
    assert settings_with({"ENV_FILE": ""}) == "['127.0.0.1', 'localhost', 'testserver'] django.db.backends.sqlite3"
    makefile = (PROJECT_DIR / "Makefile").read_text()
    assert "run: export ENV_FILE =\n" in makefile and "seed: export ENV_FILE =\n" in makefile
    assert "db-no.sqlite3" in makefile.split("\nclean:")[1]
