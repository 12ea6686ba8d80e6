"""stores.selectors.available_at_condition (what a store has, as SQL for catalog.selectors.
PlainListing) narrows the listing as only_available_at narrows the ORM's."""

from decimal import Decimal

import pytest
from django.utils import translation

from catalog.selectors import ListingSort, PlainListing, product_listing
from catalog.tests.factories import ProductFactory
from stores.selectors import available_at_condition, only_available_at
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
