"""The product list's order (relevance, price both ways, newest, name) and price range, with the
category and "in stock at my store" filters: a GET form, bad input shown back."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product, ProductImage
from catalog.selectors import PRODUCTS_PER_PAGE
from catalog.tests.factories import CategoryFactory, ProductFactory
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("catalog:product_list")
# As catalog/tests/test_pages.py's PRODUCT_LIST_QUERIES: an order or a price range costs nothing more.
PRODUCT_LIST_QUERIES = 11


def listed(response):
    # The page lists its products' ids (their cards come from the cache).
    ids = response.context["product_ids"]
    found = Product.objects.in_bulk(ids)
    return [found[pk].name for pk in ids]


def remember_store(client, store):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()


@pytest.fixture
def shelf():
    """Four products: the candle made today, the sweater a day ago, the tent two, the hat three."""
    made = {}
    now = timezone.now()
    for age_in_days, (name, price) in enumerate(
        [("Wool hat", "3990"), ("Dome tent", "45990"), ("Lopapeysa", "24990"), ("Beeswax candle", "1490")][::-1]
    ):
        product = ProductFactory(name=name, price=Decimal(price))
        Product.objects.filter(pk=product.pk).update(created_at=now - datetime.timedelta(days=age_in_days))
        made[name] = product
    return made


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["Beeswax candle", "Dome tent", "Lopapeysa", "Wool hat"]),
        ("name", ["Beeswax candle", "Dome tent", "Lopapeysa", "Wool hat"]),
        ("price", ["Beeswax candle", "Wool hat", "Lopapeysa", "Dome tent"]),
        ("-price", ["Dome tent", "Lopapeysa", "Wool hat", "Beeswax candle"]),
        ("newest", ["Beeswax candle", "Lopapeysa", "Dome tent", "Wool hat"]),
        ("cheapest-first", ["Beeswax candle", "Dome tent", "Lopapeysa", "Wool hat"]),
        ("relevance", ["Beeswax candle", "Dome tent", "Lopapeysa", "Wool hat"]),
    ],
    ids=["default", "name", "price up", "price down", "newest", "unknown: default", "relevance without a search"],
)
def test_the_list_is_sorted_as_the_shopper_chose(client, shelf, sort, expected):
    # when
    response = client.get(LIST_URL, {"sort": sort})

    # then
    html = response.content.decode()
    assert listed(response) == expected
    assert not response.context["listing"].errors
    assert "Relevance" not in html  # nothing to be relevant to without a search
    shown = sort if sort in ("name", "price", "-price", "newest") else "name"
    assert f'<option value="{shown}" selected>' in html


def test_a_search_is_by_relevance_unless_the_shopper_sorts_it(client, shelf):
    # given: two hats; "hat" ranks the hat named just that first
    ProductFactory(name="Hat", price=Decimal("9990"))

    # when
    by_relevance = client.get(LIST_URL, {"q": "hat"})
    by_price = client.get(LIST_URL, {"q": "hat", "sort": "price"})

    # then
    assert listed(by_relevance)[0] == "Hat"
    assert '<option value="relevance" selected>' in by_relevance.content.decode()
    assert listed(by_price) == ["Wool hat", "Hat"]
    assert '<option value="price" selected>' in by_price.content.decode()


def test_a_price_range_keeps_the_products_within_it_bounds_included(client, shelf):
    # when
    response = client.get(LIST_URL, {"min_price": "3990", "max_price": "24990", "sort": "price"})

    # then
    html = response.content.decode()
    assert listed(response) == ["Wool hat", "Lopapeysa"]
    assert "2 products" in html
    assert 'value="3990"' in html
    assert 'value="24990"' in html


def test_filters_combine_category_price_and_in_stock_at_my_store(client, shelf):
    # given: outdoor has the tent and the candle; my store has the tent and the candle, none of the rest
    outdoor = CategoryFactory(name="Outdoor", slug="outdoor")
    Product.objects.filter(pk__in=[shelf["Dome tent"].pk, shelf["Beeswax candle"].pk]).update(category=outdoor)
    store = StoreFactory()
    for name in ("Dome tent", "Beeswax candle", "Wool hat"):
        StockLevelFactory(store=store, product=shelf[name], on_hand=0 if name == "Wool hat" else 2)
    remember_store(client, store)

    # when
    response = client.get(LIST_URL, {"category": "outdoor", "available": "1", "min_price": "2000", "sort": "-price"})

    # then
    assert listed(response) == ["Dome tent"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"min_price": "cheap"}, "min_price", "Enter a price as a number, such as 5000."),
        ({"max_price": "-5"}, "max_price", "Enter a price of 0 or more."),
        ({"min_price": "1.999"}, "min_price", "Enter a price with at most 2 decimals."),
        ({"max_price": "1e400"}, "max_price", "Enter a smaller price."),
        ({"max_price": "9" * 20}, "max_price", "Enter a smaller price."),
        ({"min_price": "30000", "max_price": "4000"}, "max_price", "The highest price must be at least the lowest."),
    ],
    ids=["not a number", "negative", "too many decimals", "exponent", "too large", "upside down"],
)
def test_a_price_the_shop_cannot_use_is_shown_back_with_what_is_wrong(client, shelf, query, field, message):
    # when
    response = client.get(LIST_URL, query)

    # then: the error by its box, what was typed kept, and that bound left out (products still shown)
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["listing"].errors[field] == [message]
    assert f'data-testid="{field}-error"' in html
    assert f'id="filter-{field}" type="text" inputmode="decimal" name="{field}" value="{query[field]}"' in html
    assert 'aria-invalid="true"' in html
    other = {"min_price": "max_price", "max_price": "min_price"}[field]
    expected = len(shelf)
    if other in query:  # the other bound still applies
        expected = Product.objects.filter(
            **{"price__gte" if other == "min_price" else "price__lte": query[other]}
        ).count()
    assert len(listed(response)) == expected


def test_pages_of_a_sorted_range_keep_the_order_and_the_range(client):
    # given
    for number in range(PRODUCTS_PER_PAGE + 5):
        ProductFactory(name=f"Mug {number:02d}", price=Decimal(1000 + number))

    # when
    first = client.get(LIST_URL, {"sort": "-price", "min_price": "1002"})
    second = client.get(LIST_URL, {"sort": "-price", "min_price": "1002", "page": "2"})

    # then
    assert listed(first)[0] == f"Mug {PRODUCTS_PER_PAGE + 4:02d}"
    assert listed(second) == ["Mug 04", "Mug 03", "Mug 02"]
    assert 'href="?min_price=1002&amp;sort=-price&amp;page=2"' in first.content.decode()


@pytest.mark.parametrize("product_count", [10, 200])
@pytest.mark.parametrize("sort", ["price", "-price", "newest"])
def test_a_sorted_price_range_costs_the_same_queries_for_10_or_200_products(
    client, django_assert_num_queries, product_count, sort
):
    # given: every product has two images and stock at my store
    store = StoreFactory()
    products = [ProductFactory(price=Decimal(100 + number)) for number in range(product_count)]
    ProductImage.objects.bulk_create(
        ProductImage(product=product, image=f"products/{product.pk}/{n}.jpg") for product in products for n in range(2)
    )
    for product in products:
        StockLevelFactory(store=store, product=product, on_hand=3)
    remember_store(client, store)

    # when / then
    with django_assert_num_queries(PRODUCT_LIST_QUERIES):
        response = client.get(LIST_URL, {"available": "1", "sort": sort, "min_price": "100", "max_price": "100000"})
    assert len(response.context["product_ids"]) == min(product_count, PRODUCTS_PER_PAGE)


@pytest.mark.parametrize("page", ["99999999999999999999", "9223372036854775807", "2147483648"])
@pytest.mark.parametrize(
    "filters",
    [{"q": "hat"}, {"q": "hat", "sort": "price"}, {"category": "the hat's"}, {}],
    ids=["search", "sorted search", "category", "everything"],
)
def test_a_page_number_past_any_integer_shows_the_last_page(client, shelf, filters, page):
    if "category" in filters:
        filters = {"category": shelf["Wool hat"].category.slug}

    # when a list is asked for a page number no database integer holds (typed, or a crawler's)
    response = client.get(LIST_URL, {**filters, "page": page})

    # then it shows its last page, as for any number past the end (found by a fresh-eyes test:
    # a search answered 500, "bigint out of range")
    assert response.status_code == 200
    assert response.context["page"].number == response.context["page"].paginator.num_pages
