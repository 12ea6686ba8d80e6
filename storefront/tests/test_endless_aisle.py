"""The endless aisle on the product page in a store: here now, at another store and here by
transfer on a day, or shipped from a warehouse; and "Have it sent to me" into the cart."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import ProductFactory
from checkout.cart import SESSION_KEY
from instore.context import link_path
from instore.models import SaleAttribution, ShelfScan
from o2o_site.dates import format_weekday_date
from orders.models import Channel, Order
from stores.models import StoreKind
from stores.tests.factories import StockLevelFactory, StoreFactory
from transfers.models import Transfer
from transfers.selectors import transfer_arrival

pytestmark = pytest.mark.django_db


@pytest.fixture
def kringlan():
    return StoreFactory(name="Norðurbúð Kringlan", slug="kringlan", latitude=Decimal("64.1300"))


@pytest.fixture
def smaralind():
    return StoreFactory(name="Norðurbúð Smáralind", slug="smaralind", latitude=Decimal("64.1010"))


@pytest.fixture
def warehouse():
    return StoreFactory(
        name="Vöruhús Hafnarfjörður",
        slug="vorehus",
        kind=StoreKind.WAREHOUSE,
        offers_pickup=False,
        accepts_returns=False,
    )


@pytest.fixture
def sweater():
    return ProductFactory(name="Lopapeysa", slug="lopapeysa", sku="LOPI-1", price=Decimal("24990"), weight_grams=700)


def aisle_of(client, product):
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_in_stock_here_now(client, kringlan, sweater):
    StockLevelFactory(store=kringlan, product=sweater, on_hand=2)
    client.get(link_path(store=kringlan))

    page = aisle_of(client, sweater)

    assert 'data-testid="aisle-here"' in page
    assert "In stock here now" in page


def test_at_another_store_now_here_by_transfer_on_a_day(client, kringlan, smaralind, sweater):
    # given Kringlan has no sweater and Smáralind has two
    StockLevelFactory(store=kringlan, product=sweater, on_hand=0)
    StockLevelFactory(store=smaralind, product=sweater, on_hand=2)

    # when a shopper in Kringlan opens its page
    client.get(link_path(store=kringlan, product=sweater))
    page = aisle_of(client, sweater)

    # then the page says where it is and the day it can be collected here
    day = transfer_arrival(smaralind, kringlan, now=timezone.now())
    assert day is not None
    assert f"At Norðurbúð Smáralind now, here by transfer on {format_weekday_date(day)}" in page
    assert 'data-testid="aisle-ship"' not in page  # no warehouse has it


def test_send_it_here_orders_it_by_transfer_as_an_in_store_sale_after_the_scan(client, kringlan, smaralind, sweater):
    # given a shopper who scanned the sweater's label at Kringlan, which has none; Smáralind has two
    StockLevelFactory(store=smaralind, product=sweater, on_hand=2)
    client.get(link_path(store=kringlan, product=sweater))
    page = aisle_of(client, sweater)

    # when they follow "Send it here" and place the order
    href = re.search(r'href="([^"]+)" data-testid="aisle-transfer-order"', page).group(1).replace("&amp;", "&")
    shown = client.get(href).context["shown"]
    contact = {"name": "Anna", "email": "anna@example.com", "phone": "+354 555 1234"}
    client.post(reverse("checkout:transfer"), {"shown": shown, **contact})

    # then it is Kringlan's in-store sale, on its way from Smáralind, owed to the scan
    order = Order.objects.get()
    assert (order.channel, order.store) == (Channel.IN_STORE, kringlan)
    assert Transfer.objects.get(fulfilment__order=order).source == smaralind
    attribution = SaleAttribution.objects.get(order=order)
    assert (attribution.store, attribution.scan) == (kringlan, ShelfScan.objects.get())


def test_ships_to_you_from_a_warehouse(client, kringlan, warehouse, sweater):
    StockLevelFactory(store=kringlan, product=sweater, on_hand=0)
    StockLevelFactory(store=warehouse, product=sweater, on_hand=20)
    client.get(link_path(store=kringlan))

    page = aisle_of(client, sweater)

    assert "Ships to you in 2-3 days" in page
    assert 'data-testid="aisle-transfer"' not in page


def test_a_product_without_a_weight_is_not_offered_shipping(client, kringlan, warehouse):
    unweighed = ProductFactory(name="Skyr", slug="skyr", weight_grams=None)
    StockLevelFactory(store=warehouse, product=unweighed, on_hand=20)
    client.get(link_path(store=kringlan))

    page = aisle_of(client, unweighed)

    assert 'data-testid="aisle-ship"' not in page
    assert "Not available anywhere right now." in page


def test_a_size_the_store_lacks_is_offered_by_transfer(client, kringlan, smaralind):
    sweater = ProductFactory(name="Lopapeysa", slug="lopapeysa", sku="LOPI")
    medium = ProductFactory(parent=sweater, name="Lopapeysa — M", slug="lopapeysa-m", sku="LOPI-M")
    StockLevelFactory(store=kringlan, product=medium, on_hand=0)
    StockLevelFactory(store=smaralind, product=medium, on_hand=1)
    client.get(link_path(store=kringlan))

    page = client.get(f"{sweater.get_absolute_url()}?variant={medium.pk}").content.decode()

    assert 'data-testid="aisle-transfer" data-store="smaralind"' in page


def test_outside_a_store_there_is_no_endless_aisle(client, kringlan, smaralind, sweater):
    StockLevelFactory(store=smaralind, product=sweater, on_hand=2)
    session = client.session
    session["my_store_id"] = kringlan.pk
    session.save()

    assert 'data-testid="endless-aisle"' not in aisle_of(client, sweater)


def test_the_earliest_and_then_nearest_store_sends_it(client, kringlan, smaralind, sweater):
    far = StoreFactory(name="Norðurbúð Akureyri", slug="akureyri", latitude=Decimal("65.68"))
    StockLevelFactory(store=far, product=sweater, on_hand=5)
    StockLevelFactory(store=smaralind, product=sweater, on_hand=1)
    client.get(link_path(store=kringlan))

    assert 'data-testid="aisle-transfer" data-store="smaralind"' in aisle_of(client, sweater)


@pytest.mark.parametrize("stores", [2, 12])
def test_the_product_page_in_a_store_costs_the_same_queries_for_any_number_of_stores(
    client, django_assert_num_queries, kringlan, warehouse, sweater, stores
):
    # given N stores holding the sweater, none at Kringlan, and a warehouse holding it
    for number in range(stores):
        holder = StoreFactory(name=f"Norðurbúð {number}", slug=f"store-{number}")
        StockLevelFactory(store=holder, product=sweater, on_hand=3)
    StockLevelFactory(store=warehouse, product=sweater, on_hand=3)
    client.get(link_path(store=kringlan))

    # when the page is rendered afresh (nothing cached)
    for alias in ("default", "template_fragments"):
        caches[alias].clear()
    # then the same number of queries whatever the number of stores
    with django_assert_num_queries(QUERIES_IN_A_STORE):
        page = aisle_of(client, sweater)
    assert 'data-testid="aisle-transfer"' in page
    assert 'data-testid="aisle-ship"' in page


# The session, the product (with its category and pictures: one query; its variants), the stock
# rows, the store directory (stores, hours, specials; my store is its copy); the transfer's routes,
# hours and special dates; the warehouses' stock.
QUERIES_IN_A_STORE = 11


def test_have_it_sent_to_me_puts_it_in_the_cart_and_goes_to_the_delivery_checkout(client, kringlan, warehouse, sweater):
    StockLevelFactory(store=kringlan, product=sweater, on_hand=0)
    StockLevelFactory(store=warehouse, product=sweater, on_hand=4)
    client.get(link_path(store=kringlan))

    response = client.post(
        reverse("checkout:cart_add"),
        {"product_id": sweater.pk, "quantity": 1, "to_ship": "1", "next": reverse("checkout:delivery")},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:delivery")
    assert client.session[SESSION_KEY] == {str(sweater.pk): 1}


def test_have_it_sent_to_me_is_refused_beyond_what_a_warehouse_has(client, kringlan, warehouse, sweater):
    StockLevelFactory(store=warehouse, product=sweater, on_hand=2)
    client.get(link_path(store=kringlan))

    response = client.post(
        reverse("checkout:cart_add"),
        {"product_id": sweater.pk, "quantity": 3, "to_ship": "1", "next": reverse("checkout:delivery")},
        follow=True,
    )

    assert "We can send you at most 2 of &#x27;Lopapeysa&#x27;." in response.content.decode()
    assert not client.session.get(SESSION_KEY)


def test_the_weekday_is_the_stores_local_date(kringlan, smaralind):
    # a sanity check of the date the page names: never before today at the store
    day = transfer_arrival(smaralind, kringlan, now=timezone.now())
    assert day >= kringlan.local_now(timezone.now()).date() + datetime.timedelta(days=1)
