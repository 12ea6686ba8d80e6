"""stores.selectors.available_at_condition (what a store has, as SQL for catalog.selectors.
PlainListing) narrows the listing as only_available_at narrows the ORM's."""

from decimal import Decimal

import pytest
from django.utils import translation

from catalog.selectors import ListingSort, PlainListing, product_listing
from catalog.tests.factories import ProductFactory
from stores.selectors import MY_STORE_SESSION_KEY, available_at_condition, only_available_at
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_the_products_a_store_has_are_the_orms():
    # given products a store has, has none of (all reserved, none on hand), has only at another
    # store, and products with variants: one of them at the store, only a withdrawn one, none
    store, other = StoreFactory(), StoreFactory()
    has = ProductFactory(name="Has", price=Decimal("100"))
    reserved = ProductFactory(name="Reserved")
    elsewhere = ProductFactory(name="Elsewhere")
    sweater = ProductFactory(name="Sweater")
    withdrawn_size = ProductFactory(name="Scarf")
    ProductFactory(name="Nothing at all")
    StockLevelFactory(store=store, product=has, on_hand=2)
    StockLevelFactory(store=store, product=reserved, on_hand=2, reserved=2)
    StockLevelFactory(store=other, product=elsewhere, on_hand=5)
    StockLevelFactory(store=store, product=ProductFactory(parent=sweater, name="Sweater M"), on_hand=1)
    StockLevelFactory(store=store, product=ProductFactory(parent=withdrawn_size, is_active=False), on_hand=3)

    # when the listing of each store is read both ways, then the same products in the same order
    with translation.override("en"):
        for shop in (store, other):
            for sort in (None, ListingSort.PRICE_HIGH_TO_LOW):
                expected = list(only_available_at(product_listing(sort=sort), store=shop).values_list("pk", flat=True))
                listing = PlainListing(sort=sort, conditions=[available_at_condition(shop)])
                assert listing[0:50] == expected and listing.count() == len(expected)
    assert set(PlainListing(conditions=[available_at_condition(store)])[0:50]) == {has.pk, sweater.pk}


def test_a_count_of_what_a_store_has_stops_past_its_cap_and_the_page_says_more_than(client, monkeypatch):
    import storefront.catalog_views

    # given a store with 7 products in stock, a list of what it has counted up to 5 at most
    store = StoreFactory()
    for number in range(7):
        StockLevelFactory(store=store, product=ProductFactory(name=f"Hat {number}"), on_hand=1)
    ProductFactory(name="Hat nowhere")
    monkeypatch.setattr(storefront.catalog_views, "AVAILABLE_COUNTED_AT_MOST", 5)
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()

    # when the listing is counted, and the list shown in two languages, with and without the filter
    listing = PlainListing(conditions=[available_at_condition(store)], count_at_most=5)
    icelandic = client.get("/", {"available": "1"}, HTTP_ACCEPT_LANGUAGE="is").content.decode()
    english = client.get("/", {"available": "1"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    everything = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then the count stops at the cap and one, the page says "more than" the cap and lists the
    # first 5 (as a search past its cap does); the list of every product counts them all
    assert listing.count() == 6 and PlainListing(conditions=[available_at_condition(store)]).count() == 7
    assert len(listing[0:24]) == 5
    assert "Fleiri en 5 vörur" in icelandic and "More than 5 products" in english
    assert "Showing the first 5." in english and "Hér eru fyrstu 5." in icelandic
    assert english.count('data-testid="product-card"') == 5
    assert "8 products" in everything and "More than" not in everything
