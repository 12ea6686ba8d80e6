"""A shopper who follows a dead link (a product no longer sold, a mistyped address) or meets a
server error gets the shop's own page in their language, not Django's English "Not Found"."""

import html

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client
from django.urls import include, path, reverse

from o2o_site.tests.po import english_left_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "heading", "home"),
    [
        ("en", "Page not found", "Go to the front page"),
        ("is", "Síðan fannst ekki", "Fara á forsíðuna"),
        ("nb", "Fant ikke siden", "Gå til forsiden"),
    ],
)
def test_a_missing_page_is_the_shops_own_in_the_shoppers_language(client, language, heading, home):
    # when a shopper reading the shop in `language` opens a product that is not for sale
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("catalog:product_detail", args=["no-such-sweater"]))

    # then the shop says so in their language, with a way back
    assert response.status_code == 404
    page = html.unescape(response.content.decode())
    assert f'<html lang="{language}">' in page
    assert f"<h1>{heading}</h1>" in page and home in page
    assert f'href="{reverse("catalog:product_list")}"' in page
    if language != "en":
        assert english_left_in(page, language) == []
        assert "Not Found" not in page


def broken(request):
    raise RuntimeError("the database went away")


# The shop's own URLs, and one page that fails on the server.
urlpatterns = [path("broken/", broken), path("", include("o2o_site.urls"))]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "Something went wrong"), ("is", "Eitthvað fór úrskeiðis"), ("nb", "Noe gikk galt")],
)
def test_a_server_error_is_told_in_the_shoppers_language(language, heading):
    # when a shopper reading the shop in `language` opens a page that fails on the server
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/broken/")

    # then the error page is the shop's, in their language, with a way back
    assert response.status_code == 500
    page = html.unescape(response.content.decode())
    assert f'<html lang="{language}">' in page
    assert f"<h1>{heading}</h1>" in page
    assert f'href="{reverse("catalog:product_list")}"' in page
    if language != "en":
        assert english_left_in(page, language) == []


@pytest.mark.parametrize("language", ["is", "nb"])
def test_the_shops_refusals_are_in_the_shoppers_language_too(client, language):
    # given a shopper reading the shop in Icelandic or Norwegian
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    # when they choose a store that is not there, and open a curbside check-in link that is not valid
    refusals = {
        "store choice": client.post(reverse("stores:choose_store"), {"store_id": "999999", "next": "/"}),
        "check-in link": client.get(reverse("pickup:check_in", args=["NORD-XXXX", "not-a-signature"])),
    }

    # then each refusal is a page of the shop in their language, with the switcher, and no English
    for name, response in refusals.items():
        assert response.status_code in (400, 404), name
        page = html.unescape(response.content.decode())
        assert f'<html lang="{language}">' in page, name
        assert f'action="{reverse("set_language")}"' in page, name
        assert english_left_in(page, language) == [], name


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "Please try again"), ("is", "Vinsamlegast reyndu aftur"), ("nb", "Prøv igjen")],
)
def test_a_form_sent_without_a_valid_csrf_token_is_refused_in_the_shoppers_language(language, heading):
    # given a shopper whose form lost its CSRF token (left open past the session, cookies off)
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    # when they send it
    response = client.post(reverse("stores:choose_store"), {"store_id": "1", "next": "/"})

    # then it is refused with the shop's page, in their language, telling them what to do
    assert response.status_code == 403
    page = html.unescape(response.content.decode())
    assert f'<html lang="{language}">' in page and f"<h1>{heading}</h1>" in page
    assert "CSRF" not in page
    if language != "en":
        assert english_left_in(page, language) == []


def forbidden(request):
    raise PermissionDenied


def bad(request):
    raise SuspiciousOperation("a tampered request")


urlpatterns += [path("forbidden/", forbidden), path("bad/", bad)]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("language", ["en", "is", "nb"])
@pytest.mark.parametrize(
    ("url", "status", "headings"),
    [
        ("/forbidden/", 403, {"en": "Not allowed", "is": "Ekki leyfilegt", "nb": "Ikke tillatt"}),
        ("/bad/", 400, {"en": "Bad request", "is": "Ógild beiðni", "nb": "Ugyldig forespørsel"}),
    ],
)
def test_refused_and_bad_requests_are_the_shops_own_pages(client, language, url, status, headings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.get(url)

    assert response.status_code == status
    page = html.unescape(response.content.decode())
    assert f"<h1>{headings[language]}</h1>" in page
    if language != "en":
        assert english_left_in(page, language) == []
