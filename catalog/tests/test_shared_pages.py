"""Catalog pages rendered once and shared (o2o_site/cache/pages.py): every shopper still gets their
own CSRF token, cart count, store, language and messages, never another shopper's."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from o2o_site.cache import stamps
from o2o_site.cache.pages import CACHE_HEADER, CSRF_PLACEHOLDER
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("catalog:product_list")


@pytest.fixture
def mittens():
    product = ProductFactory(name="Lopi mittens", slug="lopi-mittens", price=Decimal("4990"))
    StockLevelFactory(store=StoreFactory(name="Laugavegur"), product=product, on_hand=5)
    return product


def csrf_token_in(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)


def test_a_second_shopper_gets_the_shared_page_with_a_csrf_token_of_their_own(mittens, monkeypatch):
    # given Anna saw the product page first, and Bjarni's browser enforces CSRF like a real one,
    # within the same minute (the store's parts are kept per minute for "open now": a new minute
    # between the two visits would render them again)
    monkeypatch.setattr(stamps, "minute_bucket", lambda: 29_500_000)
    anna, bjarni = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first = anna.get(mittens.get_absolute_url())

    # when Bjarni opens the same page
    shared = bjarni.get(mittens.get_absolute_url())

    # then it was not rendered again, yet carries his own token, which works for his form
    assert first.templates and not shared.templates
    assert CSRF_PLACEHOLDER not in shared.content.decode()
    assert csrf_token_in(shared) != csrf_token_in(first)
    assert "csrftoken" in shared.cookies
    added = bjarni.post(
        reverse("checkout:cart_add"),
        {"product_id": mittens.pk, "quantity": "1", "csrfmiddlewaretoken": csrf_token_in(shared)},
    )
    assert added.status_code == 302
    # and Anna's token would not have passed for him
    refused = Client(enforce_csrf_checks=True)
    refused.get(mittens.get_absolute_url())
    assert (
        refused.post(
            reverse("checkout:cart_add"),
            {"product_id": mittens.pk, "quantity": "1", "csrfmiddlewaretoken": csrf_token_in(first)},
        ).status_code
        == 403
    )


def test_the_message_after_adding_to_the_cart_is_shown_once_and_to_that_shopper_only(client, mittens):
    # given the product page is cached
    Client().get(mittens.get_absolute_url())

    # when a shopper adds the mittens and goes back to the page
    client.post(reverse("checkout:cart_add"), {"product_id": mittens.pk, "quantity": "2"})
    back = client.get(mittens.get_absolute_url())

    # then they see the message and their cart, once
    assert "Added 2 × Lopi mittens to your cart." in back.content.decode()
    assert "Cart (2 items)" in back.content.decode()
    again = client.get(mittens.get_absolute_url()).content.decode()
    assert "Added 2 × Lopi mittens" not in again and "Cart (2 items)" in again
    # and another shopper sees neither
    other = Client().get(mittens.get_absolute_url()).content.decode()
    assert "Added 2 × Lopi mittens" not in other and "Cart (0 items)" in other


def test_each_shopper_sees_their_own_store_login_and_language_on_the_same_list(client, mittens):
    # given a guest saw the list in English
    assert "Choose your store" in Client().get(LIST_URL).content.decode()

    # when a logged-in shopper with a store, and an Icelandic guest, open the same address
    user = UserFactory()
    client.force_login(user)
    session = client.session
    session[MY_STORE_SESSION_KEY] = mittens.stock_levels.get().store_id
    session.save()
    mine = client.get(LIST_URL).content.decode()
    icelandic = Client().get(LIST_URL, HTTP_ACCEPT_LANGUAGE="is").content.decode()

    # then each page is theirs
    assert "My store: Laugavegur" in mine and "Log out" in mine and "5 in stock at Laugavegur" in mine
    assert '<html lang="is">' in icelandic and "Choose your store" not in icelandic


def test_each_shared_answer_says_whether_the_cache_had_it(client, mittens):
    # given nobody has opened the product page yet
    # when two shoppers open it, and one adds it to their cart and comes back to a message
    first = Client().get(mittens.get_absolute_url())
    second = client.get(mittens.get_absolute_url())
    added = client.post(reverse("checkout:cart_add"), {"product_id": mittens.pk, "quantity": "1"})
    with_message = client.get(mittens.get_absolute_url())

    # then the first was rendered, the second came from the cache (what bench/mix.lua counts),
    # and neither the POST nor the page rendered afresh for the message says either
    assert (first[CACHE_HEADER], second[CACHE_HEADER]) == ("miss", "hit")
    assert CACHE_HEADER not in added and CACHE_HEADER not in with_message
