"""How the shop picks a shopper's language: the browser's Accept-Language on the first visit,
then the shopper's own choice from the switcher on every page, remembered in a cookie."""

import pytest
from django.conf import settings
from django.urls import reverse

from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

HOME = reverse("catalog:product_list")


def language_of(response):
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("is", "is"),
        ("is-IS,is;q=0.9,en;q=0.5", "is"),
        ("nb-NO,nb;q=0.9,no;q=0.8,en;q=0.5", "nb"),
        ("de-DE,de;q=0.9", "en"),
        ("", "en"),
    ],
)
def test_the_first_visit_is_in_the_browsers_language(client, accept_language, expected):
    # when a new shopper's browser asks for a language
    response = client.get(HOME, HTTP_ACCEPT_LANGUAGE=accept_language)

    # then the shop answers in it, or in English when it has no such language
    assert language_of(response) == expected


def test_the_switcher_changes_the_language_and_the_choice_is_remembered(client):
    # given a shopper on a product page, whose browser asks for Icelandic
    product = ProductFactory(name_en="Wool sweater", name_nb="Ullgenser")
    page = product.get_absolute_url()
    assert language_of(client.get(page, HTTP_ACCEPT_LANGUAGE="is")) == "is"

    # when they choose Norwegian in the switcher (a plain form: works without JavaScript)
    response = client.post(reverse("set_language"), {"language": "nb", "next": page}, HTTP_ACCEPT_LANGUAGE="is")

    # then they are back on the same page, now in Norwegian, and it stays so on the next visits
    assert response.status_code == 302 and response["Location"] == page
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nb"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"]  # outlives the browser session
    follow = client.get(page, HTTP_ACCEPT_LANGUAGE="is")
    assert language_of(follow) == "nb"
    assert ">Ullgenser</h1>" in follow.content.decode()
    assert language_of(client.get(reverse("stores:store_list"), HTTP_ACCEPT_LANGUAGE="is")) == "nb"


def test_the_switcher_offers_each_language_in_its_own_name_with_the_current_one_selected(client):
    # when an Icelandic page is shown
    html = client.get(HOME, HTTP_ACCEPT_LANGUAGE="is").content.decode()

    # then the switcher lists English, Icelandic and Norwegian as their speakers name them
    assert '<option value="en">English</option>' in html
    assert '<option value="is" selected>Íslenska</option>' in html
    assert '<option value="nb">norsk (bokmål)</option>' in html


def test_urls_have_no_language_prefix(client):
    # the same address serves every language: links shared between shoppers keep working
    for language in ("en", "is", "nb"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        assert client.get("/").status_code == 200
        assert client.get(f"/{language}/").status_code == 404
