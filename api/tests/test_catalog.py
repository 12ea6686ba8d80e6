"""Products and variants with the units at each of the channel's stores; ETags; query counts."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from catalog.tests.factories import ProductFactory
from o2o_site.cache import stamps
from stores.tests.factories import StockLevelFactory, StoreFactory

from .conftest import stores_changed_now

pytestmark = pytest.mark.django_db


def by_sku(page):
    return {product["sku"]: product for product in page["results"]}


def test_products_list_the_units_at_the_channels_stores_only(kiosk_client, world):
    # when the kiosk channel (Laugavegur and Kringlan) lists the products
    response = kiosk_client.get("/api/v1/products")

    # then each product has a row per channel store, never Oslo's
    assert response.status_code == 200
    page = response.json()
    assert [store["slug"] for store in page["stores"]] == ["kringlan", "laugavegur"]
    products = by_sku(page)
    assert set(products) == {"MIT-1", "SWE"}  # variants come with their product, not as products
    mittens = products["MIT-1"]
    assert mittens["price"] == "4990.00" and mittens["currency"] == "ISK"
    # Kringlan's two mittens are both reserved: none to sell
    assert mittens["availability"] == [{"store": "kringlan", "available": 0}, {"store": "laugavegur", "available": 5}]
    assert mittens["variants"] == []
    sweater = products["SWE"]
    assert [variant["sku"] for variant in sweater["variants"]] == ["SWE-S", "SWE-M"]
    assert sweater["variants"][0]["attributes"] == {"size": "S"}
    assert sweater["variants"][0]["availability"] == [
        {"store": "kringlan", "available": 0},
        {"store": "laugavegur", "available": 3},
    ]
    # the product's own row adds up its sizes
    assert sweater["availability"] == [{"store": "kringlan", "available": 4}, {"store": "laugavegur", "available": 3}]


def test_the_other_channel_sees_its_own_store(app_client, world):
    page = app_client.get("/api/v1/products", {"q": "mittens"}).json()

    assert page["stores"] == [{"slug": "grunerlokka", "name": "Grünerløkka"}]
    assert by_sku(page)["MIT-1"]["availability"] == [{"store": "grunerlokka", "available": 9}]


def test_a_product_by_slug_and_an_unknown_one(kiosk_client, world):
    found = kiosk_client.get("/api/v1/products/lopi-sweater")
    assert found.status_code == 200
    assert found.json()["sku"] == "SWE"

    missing = kiosk_client.get("/api/v1/products/no-such-thing", HTTP_ACCEPT_LANGUAGE="is")
    assert missing.status_code == 404
    assert "no-such-thing" in missing.json()["detail"] and "There is no" not in missing.json()["detail"]


def test_a_category_filter_and_paging(kiosk_client, world):
    page = kiosk_client.get("/api/v1/products", {"category": "knitwear", "limit": 1, "offset": 1}).json()
    assert page["count"] == 2 and page["limit"] == 1 and [p["sku"] for p in page["results"]] == ["SWE"]

    unknown = kiosk_client.get("/api/v1/products", {"category": "nope"})
    assert unknown.status_code == 404


def test_an_unchanged_list_is_not_sent_again_until_stock_changes(kiosk_client, world, django_assert_max_num_queries):
    first = kiosk_client.get("/api/v1/products")
    etag = first["ETag"]
    assert etag.startswith('"') and first["Cache-Control"] == "private, no-cache"

    # when asked again with the ETag: 304, no body, and only the key is read
    with django_assert_max_num_queries(2):
        again = kiosk_client.get("/api/v1/products", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and again["Cache-Control"] == "private, no-cache"

    # when the stock at one of the channel's stores changes (stores.services stamps a new version)
    cache.delete(stamps.store_stock_key(world["laugavegur"].pk))
    changed = kiosk_client.get("/api/v1/products", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag

    # and another query is another ETag
    assert kiosk_client.get("/api/v1/products", {"q": "sweater"})["ETag"] != changed["ETag"]


def _grow(world, n):
    for i in range(n):
        store = StoreFactory(slug=f"more-{n}-{i}")
        world["kiosk"].stores.add(store)
        parent = ProductFactory(price=Decimal("1000"))
        for _size in range(2):
            variant = ProductFactory(parent=parent, price=Decimal("1000"))
            StockLevelFactory(store=store, product=variant, on_hand=1)
        StockLevelFactory(store=store, product=ProductFactory(price=Decimal("900")), on_hand=3)
    stores_changed_now()


def test_query_count_stays_the_same_as_products_and_stores_grow(kiosk_client, world, django_assert_num_queries):
    # given the count for the world as it is
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert kiosk_client.get("/api/v1/products", {"limit": 100}).status_code == 200
    # when there are ten more stores, each with products and variants
    _grow(world, 10)
    with django_assert_num_queries(len(small)):
        page = kiosk_client.get("/api/v1/products", {"limit": 100}).json()
    # then the same number of queries answered the bigger page
    assert len(page["results"]) == 22 and len(page["stores"]) == 12
    # the key, its stores, the count, the page, images, variants, their values, the units; and the
    # store directory built afresh (stores, hours, special dates)
    assert len(small) <= 11
