"""Staff pages of in-store selling: the store's link and sign, the shelf label sheet, scan counts
and assisted selling (an order placed by staff for a customer)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory
from checkout.tests.test_checkout import CONTACT, checkout_token, fill_cart
from instore.context import link_path, read_link_token
from instore.models import SaleAttribution, ShelfScan
from o2o_site.money import format_money
from orders.models import Channel, Order
from stores.services import remove_store_manager
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kringlan():
    return StoreFactory(name="Norðurbúð Kringlan", slug="kringlan")


@pytest.fixture
def smaralind():
    return StoreFactory(name="Norðurbúð Smáralind", slug="smaralind")


@pytest.fixture
def manager(kringlan):
    return StoreManagerFactory(username="manager-kringlan", stores=[kringlan])


@pytest.fixture
def knitwear():
    return CategoryFactory(name="Knitwear", slug="knitwear")


def place_at(client, store):
    data = {**CONTACT, "store": store.pk, "checkout_token": checkout_token(client)}
    return client.post(reverse("checkout:checkout"), data)


def products_in(category, count, *, prefix="Peysa"):
    return [
        ProductFactory(
            category=category, name=f"{prefix} {n:02d}", slug=f"{prefix.lower()}-{n}", sku=f"{prefix[:3]}-{n}"
        )
        for n in range(count)
    ]


def test_the_label_sheet_has_a_label_per_product_with_name_price_and_a_qr_code_in_the_store(
    client, manager, kringlan, knitwear
):
    # given a category with two sweaters, one sold in sizes at different prices, and a sub-category
    sweater = ProductFactory(category=knitwear, name="Lopapeysa", sku="LOPI", price=Decimal("24990"))
    ProductFactory(parent=sweater, category=knitwear, name="Lopapeysa — S", sku="LOPI-S", price=Decimal("22990"))
    ProductFactory(parent=sweater, category=knitwear, name="Lopapeysa — L", sku="LOPI-L", price=Decimal("25990"))
    mittens = CategoryFactory(name="Mittens", slug="mittens", parent=knitwear)
    ProductFactory(category=mittens, name="Vettlingar", sku="VET", price=Decimal("4990"))
    ProductFactory(category=knitwear, name="Old sweater", sku="OLD", is_active=False)
    client.force_login(manager)

    # when the manager opens Kringlan's label sheet for knitwear
    response = client.get(reverse("backoffice:in_store_labels", args=["kringlan"]), {"category": "knitwear"})

    # then there is one label per product on sale, sizes' lowest price first ("From")
    page = response.content.decode()
    assert response.status_code == 200
    skus = re.findall(r'data-testid="shelf-label" data-sku="([^"]+)"', page)
    assert skus == ["LOPI", "VET"]
    prices = re.findall(r'data-testid="label-price">([^<]+)<', page)
    assert prices == [f"From {format_money(Decimal('22990'))}", format_money(Decimal("4990"))]
    # and each QR code holds the product's link in Kringlan's context
    links = re.findall(r'data-link="([^"]+)"', page)
    targets = [read_link_token(link.rstrip("/").rsplit("/", 1)[1]) for link in links]
    assert [(t.store_id, t.product_id) for t in targets] == [
        (kringlan.pk, sweater.pk),
        (kringlan.pk, Product.objects.get(sku="VET").pk),
    ]
    assert all(src.startswith("data:image/svg+xml") for src in re.findall(r'class="label__qr" src="([^"]+)"', page))
    # and only the label of the style sold in sizes offers sizes (mittens come in one size)
    hints = re.findall(r'class="label__hint">([^<]+)<', page)
    assert hints == ["Scan for sizes, stock and more", "Scan for stock and more"]


@pytest.mark.parametrize("count", [5, 40])
def test_the_label_sheet_costs_the_same_queries_for_any_number_of_products(
    client, manager, knitwear, django_assert_num_queries, count
):
    for product in products_in(knitwear, count):
        ProductFactory(parent=product, category=knitwear, name=f"{product.name} — M", sku=f"{product.sku}-M")
    client.force_login(manager)

    with django_assert_num_queries(LABEL_SHEET_QUERIES):
        response = client.get(reverse("backoffice:in_store_labels", args=["kringlan"]), {"category": "knitwear"})

    assert response.content.decode().count('data-testid="shelf-label"') == count


# The session, the user, their stores, the category tree, the products, their sizes' prices.
LABEL_SHEET_QUERIES = 6


def test_a_manager_cannot_print_another_stores_labels_or_sell_there(client, manager, smaralind, knitwear):
    client.force_login(manager)

    assert (
        client.get(reverse("backoffice:in_store_labels", args=["smaralind"]), {"category": "knitwear"}).status_code
        == 404
    )
    assert client.post(reverse("backoffice:in_store_sell", args=["smaralind"])).status_code == 404
    assert client.get(reverse("backoffice:in_store_sign", args=["smaralind"])).status_code == 404


def test_a_shopper_cannot_open_the_staff_pages(client, kringlan):
    client.force_login(UserFactory())

    response = client.get(reverse("backoffice:in_store"))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_an_unknown_category_says_so(client, manager):
    client.force_login(manager)

    response = client.get(reverse("backoffice:in_store_labels", args=["kringlan"]), {"category": "nope"}, follow=True)

    assert "Choose a category to print its shelf labels." in response.content.decode()


def test_the_index_gives_the_store_link_and_the_sign_its_qr_code(client, manager, kringlan):
    client.force_login(manager)

    index = client.get(reverse("backoffice:in_store")).content.decode()
    sign = client.get(reverse("backoffice:in_store_sign", args=["kringlan"])).content.decode()

    link = "http://testserver" + link_path(store=kringlan)
    assert link in index
    assert f'data-link="{link}"' in sign
    assert "data:image/svg+xml" in sign


def test_scan_counts_per_product_and_the_orders_after_them(client, manager, kringlan, knitwear):
    sweater, hat = products_in(knitwear, 2)
    StockLevelFactory(store=kringlan, product=sweater, on_hand=5)
    shopper = client.__class__()
    shopper.get(link_path(store=kringlan, product=sweater))
    fill_cart(shopper, {sweater: 1})
    shopper.post(
        reverse("checkout:checkout"), {**CONTACT, "store": kringlan.pk, "checkout_token": checkout_token(shopper)}
    )
    for _ in range(2):
        client.__class__().get(link_path(store=kringlan, product=hat))
    client.force_login(manager)

    page = client.get(reverse("backoffice:in_store_scans", args=["kringlan"])).content.decode()

    rows = re.findall(
        r'data-sku="([^"]+)">.*?data-testid="scans">(\d+)<.*?data-testid="scan-orders">(\d+)<', page, flags=re.S
    )
    assert rows == [(hat.sku, "2", "0"), (sweater.sku, "1", "1")]
    assert ShelfScan.objects.count() == 3


def test_assisted_selling_records_the_store_and_the_staff_member_not_their_account(client, manager, kringlan, knitwear):
    # given the manager selling for a customer at Kringlan
    (sweater,) = products_in(knitwear, 1)
    StockLevelFactory(store=kringlan, product=sweater, on_hand=5)
    client.force_login(manager)
    response = client.post(reverse("backoffice:in_store_sell", args=["kringlan"]), follow=True)
    assert "Selling for a customer" in response.content.decode()

    # when they put the customer's sweater in the cart and check out with the customer's details
    fill_cart(client, {sweater: 1})
    checkout_page = client.get(reverse("checkout:checkout")).content.decode()
    assert manager.email not in checkout_page  # the form is not filled in with the staff member's details
    client.post(
        reverse("checkout:checkout"), {**CONTACT, "store": kringlan.pk, "checkout_token": checkout_token(client)}
    )

    # then the order is an in-store sale at Kringlan by the manager, for the customer
    order = Order.objects.get()
    assert order.channel == Channel.IN_STORE
    assert order.customer is None
    assert order.contact_email == CONTACT["email"]
    attribution = SaleAttribution.objects.get(order=order)
    assert (attribution.store, attribution.staff) == (kringlan, manager)

    # and stopping leaves store mode
    client.post(reverse("backoffice:in_store_stop"))
    assert "You are in" not in client.get(reverse("checkout:cart")).content.decode()


def test_staff_no_longer_managing_the_store_are_not_recorded(client, manager, kringlan, knitwear):
    (sweater,) = products_in(knitwear, 1)
    StockLevelFactory(store=kringlan, product=sweater, on_hand=5)
    client.force_login(manager)
    client.post(reverse("backoffice:in_store_sell", args=["kringlan"]))
    remove_store_manager(store=kringlan, user=manager)

    fill_cart(client, {sweater: 1})
    client.post(
        reverse("checkout:checkout"), {**CONTACT, "store": kringlan.pk, "checkout_token": checkout_token(client)}
    )

    attribution = SaleAttribution.objects.get()
    assert attribution.store == kringlan
    assert attribution.staff is None
