"""The shopper's catalog pages: the product list (filters, search, pagination) and a product's page."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.models import Product, ProductImage
from catalog.selectors import PRODUCTS_PER_PAGE
from catalog.services import add_product_image
from catalog.tests.factories import CategoryFactory, ProductFactory
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("catalog:product_list")

# The whole product list page, whatever the number of products: session, the store directory that
# my store comes from (the stores, their opening hours and special dates, once per process while
# the stores do not change), categories, the variant attributes and their values (the size
# filter), count, the page's product ids, the products of the cards not cached yet, their first
# images, their units at my store (11, was 10 when the page read its products themselves: as ids,
# a page whose cards are cached reads no product).
PRODUCT_LIST_QUERIES = 11
# The whole product page, whatever the number of stores: session, the product with its category
# and images (one query: catalog.selectors.product_for_page joins them), the stores with their
# available units, categories, and the store directory for my store and "open now" (the stores,
# their opening hours and special dates, once per process).
PRODUCT_PAGE_QUERIES = 7


def remember_store(client, store):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()


def png_upload(name="mittens.png", colour=(200, 80, 60)):
    buffer = BytesIO()
    Image.new("RGB", (800, 600), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def listed_skus(response):
    return [product.sku for product in listed_products(response)]


def listed_products(response):
    # The page lists its products' ids (their cards come from the cache).
    ids = response.context["product_ids"]
    found = Product.objects.in_bulk(ids)
    return [found[pk] for pk in ids]


def test_the_list_shows_only_products_that_are_for_sale(client):
    # given
    ProductFactory(name="Lopapeysa", sku="LOPI-1")
    ProductFactory(name="Old catalogue item", sku="GONE-1", is_active=False)

    # when
    response = client.get(LIST_URL)

    # then
    assert response.status_code == 200
    assert listed_skus(response) == ["LOPI-1"]
    assert "Old catalogue item" not in response.content.decode()


def test_the_list_shows_24_products_a_page_and_a_page_past_the_end_shows_the_last(client):
    # given
    ProductFactory.create_batch(30)

    # when
    first = client.get(LIST_URL)
    second = client.get(LIST_URL, {"page": 2})
    far_beyond = client.get(LIST_URL, {"page": 999999999999})
    garbage = client.get(LIST_URL, {"page": "lots"})

    # then
    assert PRODUCTS_PER_PAGE == 24
    assert len(first.context["product_ids"]) == 24
    assert len(second.context["product_ids"]) == 6
    assert far_beyond.status_code == 200
    assert far_beyond.context["page"].number == 2
    assert garbage.context["page"].number == 1
    assert 'rel="next" href="?page=2"' in first.content.decode()


def test_pagination_links_keep_the_search_and_the_category(client):
    # given
    knitwear = CategoryFactory(slug="knitwear")
    ProductFactory.create_batch(25, category=knitwear, name="Wool hat")

    # when
    response = client.get(LIST_URL, {"q": "hat", "category": "knitwear"})

    # then (parameters in order: shared pages sort them, o2o_site/cache/pages.py)
    assert 'href="?category=knitwear&amp;q=hat&amp;page=2"' in response.content.decode()


def test_a_category_lists_its_own_and_its_descendants_products_and_the_tree_is_in_the_sidebar(client):
    # given
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    knitwear = CategoryFactory(name="Knitwear", slug="knitwear", parent=clothing)
    mittens = CategoryFactory(name="Mittens", slug="mittens", parent=knitwear)
    food = CategoryFactory(name="Food", slug="food")
    ProductFactory(sku="COAT", category=clothing)
    ProductFactory(sku="SWEATER", category=knitwear)
    ProductFactory(sku="MITTEN", category=mittens)
    ProductFactory(sku="SKYR", category=food)

    # when
    clothing_page = client.get(LIST_URL, {"category": "clothing"})
    knitwear_page = client.get(LIST_URL, {"category": "knitwear"})

    # then
    assert sorted(listed_skus(clothing_page)) == ["COAT", "MITTEN", "SWEATER"]
    assert sorted(listed_skus(knitwear_page)) == ["MITTEN", "SWEATER"]
    roots = knitwear_page.context["category_roots"]
    assert [node.category.name for node in roots] == ["Clothing", "Food"]
    assert [node.category.name for node in roots[0].children] == ["Knitwear"]
    assert [node.category.name for node in roots[0].children[0].children] == ["Mittens"]
    html = knitwear_page.content.decode()
    assert '<a href="?category=mittens"' in html
    assert 'aria-current="true" class="is-current">Knitwear</a>' in html


def test_an_unknown_category_is_not_found(client):
    # when
    response = client.get(LIST_URL, {"category": "no-such-thing"})

    # then
    assert response.status_code == 404


@pytest.mark.parametrize(
    "search",
    ["Lopapeysa", "lopapeysa", "Icelandic sheep", "LOPI-42", "lopi-4"],
    ids=["name", "name in any case", "description", "whole SKU", "start of SKU"],
)
def test_shoppers_find_products_by_name_description_or_sku(client, search):
    # given
    ProductFactory(name="Lopapeysa", sku="LOPI-42", description="Knitted from the wool of Icelandic sheep.")
    ProductFactory(name="Rain jacket", sku="RAIN-1", description="Keeps the Atlantic weather out.")

    # when
    response = client.get(LIST_URL, {"q": search})

    # then
    assert listed_skus(response) == ["LOPI-42"]
    assert "1 product matches" in response.content.decode()


def test_only_in_stock_at_my_store_leaves_out_what_my_store_cannot_sell(client):
    # given
    laugavegur = StoreFactory(name="Laugavegur")
    kringlan = StoreFactory(name="Kringlan")
    in_stock = ProductFactory(sku="IN-STOCK")
    all_reserved = ProductFactory(sku="ALL-RESERVED")
    only_elsewhere = ProductFactory(sku="ONLY-ELSEWHERE")
    ProductFactory(sku="NEVER-STOCKED")
    StockLevelFactory(store=laugavegur, product=in_stock, on_hand=5, reserved=2)
    StockLevelFactory(store=laugavegur, product=all_reserved, on_hand=3, reserved=3)
    StockLevelFactory(store=kringlan, product=only_elsewhere, on_hand=9)
    remember_store(client, laugavegur)

    # when
    filtered = client.get(LIST_URL, {"available": "1"})
    unfiltered = client.get(LIST_URL)

    # then
    assert listed_skus(filtered) == ["IN-STOCK"]
    assert len(listed_skus(unfiltered)) == 4


def test_only_in_stock_at_my_store_without_a_store_explains_how_to_choose_one(client):
    # given
    ProductFactory.create_batch(2)

    # when
    response = client.get(LIST_URL, {"available": "1"})

    # then
    html = response.content.decode()
    assert len(response.context["product_ids"]) == 2
    assert 'data-testid="choose-store-notice"' in html
    assert f'<a href="{reverse("stores:store_list")}">choose your store</a>' in html


def test_cards_show_the_units_at_my_store_or_that_it_is_out_of_stock(client):
    # given
    store = StoreFactory(name="Laugavegur")
    ProductFactory(name="Anorak", sku="ANORAK")
    stocked = ProductFactory(name="Beanie", sku="BEANIE")
    StockLevelFactory(store=store, product=stocked, on_hand=7, reserved=2)
    remember_store(client, store)

    # when
    html = client.get(LIST_URL).content.decode()

    # then
    assert "5 in stock at Laugavegur" in html
    assert "Out of stock at Laugavegur" in html
    assert html.index("Anorak") < html.index("Out of stock at Laugavegur") < html.index("Beanie")


def test_cards_show_the_price_the_thumbnail_or_a_placeholder_initial(client, settings):
    # given
    settings.SHOP_CURRENCY = "ISK"
    pictured = ProductFactory(name="Anorak", price=Decimal("12990"))
    ProductFactory(name="Beanie", price=Decimal("3490"))
    picture = add_product_image(product=pictured, image_file=png_upload())

    # when
    html = client.get(LIST_URL).content.decode()

    # then
    assert "ISK\u00a012,990" in html
    assert "ISK\u00a03,490" in html
    assert f'src="{picture.thumbnail.url}"' in html
    assert '<span class="placeholder">B</span>' in html


def test_no_availability_is_shown_before_a_store_is_chosen(client):
    # given
    ProductFactory()

    # when
    html = client.get(LIST_URL).content.decode()

    # then
    assert 'data-testid="availability"' not in html


@pytest.mark.parametrize("product_count", [10, 200])
def test_the_product_list_costs_the_same_queries_for_10_or_200_products(
    client, django_assert_num_queries, product_count
):
    # given: every product has two images and stock at my store
    store = StoreFactory()
    products = ProductFactory.create_batch(product_count)
    ProductImage.objects.bulk_create(
        ProductImage(product=product, image=f"products/{product.pk}/{n}.jpg", thumbnail=f"t/{product.pk}-{n}.jpg")
        for product in products
        for n in range(2)
    )
    for product in products:
        StockLevelFactory(store=store, product=product, on_hand=3)
    remember_store(client, store)

    # when / then
    with django_assert_num_queries(PRODUCT_LIST_QUERIES):
        response = client.get(LIST_URL, {"available": "1"})
    assert len(response.context["product_ids"]) == min(product_count, PRODUCTS_PER_PAGE)
    assert response.content.decode().count("3 in stock at") == min(product_count, PRODUCTS_PER_PAGE)


# ---------- the product page ----------


def test_the_product_page_shows_name_sku_price_description_breadcrumb_and_pictures(client, settings):
    # given
    settings.SHOP_CURRENCY = "ISK"
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    knitwear = CategoryFactory(name="Knitwear", slug="knitwear", parent=clothing)
    product = ProductFactory(
        name="Lopapeysa", sku="LOPI-1", price=Decimal("24990"), category=knitwear, description="Hand knitted."
    )
    front = add_product_image(product=product, image_file=png_upload("front.png"), position=0)
    back = add_product_image(product=product, image_file=png_upload("back.png", (10, 10, 10)), position=1)

    # when
    response = client.get(product.get_absolute_url())

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="product-name">Lopapeysa</h1>' in html
    assert 'data-testid="sku">LOPI-1</span>' in html
    assert 'data-testid="price">ISK\u00a024,990</p>' in html
    assert "<p>Hand knitted.</p>" in html
    assert html.index(">Clothing</a>") < html.index(">Knitwear</a>")
    assert f'src="{front.image.url}"' in html
    assert f'src="{back.thumbnail.url}"' in html


def test_the_product_page_has_an_add_to_cart_form(client):
    # given
    product = ProductFactory()

    # when
    html = client.get(product.get_absolute_url()).content.decode()

    # then
    assert f'action="{reverse("checkout:cart_add")}" method="post"' in html
    assert f'name="product_id" value="{product.pk}"' in html
    assert 'name="quantity" value="1" min="1"' in html
    assert f'name="next" value="{product.get_absolute_url()}"' in html


def test_an_inactive_or_unknown_product_is_not_found(client):
    # given
    retired = ProductFactory(is_active=False)

    # when / then
    assert client.get(retired.get_absolute_url()).status_code == 404
    assert client.get(reverse("catalog:product_detail", kwargs={"slug": "nothing-here"})).status_code == 404


def test_the_product_page_shows_my_store_first_and_other_stores_nearest_first(client):
    # given: my store in central Reykjavík, one store 5 km east, one in Akureyri, one in Oslo
    mine = StoreFactory(name="Laugavegur", latitude=Decimal("64.1458"), longitude=Decimal("-21.9290"))
    akureyri = StoreFactory(name="Glerártorg", latitude=Decimal("65.6885"), longitude=Decimal("-18.1262"))
    oslo = StoreFactory(
        name="Karl Johan",
        country="NO",
        city="Oslo",
        latitude=Decimal("59.9127"),
        longitude=Decimal("10.7461"),
        time_zone="Europe/Oslo",
    )
    kringlan = StoreFactory(name="Kringlan", latitude=Decimal("64.1300"), longitude=Decimal("-21.8950"))
    StoreFactory(name="Closed for good", is_active=False)
    product = ProductFactory()
    StockLevelFactory(store=mine, product=product, on_hand=4, reserved=1)
    StockLevelFactory(store=oslo, product=product, on_hand=2)
    StockLevelFactory(store=kringlan, product=product, on_hand=1, reserved=1)
    StockLevelFactory(store=akureyri, product=product, on_hand=2)
    remember_store(client, mine)

    # when
    response = client.get(product.get_absolute_url())

    # then: the stores of my country, nearest first; Oslo, 1,746 km away, is not "near"
    html = response.content.decode()
    assert response.context["at_my_store"].store == mine
    assert "3 in stock at Laugavegur" in html
    assert [row.store for row in response.context["elsewhere"]] == [kringlan, akureyri]
    assert [row.available for row in response.context["elsewhere"]] == [0, 2]
    assert "2 available" in html
    assert "Out of stock" in html
    assert "Closed for good" not in html
    assert html.index("Kringlan") < html.index("Glerártorg")
    assert "2.4 km" in html
    assert "Karl Johan" not in html
    assert f'href="{oslo.get_absolute_url()}"' not in html


def test_without_a_store_the_product_page_lists_stores_by_city_and_name(client):
    # given
    oslo = StoreFactory(name="Karl Johan", city="Oslo")
    kringlan = StoreFactory(name="Kringlan", city="Reykjavík")
    laugavegur = StoreFactory(name="Laugavegur", city="Reykjavík")
    product = ProductFactory()

    # when
    response = client.get(product.get_absolute_url())

    # then
    assert response.context["at_my_store"] is None
    assert [row.store for row in response.context["elsewhere"]] == [oslo, kringlan, laugavegur]
    assert 'data-testid="choose-store-notice"' in response.content.decode()


def test_a_chain_product_page_lists_ten_other_stores_and_says_how_many_more_there_are(client):
    # given a product in a chain of 13 stores along the coast north of my store
    product = ProductFactory()
    mine, *others = [
        StoreFactory(name=f"Coast {number:02d}", latitude=Decimal(64.1 + number / 10)) for number in range(13)
    ]

    # when a shopper without a store, then one with Coast 00 as their store, open the page
    without = client.get(product.get_absolute_url())
    remember_store(client, mine)
    with_mine = client.get(product.get_absolute_url())

    # then both see ten other stores (by name, else the nearest) and how many more there are
    assert [row.store.name for row in without.context["elsewhere"]] == [f"Coast {n:02d}" for n in range(10)]
    assert "3 more stores are not listed." in without.content.decode()
    assert [row.store for row in with_mine.context["elsewhere"]] == others[:10]
    assert "2 more stores are further away." in with_mine.content.decode()


def test_the_product_page_says_whether_each_store_is_open_now(client, monkeypatch):
    # given: Monday 09:30 UTC is 09:30 in Reykjavík (opens at 10) and 10:30 in Oslo
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.UTC))
    StoreFactory(name="Karl Johan", city="Oslo", time_zone="Europe/Oslo")
    StoreFactory(name="Laugavegur", city="Reykjavík", time_zone="Atlantic/Reykjavik")
    product = ProductFactory()

    # when
    rows = client.get(product.get_absolute_url()).context["elsewhere"]

    # then
    assert [(row.store.name, row.is_open) for row in rows] == [("Karl Johan", True), ("Laugavegur", False)]


@pytest.mark.parametrize("store_count", [10, 200])
def test_the_product_page_costs_the_same_queries_for_10_or_200_stores(client, django_assert_num_queries, store_count):
    # given
    product = ProductFactory(category=CategoryFactory(parent=CategoryFactory()))
    ProductImage.objects.bulk_create(
        ProductImage(product=product, image=f"products/{product.pk}/{n}.jpg") for n in range(3)
    )
    stores = StoreFactory.create_batch(store_count)
    for store in stores:
        StockLevelFactory(store=store, product=product, on_hand=2)
    remember_store(client, stores[0])

    # when / then
    with django_assert_num_queries(PRODUCT_PAGE_QUERIES):
        response = client.get(product.get_absolute_url())
    assert response.context["at_my_store"].available == 2
    assert len(response.context["elsewhere"]) == min(store_count - 1, 10)
