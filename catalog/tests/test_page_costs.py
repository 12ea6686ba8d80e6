"""What catalog pages cost, and that what they cache is never stale where it matters.

Pages keep the same number of queries whatever the catalog's size, the number of stores and
the page number; a second visit is served from cached fragments; any stock or catalog change
made through the services shows at once; checkout never trusts the cache.
"""

import json
import re
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Product
from catalog.selectors import PRODUCTS_PER_PAGE, product_listing
from catalog.tests.factories import CategoryFactory, ProductFactory
from checkout.cart import SESSION_KEY
from o2o_site.money import format_money
from orders.models import Order
from stores import services as stock
from stores.models import StockLevel, Store
from stores.selectors import MY_STORE_SESSION_KEY, product_availability
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("catalog:product_list")
# A first visit: session, the store directory my store comes from (the stores, their opening hours
# and special dates, read once per process while the stores do not change), categories, the
# variant attributes and their values (the size filter), count, the page's product ids, the
# products of the cards not cached yet, their first images, their units at my store. (The page
# reads ids, and the products only for cards no page rendered before: 11, was 10 when it read
# the products themselves, which cost more CPU once their cards were cached.)
PRODUCT_LIST_QUERIES = 11
# A search reads its count with its page (catalog.selectors.CountingListing): one query less.
SEARCH_LIST_QUERIES = 10
# A second visit of the same page: the session only; my store is the directory's, the rest cached.
PRODUCT_LIST_CACHED_QUERIES = 1
# A first visit: session, the product with its category and images (one query), the stores with
# their available units, categories, and the store directory (my store and "open now": the stores,
# their opening hours and special dates, read once per process while the stores do not change).
PRODUCT_PAGE_QUERIES = 7
# A second visit: the session; my store, the product, tree and availability are cached.
PRODUCT_PAGE_CACHED_QUERIES = 1
# The JSON: the product, the stores with their units, the store directory (stores, opening
# hours, special dates); cached: the product.
AVAILABILITY_JSON_QUERIES = 5
AVAILABILITY_JSON_CACHED_QUERIES = 1


def remember_store(client, store):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()


@pytest.fixture
def reykjavik():
    return StoreFactory(name="Laugavegur", latitude=Decimal("64.145800"), longitude=Decimal("-21.929000"))


@pytest.mark.parametrize("product_count", [30, 300])
@pytest.mark.parametrize("page", [1, 2, "last"])
@pytest.mark.parametrize(
    "filters",
    [{"category": "knitwear"}, {"q": "mittens"}, {"q": "mitens woolen"}],
    ids=["category", "search", "misspelt search"],
)
def test_every_page_of_the_list_costs_the_same_queries_however_large_the_catalog(
    client, django_assert_num_queries, reykjavik, product_count, page, filters
):
    # given a catalog of 30 or 300 mittens, all stocked at my store
    knitwear = CategoryFactory(slug="knitwear")
    for product in ProductFactory.create_batch(product_count, category=knitwear):
        StockLevelFactory(store=reykjavik, product=product, on_hand=2)
    remember_store(client, reykjavik)
    number = -(-product_count // PRODUCTS_PER_PAGE) if page == "last" else page

    # when / then: a first and a second visit of page 1, 2 or the last one of a category or a search
    with django_assert_num_queries(SEARCH_LIST_QUERIES if "q" in filters else PRODUCT_LIST_QUERIES):
        first = client.get(LIST_URL, {**filters, "page": number})
    with django_assert_num_queries(PRODUCT_LIST_CACHED_QUERIES):
        again = client.get(LIST_URL, {**filters, "page": number})
    assert first.context["page"].number == number
    assert first.content.count(b'data-testid="product-card"') == again.content.count(b'data-testid="product-card"') > 0


def test_every_sort_of_a_list_shares_its_count(client, reykjavik):
    # given a category of 30 products and a list of it shown sorted by price
    knitwear = CategoryFactory(slug="knitwear")
    ProductFactory.create_batch(30, category=knitwear)
    remember_store(client, reykjavik)
    client.get(LIST_URL, {"category": "knitwear", "sort": "price"})

    # when the same list is shown in the other orders, its parameters written in another order too
    with CaptureQueriesContext(connection) as queries:
        for sort in ("-price", "newest", "name"):
            client.get(LIST_URL, {"sort": sort, "category": "knitwear", "page": 2})

    # then none of them counted the products again
    assert not [query for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]


@pytest.mark.parametrize("store_count", [10, 200])
def test_the_product_page_costs_the_same_queries_first_and_again(client, django_assert_num_queries, store_count):
    # given a product stocked in 10 or 200 stores
    mittens = ProductFactory(slug="mittens")
    stores = StoreFactory.create_batch(store_count)
    for store in stores:
        StockLevelFactory(store=store, product=mittens, on_hand=4)
    remember_store(client, stores[0])

    # when / then
    with django_assert_num_queries(PRODUCT_PAGE_QUERIES):
        client.get(mittens.get_absolute_url())
    with django_assert_num_queries(PRODUCT_PAGE_CACHED_QUERIES):
        response = client.get(mittens.get_absolute_url())
    assert response.status_code == 200
    assert "4 in stock at" in response.content.decode()


def test_a_reservation_shows_on_the_product_page_at_once(client, django_capture_on_commit_callbacks, reykjavik):
    # given a product page seen (and cached) with 3 mittens at my store
    mittens = ProductFactory(slug="mittens")
    StockLevelFactory(store=reykjavik, product=mittens, on_hand=3)
    remember_store(client, reykjavik)
    assert "3 in stock at Laugavegur" in client.get(mittens.get_absolute_url()).content.decode()

    # when another shopper reserves 2 through the stock service
    with django_capture_on_commit_callbacks(execute=True):
        stock.reserve_stock(store=reykjavik, quantities={mittens.pk: 2})

    # then the page, the list and the JSON show 1 left
    assert "1 in stock at Laugavegur" in client.get(mittens.get_absolute_url()).content.decode()
    assert "1 in stock at Laugavegur" in client.get(LIST_URL).content.decode()
    body = json.loads(client.get(reverse("catalog:availability_json", args=[mittens.sku])).content)
    assert body["stores"][0]["available"] == 1


def test_a_stock_count_shows_in_other_stores_rows_too(client, django_capture_on_commit_callbacks, reykjavik):
    # given the product page of a shopper without a store lists every store's units
    mittens = ProductFactory(slug="mittens")
    StockLevelFactory(store=reykjavik, product=mittens, on_hand=3)
    client.get(mittens.get_absolute_url())

    # when the store counts 9
    with django_capture_on_commit_callbacks(execute=True):
        stock.set_on_hand(store=reykjavik, product=mittens, on_hand=9)

    # then
    assert "9 available" in client.get(mittens.get_absolute_url()).content.decode()


def test_a_price_changed_in_the_admin_shows_at_once(client, admin_user, django_capture_on_commit_callbacks):
    # given the list and the product page seen (and cached) at the old price
    mittens = ProductFactory(slug="mittens", name="Lopi mittens", price=Decimal("4990"))
    client.get(LIST_URL)
    client.get(mittens.get_absolute_url())

    # when a manager saves a new price in the admin
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    mittens.price = Decimal("3990")
    with django_capture_on_commit_callbacks(execute=True):
        site._registry[Product].save_model(request, mittens, form=None, change=True)

    # then both pages show the new price
    new_price = format_money(Decimal("3990"))
    assert new_price in client.get(LIST_URL).content.decode()
    assert new_price in client.get(mittens.get_absolute_url()).content.decode()


def test_checkout_never_trusts_a_stale_in_stock(client, reykjavik):
    # given the product page cached while one unit was left
    mittens = ProductFactory(slug="mittens", name="Lopi mittens")
    StockLevelFactory(store=reykjavik, product=mittens, on_hand=1)
    remember_store(client, reykjavik)
    assert "1 in stock at Laugavegur" in client.get(mittens.get_absolute_url()).content.decode()
    # and the last unit then leaves by a path that tells no cache (so the page is stale on purpose)
    StockLevel.objects.filter(store=reykjavik, product=mittens).update(on_hand=0)
    assert "1 in stock at Laugavegur" in client.get(mittens.get_absolute_url()).content.decode()

    # when the shopper checks out
    session = client.session
    session[SESSION_KEY] = {str(mittens.pk): 1}
    session.save()
    page = client.get(reverse("checkout:checkout")).content.decode()
    token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
    response = client.post(
        reverse("checkout:checkout"),
        {
            "name": "Anna",
            "email": "anna@example.com",
            "phone": "+354 555 1234",
            "store": reykjavik.pk,
            "checkout_token": token,
        },
    )

    # then checkout read the stock row itself: sold out, no order, nothing reserved
    assert response.status_code == 200
    assert "sold out at Laugavegur" in response.content.decode()
    assert not Order.objects.exists()
    assert StockLevel.objects.get(store=reykjavik, product=mittens).reserved == 0


@pytest.mark.parametrize("store_count", [10, 200])
def test_the_availability_json_lists_every_store_in_fixed_queries(client, django_assert_num_queries, store_count):
    # given
    mittens = ProductFactory(sku="MIT-1", name="Lopi mittens")
    for number, store in enumerate(StoreFactory.create_batch(store_count)):
        StockLevelFactory(store=store, product=mittens, on_hand=number % 3)
    url = reverse("catalog:availability_json", args=["MIT-1"])

    # when / then
    with django_assert_num_queries(AVAILABILITY_JSON_QUERIES):
        first = client.get(url)
    with django_assert_num_queries(AVAILABILITY_JSON_CACHED_QUERIES):
        again = client.get(url)
    assert first["Content-Type"] == "application/json"
    body = json.loads(first.content)
    assert body["sku"] == "MIT-1" and body["name"] == "Lopi mittens"
    assert len(body["stores"]) == store_count
    assert {row["slug"] for row in body["stores"]} == set(Store.objects.values_list("slug", flat=True))
    assert sum(row["available"] for row in body["stores"]) == sum(number % 3 for number in range(store_count))
    assert set(body["stores"][0]) == {"slug", "name", "city", "available", "open_now"}
    assert again.content == first.content


def test_the_availability_json_of_a_product_not_for_sale_is_not_found(client):
    # given
    ProductFactory(sku="OLD-1", is_active=False)

    # when / then
    assert client.get(reverse("catalog:availability_json", args=["OLD-1"])).status_code == 404
    assert client.get(reverse("catalog:availability_json", args=["NOPE"])).status_code == 404


def test_the_product_page_reads_stock_by_index_not_the_whole_stock_table(require_postgres):
    # given 40 stores × 300 products of stock, analysed
    products = ProductFactory.create_batch(300)
    stores = StoreFactory.create_batch(40, open_every_day=False)
    StockLevel.objects.bulk_create(
        StockLevel(store=store, product=product, on_hand=3) for store in stores for product in products
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    # when the product page's availability query is explained
    with CaptureQueriesContext(connection) as captured:
        product_availability(product=products[150])
    availability_sql = next(query["sql"] for query in captured.captured_queries if "stocklevel" in query["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + availability_sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # then stock rows are found through an index, never by scanning the table
    assert "stores_stocklevel" in plan
    assert "Seq Scan on stores_stocklevel" not in plan
    assert "Index" in plan


def test_a_search_reads_the_trigram_indexes_not_the_whole_catalog(require_postgres):
    # given a catalog of 5 000 products with a paragraph each, one of them a lopapeysa, analysed
    knitwear = CategoryFactory()
    paragraph = "A sturdy enamel mug for coffee by the fjord, warm in the hand on a cold morning. " * 3
    Product.objects.bulk_create(
        Product(
            category=knitwear,
            name=f"Enamel mug {n}",
            slug=f"mug-{n}",
            sku=f"MUG-{n:05d}",
            description=paragraph,
            price=Decimal("1990"),
        )
        for n in range(5000)
    )
    ProductFactory(name="Lopapeysa from Álafoss", category=knitwear)
    with connection.cursor() as cursor:
        # What autovacuum does to a live catalog: new rows leave GIN's pending list for the index.
        cursor.execute(
            "SELECT gin_clean_pending_list(indexname::regclass) FROM pg_indexes "
            "WHERE indexname LIKE 'product_%_trgm' OR indexname LIKE 'product_document_%'"
        )
        cursor.execute("ANALYZE catalog_product")

    # when the search page's product query is explained
    with CaptureQueriesContext(connection) as captured:
        found = list(product_listing(search="lopapeysa")[:PRODUCTS_PER_PAGE])
    listing_sql = next(query["sql"] for query in captured.captured_queries if "catalog_product" in query["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + listing_sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # then the words are looked up in the full-text and trigram indexes (catalog/migrations/0011, 0006)
    assert [product.name for product in found] == ["Lopapeysa from Álafoss"]
    assert "product_document_en" in plan and "product_folded_name_en_trgm" in plan
    assert "Seq Scan on catalog_product" not in plan
