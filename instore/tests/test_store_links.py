"""In-store mode: a store's link and a shelf label's QR code put the browser in the store; orders
placed there record channel "in store", the store and the scan; forged links are ignored."""

import time
from decimal import Decimal

import pytest
from django.core import signing
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from checkout.tests.test_checkout import CONTACT, checkout_token, fill_cart
from instore.context import STORE_LINK_SALT, link_path, link_token
from instore.models import SaleAttribution, ShelfScan
from o2o_site.cache.pages import IN_STORE_SESSION_KEY
from orders.models import Channel, Order
from stores.models import StoreKind
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kringlan():
    return StoreFactory(name="Norðurbúð Kringlan", slug="kringlan", city="Reykjavík")


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Norðurbúð Laugavegur", slug="laugavegur", city="Reykjavík")


@pytest.fixture
def sweater(kringlan, laugavegur):
    product = ProductFactory(name="Lopapeysa", slug="lopapeysa", sku="LOPI-1", price=Decimal("24990"))
    StockLevelFactory(store=kringlan, product=product, on_hand=4)
    StockLevelFactory(store=laugavegur, product=product, on_hand=9)
    return product


def in_store_of(client):
    return client.session.get(IN_STORE_SESSION_KEY)


def test_a_store_link_puts_the_browser_in_the_store_with_a_banner(client, kringlan, laugavegur, sweater):
    # given a shopper whose store is Laugavegur
    session = client.session
    session[MY_STORE_SESSION_KEY] = laugavegur.pk
    session.save()

    # when they open Kringlan's link (the QR code at the door)
    response = client.get(link_path(store=kringlan), follow=True)

    # then they are in Kringlan: its banner, its stock first on the product page
    assert response.redirect_chain[-1][0] == reverse("catalog:product_list")
    assert "You are in Norðurbúð Kringlan" in response.content.decode()
    assert in_store_of(client)["store"] == kringlan.pk
    assert client.session[MY_STORE_SESSION_KEY] == kringlan.pk
    page = client.get(sweater.get_absolute_url()).content.decode()
    assert "You are in Norðurbúð Kringlan" in page
    assert "4 in stock at Norðurbúð Kringlan" in page
    assert page.index("4 in stock at Norðurbúð Kringlan") < page.index('data-store="laugavegur"')

    # and leaving store mode gives them their own store back
    response = client.post(reverse("instore:leave"), {"next": sweater.get_absolute_url()}, follow=True)
    assert "You are in" not in response.content.decode()
    assert in_store_of(client) is None
    assert client.session[MY_STORE_SESSION_KEY] == laugavegur.pk


def test_leaving_the_store_one_had_chosen_keeps_it_as_ones_store(client, kringlan, sweater):
    # given a guest whose chosen store is Kringlan, who opens Kringlan's link at the door
    session = client.session
    session[MY_STORE_SESSION_KEY] = kringlan.pk
    session.save()
    client.get(link_path(store=kringlan))
    assert in_store_of(client)["store"] == kringlan.pk

    # when they leave store mode
    response = client.post(reverse("instore:leave"), {"next": sweater.get_absolute_url()}, follow=True)

    # then Kringlan is still their store (found by a fresh-eyes test: it was "Choose your store")
    assert in_store_of(client) is None
    assert client.session[MY_STORE_SESSION_KEY] == kringlan.pk
    assert "My store: Norðurbúð Kringlan" in response.content.decode()


def test_a_shelf_label_counts_the_scan_and_opens_the_product_in_the_store(client, kringlan, sweater):
    # when a shopper scans the sweater's shelf label at Kringlan
    response = client.get(link_path(store=kringlan, product=sweater))

    # then the product's page opens in Kringlan's context and the scan is counted once
    assert response.status_code == 302
    assert response["Location"] == sweater.get_absolute_url()
    scan = ShelfScan.objects.get()
    assert (scan.store, scan.product) == (kringlan, sweater)
    assert in_store_of(client)["store"] == kringlan.pk

    # and a reload of the same label is not a second scan; another shopper's is
    client.get(link_path(store=kringlan, product=sweater))
    assert ShelfScan.objects.count() == 1
    client.cookies.clear()
    client.get(link_path(store=kringlan, product=sweater))
    assert ShelfScan.objects.count() == 2


def test_an_order_after_a_scan_records_channel_in_store_the_store_and_the_scan(client, kringlan, sweater):
    # given a shopper who scanned the sweater's label at Kringlan and put one in the cart
    client.get(link_path(store=kringlan, product=sweater))
    fill_cart(client, {sweater: 1})

    # when they place the order for pickup (Kringlan is their store while in it)
    response = client.post(
        reverse("checkout:checkout"), {**CONTACT, "store": kringlan.pk, "checkout_token": checkout_token(client)}
    )

    # then the order is an in-store sale at Kringlan, attributed to the scan
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.channel == Channel.IN_STORE
    assert order.store == kringlan
    attribution = SaleAttribution.objects.get(order=order)
    assert attribution.store == kringlan
    assert attribution.scan == ShelfScan.objects.get()
    assert attribution.staff is None


def test_an_order_after_the_context_ended_is_a_web_order_still_owed_to_the_scan(client, kringlan, sweater, settings):
    # given a shopper who scanned a label at Kringlan, and went home: the context's time is up
    client.get(link_path(store=kringlan, product=sweater))
    session = client.session
    session[IN_STORE_SESSION_KEY] = {**session[IN_STORE_SESSION_KEY], "since": time.time() - 5 * 3600}
    session.save()
    settings.IN_STORE_CONTEXT_HOURS = 4

    # when they order that evening in the same session
    assert "You are in" not in client.get(reverse("checkout:cart")).content.decode()
    assert in_store_of(client) is None
    fill_cart(client, {sweater: 1})
    client.post(
        reverse("checkout:checkout"), {**CONTACT, "store": kringlan.pk, "checkout_token": checkout_token(client)}
    )

    # then it is a web order, still attributed to the scan that led to it
    order = Order.objects.get()
    assert order.channel == Channel.WEB
    attribution = SaleAttribution.objects.get(order=order)
    assert attribution.store is None
    assert attribution.scan == ShelfScan.objects.get()


def test_an_order_with_no_store_context_and_no_scan_records_nothing(client, kringlan, sweater):
    session = client.session
    session[MY_STORE_SESSION_KEY] = kringlan.pk
    session.save()
    fill_cart(client, {sweater: 1})

    client.post(
        reverse("checkout:checkout"), {**CONTACT, "store": kringlan.pk, "checkout_token": checkout_token(client)}
    )

    assert Order.objects.get().channel == Channel.WEB
    assert not SaleAttribution.objects.exists()


def forged_links(kringlan, sweater):
    inactive = StoreFactory(name="Closed store", slug="closed", is_active=False)
    warehouse = StoreFactory(
        name="Warehouse", slug="warehouse", kind=StoreKind.WAREHOUSE, offers_pickup=False, accepts_returns=False
    )
    token = link_token(store=kringlan, product=sweater)
    value, signature = token.rsplit(":", 1)
    another_shop = signing.Signer(key="another shop's secret key", salt=STORE_LINK_SALT)
    return {
        "inactive store": link_path(store=inactive),
        "warehouse": link_path(store=warehouse),
        "store that does not exist": reverse(
            "instore:open", kwargs={"token": signing.Signer(salt=STORE_LINK_SALT).sign("999999")}
        ),
        "another shop's link": reverse("instore:open", kwargs={"token": another_shop.sign(str(kringlan.pk))}),
        "tampered store": reverse("instore:open", kwargs={"token": f"{kringlan.pk + 1}-{sweater.pk}:{signature}"}),
        "tampered signature": reverse("instore:open", kwargs={"token": f"{value}:{signature[:-2]}xx"}),
        "no signature": reverse("instore:open", kwargs={"token": str(kringlan.pk)}),
        "garbage": reverse("instore:open", kwargs={"token": "%00<script>"}),
        "signed garbage": reverse("instore:open", kwargs={"token": signing.Signer(salt=STORE_LINK_SALT).sign("x-y")}),
    }


@pytest.mark.parametrize(
    "case",
    [
        "inactive store",
        "warehouse",
        "store that does not exist",
        "another shop's link",
        "tampered store",
        "tampered signature",
        "no signature",
        "garbage",
        "signed garbage",
    ],
)
def test_a_forged_store_link_is_ignored_with_no_error_page(client, kringlan, laugavegur, sweater, case):
    # given a shopper whose store is Laugavegur
    session = client.session
    session[MY_STORE_SESSION_KEY] = laugavegur.pk
    session.save()

    # when they open a forged link
    response = client.get(forged_links(kringlan, sweater)[case], follow=True)

    # then they land on the shop with no error, nothing changed and nothing counted
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("catalog:product_list")
    assert "You are in" not in response.content.decode()
    assert in_store_of(client) is None
    assert client.session[MY_STORE_SESSION_KEY] == laugavegur.pk
    assert not ShelfScan.objects.exists()


def test_a_label_of_a_product_no_longer_sold_opens_the_store_without_counting(client, kringlan, sweater):
    sweater.is_active = False
    sweater.save()

    response = client.get(link_path(store=kringlan, product=sweater), follow=True)

    assert response.status_code == 200
    assert "You are in Norðurbúð Kringlan" in response.content.decode()
    assert not ShelfScan.objects.exists()


def test_choosing_another_store_ends_store_mode(client, kringlan, laugavegur, sweater):
    client.get(link_path(store=kringlan))

    client.post(reverse("stores:choose_store"), {"store_id": laugavegur.pk})

    page = client.get(sweater.get_absolute_url()).content.decode()
    assert "You are in" not in page
    assert in_store_of(client) is None
    assert client.session[MY_STORE_SESSION_KEY] == laugavegur.pk


def test_shared_pages_are_not_shared_between_in_store_and_at_home(client, kringlan, sweater):
    # given the product page cached for a shopper at home whose store is Kringlan
    session = client.session
    session[MY_STORE_SESSION_KEY] = kringlan.pk
    session.save()
    assert "You are in" not in client.get(sweater.get_absolute_url()).content.decode()

    # when another shopper with the same store opens it in Kringlan's context
    client.cookies.clear()
    client.get(link_path(store=kringlan))

    # then they see the banner (the page is cached apart)
    assert "You are in Norðurbúð Kringlan" in client.get(sweater.get_absolute_url()).content.decode()
