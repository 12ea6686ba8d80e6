"""One price rule for a product with variants: the lowest price of its variants for sale is what
its card shows ("From" it when they differ), what the product page shows, and what the list's
price filter and price sort go by (catalog.selectors.listed_price_sql), by every way the list
is read: PlainListing, SearchListing and the ORM's product_listing."""

import re
from decimal import Decimal

import pytest

from catalog.selectors import ListingSort, PlainListing, SearchListing, product_listing
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.fixture
def shop():
    """A sweater at ISK 24,990 whose small size is lowered to 19,990 (and an inactive large one
    at 9,990); mittens whose one size is lowered to 3,990 from 4,990; a scarf at 20,990."""
    sweater = ProductFactory(name="Hekla sweater", sku="SWE", price=Decimal("24990"))
    ProductFactory(parent=sweater, name="Hekla sweater S", sku="SWE-S", price=Decimal("19990"))
    ProductFactory(parent=sweater, name="Hekla sweater M", sku="SWE-M", price=Decimal("24990"))
    ProductFactory(parent=sweater, name="Hekla sweater L", sku="SWE-L", price=Decimal("9990"), is_active=False)
    mittens = ProductFactory(name="Hekla mittens", sku="MIT", price=Decimal("4990"))
    ProductFactory(parent=mittens, name="Hekla mittens one size", sku="MIT-1", price=Decimal("3990"))
    scarf = ProductFactory(name="Hekla scarf", sku="SCA", price=Decimal("20990"))
    return {"sweater": sweater, "mittens": mittens, "scarf": scarf}


def listings(**filters):
    """The ids each way of reading the list gives for `filters`, in order."""
    found = {
        "plain": PlainListing(**filters)[0:24],
        "orm": list(product_listing(**filters).values_list("pk", flat=True)),
    }
    if SearchListing.serves():
        found["search"] = SearchListing(search="Hekla", **filters)[0:24]
        found["orm search"] = list(product_listing(search="Hekla", **filters).values_list("pk", flat=True))
    return found


def test_the_price_filter_and_sort_go_by_the_lowest_price_of_the_variants_for_sale(shop):
    sweater, mittens, scarf = shop["sweater"], shop["mittens"], shop["scarf"]

    # the sweater is 19,990 to the filter (not 24,990, nor the inactive large one's 9,990)
    for way, ids in listings(max_price=Decimal("20000")).items():
        assert set(ids) == {sweater.pk, mittens.pk}, way
    for way, ids in listings(min_price=Decimal("20000")).items():
        assert set(ids) == {scarf.pk}, way
    for way, ids in listings(min_price=Decimal("4000")).items():
        assert mittens.pk not in ids, way  # 3,990 listed, though the product itself says 4,990
    # and to the sort: mittens 3,990, sweater 19,990, scarf 20,990
    for way, ids in listings(sort=ListingSort.PRICE_LOW_TO_HIGH).items():
        assert ids == [mittens.pk, sweater.pk, scarf.pk], way
    for way, ids in listings(sort=ListingSort.PRICE_HIGH_TO_LOW).items():
        assert ids == [scarf.pk, sweater.pk, mittens.pk], way


def test_the_card_and_the_product_page_show_the_same_listed_price(client, shop):
    # when a shopper opens the list
    html = client.get("/").content.decode()

    # then each card shows the price the product page shows
    for product, shown in (
        (shop["sweater"], f"From ISK{NBSP}19,990"),
        (shop["mittens"], f"ISK{NBSP}3,990"),
        (shop["scarf"], f"ISK{NBSP}20,990"),
    ):
        card = re.search(rf"<article[^>]*>(?:(?!</article>).)*?{re.escape(product.name)}.*?</article>", html, re.S)
        assert card and shown in card.group(0), (product.name, card and card.group(0))
        page = client.get(product.get_absolute_url()).content.decode()
        price = re.search(r'data-testid="price">([^<]+)<', page).group(1)
        assert price == shown, product.name
