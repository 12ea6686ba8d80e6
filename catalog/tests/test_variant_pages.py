"""A product with variants on the shop's pages: one card per style in the list, a picker on its
page that shows the chosen size's price and stock per store, the cart taking sizes only; pages
costing the same queries however many variants and stores there are."""

import re
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.urls import reverse

from catalog import services
from catalog.models import Product, ProductImage
from catalog.tests.factories import CategoryFactory, ProductFactory, sizes
from checkout.cart import SESSION_KEY
from stores import services as stock
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("catalog:product_list")
# No size chosen, a first visit: session, the store directory my store comes from (stores, hours,
# special dates), the product with its category and its pictures (one query), its variants, their
# attribute values, their pictures, their units in every store (the picker's at my store: one
# query for all the sizes, kept per size's stock version), categories. No other stock is read.
PRODUCT_WITH_VARIANTS_PAGE_QUERIES = 10
PRODUCT_WITH_VARIANTS_CACHED_QUERIES = 1
# A size chosen, the product and the store directory read before: the session only. The page's
# body is rendered again (another address), from the product kept in the cache; the size's units
# in every store were read with the picker's, and are kept under its stock version.
SIZE_CHOSEN_QUERIES = 1


def remember_store(client, store):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", slug="laugavegur")


@pytest.fixture
def sweater():
    """Lopapeysa in S, M and L, the large one dearer."""
    product = ProductFactory(name="Lopapeysa", sku="LOPI", slug="lopapeysa", price=Decimal("24990"))
    small, medium, large = sizes("S", "M", "L")
    services.create_variant(parent=product, sku="LOPI-S", values=[small])
    services.create_variant(parent=product, sku="LOPI-M", values=[medium])
    services.create_variant(parent=product, sku="LOPI-L", values=[large], price=Decimal("26990"))
    return product


def variant(sweater, sku):
    return Product.objects.get(parent=sweater, sku=sku)


def test_the_page_offers_the_sizes_with_their_stock_here_and_asks_for_one(client, laugavegur, sweater):
    # given my store has 3 medium and no small or large
    StockLevelFactory(store=laugavegur, product=variant(sweater, "LOPI-M"), on_hand=3)
    remember_store(client, laugavegur)

    # when I open the sweater's page
    page = client.get(sweater.get_absolute_url()).content.decode()

    # then the sizes are offered in their order, with what my store has, and nothing can be added
    # to the cart until one is chosen
    names = [f'<span class="variant-option__name">{size}</span>' for size in ("S", "M", "L")]
    assert page.index(names[0]) < page.index(names[1]) < page.index(names[2])
    assert "3 here" in page and page.count("none here") == 2
    assert 'data-testid="choose-variant-notice"' in page
    assert "Choose the size first." in page
    assert 'data-testid="add-to-cart" disabled' in page
    assert "From" in page  # the sizes' prices differ
    assert 'data-testid="store-availability"' not in page


def test_a_chosen_size_shows_its_price_and_stock_here_and_elsewhere(client, laugavegur, sweater):
    # given the large at my store (2) and at another store (5)
    akureyri = StoreFactory(name="Akureyri")
    large = variant(sweater, "LOPI-L")
    StockLevelFactory(store=laugavegur, product=large, on_hand=2)
    StockLevelFactory(store=akureyri, product=large, on_hand=5)
    remember_store(client, laugavegur)

    # when I choose the large (the picker's form sends ?variant=)
    page = client.get(sweater.get_absolute_url(), {"variant": large.pk}).content.decode()

    # then its SKU, price and stock show, and the cart form adds the large
    assert 'data-testid="sku">LOPI-L<' in page
    assert "26.990" in page or "26,990" in page
    assert "2 in stock at Laugavegur" in page
    assert "5 available" in page
    assert f'name="product_id" value="{large.pk}"' in page
    assert 'data-testid="add-to-cart" disabled' not in page


def test_a_size_my_store_cannot_supply_cannot_be_added_there(client, laugavegur, sweater):
    small = variant(sweater, "LOPI-S")
    StockLevelFactory(store=StoreFactory(name="Akureyri"), product=small, on_hand=5)
    remember_store(client, laugavegur)

    page = client.get(sweater.get_absolute_url(), {"variant": small.pk}).content.decode()

    assert "Out of stock at Laugavegur" in page
    assert 'data-testid="add-to-cart" disabled' in page
    assert "Laugavegur has none to sell right now." in page


def test_a_size_no_longer_sold_asks_for_another(client, sweater):
    small = variant(sweater, "LOPI-S")
    small.is_active = False
    small.save()
    page = client.get(sweater.get_absolute_url(), {"variant": small.pk}).content.decode()
    assert 'data-testid="unknown-variant"' in page
    assert 'data-sku="LOPI-S"' not in page


def test_a_variants_own_address_opens_its_products_page_with_it_chosen(client, sweater):
    medium = variant(sweater, "LOPI-M")
    assert medium.get_absolute_url() == f"{sweater.get_absolute_url()}?variant={medium.pk}"
    response = client.get(reverse("catalog:product_detail", args=[medium.slug]))
    assert response.status_code == 302
    assert response["Location"] == f"{sweater.get_absolute_url()}?variant={medium.pk}"


def test_the_cart_takes_a_size_and_refuses_the_sweater_itself(client, laugavegur, sweater):
    # given 3 medium at my store
    medium = variant(sweater, "LOPI-M")
    StockLevelFactory(store=laugavegur, product=medium, on_hand=3)
    remember_store(client, laugavegur)
    add = reverse("checkout:cart_add")

    # when I try to add the sweater with no size chosen
    refused = client.post(
        add, {"product_id": sweater.pk, "quantity": 1, "next": sweater.get_absolute_url()}, follow=True
    )

    # then I am told to choose a size, and the cart is empty
    assert (
        "Choose which Lopapeysa you want (such as its size) before adding it to your cart." in refused.content.decode()
    )
    assert not client.session.get(SESSION_KEY)

    # when I add the medium
    client.post(add, {"product_id": medium.pk, "quantity": 2})

    # then the cart names the size
    cart = client.get(reverse("checkout:cart")).content.decode()
    assert "Lopapeysa — M" in cart
    assert client.session[SESSION_KEY] == {str(medium.pk): 2}


def test_the_list_shows_one_card_per_style_with_the_units_of_its_sizes(client, laugavegur, sweater):
    # given 3 medium and 1 large at my store, and a hat with none
    ProductFactory(name="Wool hat", category=sweater.category)
    StockLevelFactory(store=laugavegur, product=variant(sweater, "LOPI-M"), on_hand=3)
    StockLevelFactory(store=laugavegur, product=variant(sweater, "LOPI-L"), on_hand=1)
    remember_store(client, laugavegur)

    # when I list everything, and what is in stock at my store
    everything = client.get(LIST_URL).content.decode()
    in_stock = client.get(LIST_URL, {"available": "1"}).content.decode()

    # then the sweater is one card with 4 in stock, and is in stock at my store
    assert everything.count('data-testid="product-card"') == 2
    assert everything.count('data-sku="LOPI') == 1
    assert "4 in stock at Laugavegur" in everything
    assert in_stock.count('data-testid="product-card"') == 1 and 'data-sku="LOPI"' in in_stock


def test_a_sizes_stock_change_shows_on_the_products_page_at_once(
    client, django_capture_on_commit_callbacks, laugavegur, sweater
):
    medium = variant(sweater, "LOPI-M")
    StockLevelFactory(store=laugavegur, product=medium, on_hand=3)
    remember_store(client, laugavegur)
    assert "3 here" in client.get(sweater.get_absolute_url()).content.decode()
    chosen = {"variant": medium.pk}
    assert "3 in stock at Laugavegur" in client.get(sweater.get_absolute_url(), chosen).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        stock.reserve_stock(store=laugavegur, quantities={medium.pk: 2})

    assert "1 here" in client.get(sweater.get_absolute_url()).content.decode()
    assert "1 in stock at Laugavegur" in client.get(sweater.get_absolute_url(), chosen).content.decode()


@pytest.mark.parametrize(("size_count", "store_count"), [(3, 5), (12, 60)])
def test_the_page_of_a_product_with_variants_costs_the_same_however_many(
    client, django_assert_num_queries, size_count, store_count
):
    # given a product in 3 or 12 sizes, each stocked in 5 or 60 stores
    product = ProductFactory(slug="boots", category=CategoryFactory(slug="footwear"))
    stores = StoreFactory.create_batch(store_count)
    for value in sizes(*(str(36 + n) for n in range(size_count))):
        size = services.create_variant(parent=product, sku=f"BOOT-{value.value}", values=[value])
        for store in stores:
            StockLevelFactory(store=store, product=size, on_hand=2)
    remember_store(client, stores[0])
    chosen = {"variant": product.variants.order_by("pk").last().pk}

    # when / then: the page without and with a size chosen, first and again
    with django_assert_num_queries(PRODUCT_WITH_VARIANTS_PAGE_QUERIES):
        client.get(product.get_absolute_url())
    with django_assert_num_queries(PRODUCT_WITH_VARIANTS_CACHED_QUERIES):
        client.get(product.get_absolute_url())
    with django_assert_num_queries(SIZE_CHOSEN_QUERIES):
        response = client.get(product.get_absolute_url(), chosen)
    with django_assert_num_queries(PRODUCT_WITH_VARIANTS_CACHED_QUERIES):
        client.get(product.get_absolute_url(), chosen)
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="variant-option"') == size_count


# --- the listing's filter by variant attributes ---------------------------------------------------

# As catalog/tests/test_page_costs.py's PRODUCT_LIST_QUERIES: the attributes and their values
# for the filter are one query more on a first visit (then cached with the catalog's version).
LIST_WITH_SIZE_QUERIES = 11
LIST_WITH_SIZE_CACHED_QUERIES = 1


@pytest.fixture
def boots_and_hat(laugavegur):
    """Boots in 38 and 40 (only the 40 at my store) and a hat in one size, M (at my store)."""
    footwear = CategoryFactory(slug="footwear")
    boots = ProductFactory(name="Boots", sku="BOOT", category=footwear)
    thirty_eight, forty, medium = sizes("38", "40", "M")
    services.create_variant(parent=boots, sku="BOOT-38", values=[thirty_eight])
    StockLevelFactory(
        store=laugavegur, product=services.create_variant(parent=boots, sku="BOOT-40", values=[forty]), on_hand=1
    )
    hat = ProductFactory(name="Hat", sku="HAT", category=footwear)
    StockLevelFactory(
        store=laugavegur, product=services.create_variant(parent=hat, sku="HAT-M", values=[medium]), on_hand=2
    )
    ProductFactory(name="Plain scarf", sku="SCARF", category=footwear)
    return laugavegur


def listed(response):
    return re.findall(r'data-testid="product-card" data-sku="([^"]+)"', response.content.decode())


def test_the_list_filters_by_size_and_by_size_in_stock_at_my_store(client, boots_and_hat):
    remember_store(client, boots_and_hat)

    # then a size finds the products with a variant in it, two sizes either, none: all of them
    assert listed(client.get(LIST_URL, {"size": "38"})) == ["BOOT"]
    assert listed(client.get(LIST_URL, {"size": ["38", "m"]})) == ["BOOT", "HAT"]
    assert listed(client.get(LIST_URL)) == ["BOOT", "HAT", "SCARF"]
    # a size no longer in the catalog is ignored, not an error
    assert listed(client.get(LIST_URL, {"size": ["xxl", "m"]})) == ["HAT"]
    # size 38 in stock at my store: the boots are, but not in 38
    assert listed(client.get(LIST_URL, {"size": "38", "available": "1"})) == []
    assert listed(client.get(LIST_URL, {"size": "40", "available": "1"})) == ["BOOT"]

    # and the filter's boxes show the sizes, the chosen ones ticked
    page = client.get(LIST_URL, {"size": "40"}).content.decode()
    assert 'data-testid="variant-filter-size"' in page
    assert re.search(r'name="size" value="40"[^>]*checked', page)
    assert re.search(r'name="size" value="38"[^>]*>', page) and not re.search(
        r'name="size" value="38"[^>]*checked', page
    )


@pytest.mark.parametrize("product_count", [6, 60])
def test_the_list_filtered_by_size_costs_the_same_however_many_products_and_sizes(
    client, django_assert_num_queries, laugavegur, product_count
):
    # given 6 or 60 products in 4 sizes each, stocked at my store
    small, medium, large, extra = sizes("S", "M", "L", "XL")
    category = CategoryFactory(slug="knitwear")
    for product in ProductFactory.create_batch(product_count, category=category):
        for value in (small, medium, large, extra):
            size = services.create_variant(parent=product, sku=f"{product.sku}-{value.value}", values=[value])
            StockLevelFactory(store=laugavegur, product=size, on_hand=1)
    remember_store(client, laugavegur)

    for filters in ({"size": "m"}, {"size": "m", "available": "1"}, {}):
        for alias in ("default", "template_fragments"):  # each a first visit
            caches[alias].clear()
        with django_assert_num_queries(LIST_WITH_SIZE_QUERIES):
            first = client.get(LIST_URL, {**filters, "page": 1})
        with django_assert_num_queries(LIST_WITH_SIZE_CACHED_QUERIES):
            client.get(LIST_URL, {**filters, "page": 1})
        assert first.content.decode().count('data-testid="product-card"') == min(product_count, 24)


def test_a_size_with_its_own_pictures_shows_them_and_one_without_shows_the_products(client, sweater):
    # given the sweater's picture and one of the grey medium's own
    ProductImage.objects.create(product=sweater, image="products/lopapeysa.jpg")
    medium, small = variant(sweater, "LOPI-M"), variant(sweater, "LOPI-S")
    ProductImage.objects.create(product=medium, image="products/lopapeysa-medium.jpg")

    # then the page shows the sweater's until the medium is chosen, and the small has the sweater's
    assert "lopapeysa-medium.jpg" not in client.get(sweater.get_absolute_url()).content.decode()
    with_medium = client.get(sweater.get_absolute_url(), {"variant": medium.pk}).content.decode()
    assert "lopapeysa-medium.jpg" in with_medium and "products/lopapeysa.jpg" not in with_medium
    assert "products/lopapeysa.jpg" in client.get(sweater.get_absolute_url(), {"variant": small.pk}).content.decode()
