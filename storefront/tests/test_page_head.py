"""Every page's <head>: a description search engines show under the title (each product, category
and store its own, in the shopper's language), and an icon, also at /favicon.ico where browsers
look when a page does not say (a 404 there is an error in the browser's console)."""

import re

import pytest
from django.contrib.staticfiles import finders

from catalog.tests.factories import CategoryFactory, ProductFactory
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def meta_description(response):
    match = re.search(r'<meta name="description" content="([^"]*)">', response.content.decode())
    assert match, "no meta description"
    return match[1]


def test_the_icon_is_served_at_the_root_and_linked_from_every_page(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x01\x00")  # an ICO file

    home = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in home
    assert finders.find("favicon.svg")


def test_each_page_describes_itself_in_the_shoppers_language(client):
    knitwear = CategoryFactory(name="Knitwear", name_is="Prjónavörur", slug="knitwear")
    sweater = ProductFactory(
        category=knitwear, name="Hekla sweater", description='A warm "lopapeysa" of Icelandic wool. ' * 8
    )
    bare = ProductFactory(category=knitwear, name="Plain hat", description="")
    store = StoreFactory(name="Norðurbúð Kringlan", address="Kringlan 4–12", city="Reykjavík")

    # the shop's own description on the home page, in English and in Icelandic
    assert meta_description(client.get("/")).startswith("Buy online and pick up in a store near you")
    client.cookies["django_language"] = "is"
    assert meta_description(client.get("/")).startswith("Pantaðu á netinu og sæktu í verslun nálægt þér")
    assert meta_description(client.get("/?category=knitwear")) == (
        "Prjónavörur: pantaðu á netinu og sæktu í verslun nálægt þér."
    )
    client.cookies["django_language"] = "en"

    # a product's own description, cut to what a search result shows, quotes escaped
    described = meta_description(client.get(sweater.get_absolute_url()))
    assert described.startswith("A warm &quot;lopapeysa&quot; of Icelandic wool.")
    assert len(described.replace("&quot;", '"')) == 160
    # a product without one still says what it is
    assert meta_description(client.get(bare.get_absolute_url())) == (
        "Plain hat: buy it online and pick it up in a store near you."
    )
    # and a store page says where the store is
    assert meta_description(client.get(store.get_absolute_url())) == (
        "Norðurbúð Kringlan, Kringlan 4–12, Reykjavík: opening hours, parking, and pickup of orders bought online."
    )
