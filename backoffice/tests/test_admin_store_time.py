"""The admin shows an order's times in its store's own time zone, whatever the server's zone:
the order list, the order page, its fulfilments and its timeline. A store in Oslo (UTC+2 in
summer) and one in Reykjavík (UTC all year), on a server that keeps New York time (UTC−4)."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from orders.models import Fulfilment, Order, OrderEvent
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

PLACED = datetime.datetime(2026, 7, 1, 10, 25, tzinfo=datetime.UTC)
OSLO, REYKJAVIK, NEW_YORK = (
    zoneinfo.ZoneInfo(name) for name in ("Europe/Oslo", "Atlantic/Reykjavik", "America/New_York")
)


def shown(zone):
    """PLACED as the admin writes a date and time, in `zone`."""
    return date_format(PLACED.astimezone(zone), "DATETIME_FORMAT")


@pytest.fixture(autouse=True)
def _server_in_new_york(settings):
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def orders():
    """One order at each store, placed and made ready at PLACED (the times rewritten to it)."""
    placed = {}
    for name, zone in (("Grünerløkka", "Europe/Oslo"), ("Laugavegur", "Atlantic/Reykjavik")):
        store = StoreFactory(name=name, time_zone=zone)
        product = ProductFactory()
        StockLevelFactory(store=store, product=product, on_hand=5)
        order = mark_ready_for_pickup(order=place_order(store=store, products_and_quantities=[(product, 1)]))
        Order.objects.filter(pk=order.pk).update(created_at=PLACED)
        OrderEvent.objects.filter(order=order).update(created_at=PLACED)
        Fulfilment.objects.filter(order=order).update(created_at=PLACED)
        placed[zone] = order
    return placed


def test_a_managers_order_list_and_order_page_are_in_their_stores_time(client, orders):
    oslo_order = orders["Europe/Oslo"]
    client.force_login(StoreManagerFactory(stores=[oslo_order.store]))

    listing = client.get(reverse("admin:orders_order_changelist")).content.decode()
    page = client.get(reverse("admin:orders_order_change", args=[oslo_order.pk])).content.decode()

    # then 12:25 in Oslo everywhere: placed at (list and page), the fulfilment, each timeline row
    assert shown(OSLO) in listing
    assert page.count(shown(OSLO)) >= 1 + 1 + oslo_order.events.count()
    assert "Times are the store's own (Europe/Oslo)." in page
    for other in (shown(NEW_YORK), shown(datetime.UTC)):
        assert other not in listing and other not in page


def test_a_reykjavik_order_is_in_reykjavik_time(client, orders):
    order = orders["Atlantic/Reykjavik"]
    client.force_login(StoreManagerFactory(stores=[order.store]))

    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert page.count(shown(REYKJAVIK)) >= 1 + 1 + order.events.count()
    assert shown(NEW_YORK) not in page and shown(OSLO) not in page


def test_a_list_spanning_both_zones_shows_each_order_in_its_stores_time(client, orders):
    # given a head-office user who sees both stores
    client.force_login(UserFactory(username="head-office", is_staff=True, is_superuser=True))

    listing = client.get(reverse("admin:orders_order_changelist")).content.decode()

    # then each row is in its own store's time: 12:25 in Oslo, 10:25 in Reykjavík
    rows = {order.number: listing.split(order.number, 1)[1].split("</tr>", 1)[0] for order in orders.values()}
    assert shown(OSLO) in rows[orders["Europe/Oslo"].number]
    assert shown(REYKJAVIK) in rows[orders["Atlantic/Reykjavik"].number]
    assert shown(NEW_YORK) not in listing

    # and each order's page is in its own store's time
    for zone, order in orders.items():
        page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
        assert shown(zoneinfo.ZoneInfo(zone)) in page, zone
        assert shown(NEW_YORK) not in page, zone


def test_an_address_that_is_no_order_is_the_admins_usual_answer(client, orders):
    client.force_login(StoreManagerFactory(stores=[orders["Europe/Oslo"].store]))

    # a mistyped id, and another store's order: "doesn't exist", back to the list, no error
    for object_id in ("not-a-number", str(orders["Atlantic/Reykjavik"].pk)):
        response = client.get(f"/admin/orders/order/{object_id}/change/")
        assert (response.status_code, response["Location"]) == (302, reverse("admin:index")), object_id


def test_the_hand_over_says_nothing_yet_then_when_and_who_in_store_time(client, orders):
    """The order page's "Hand-over": "None" before the collection, and after it the raw UTC
    timestamp ("2026-07-01 10:25:00+00:00") beside every other time in the page's own format."""
    order = orders["Europe/Oslo"]
    manager = StoreManagerFactory(stores=[order.store], first_name="Kari", last_name="Nordmann")
    client.force_login(manager)
    url = reverse("admin:orders_order_change", args=[order.pk])

    # given a ready order not yet collected
    page = client.get(url).content.decode()
    hand_over = page.split("Hand-over", 1)[1].split("</fieldset>", 1)[0]

    # then its hand-over is empty, not "None", and an empty field elsewhere (the fulfilment's
    # "fulfilled at") says so the same way
    assert "None" not in hand_over
    assert hand_over.count("—") == 2
    fulfilments = page.split('id="fulfilments-group"', 1)[1].split("</fieldset>", 1)[0]
    assert "—" in fulfilments and ">-<" not in fulfilments

    # when it is collected, at PLACED
    collect_order(order=order, code=pickup_of(order).code, by=manager)
    Fulfilment.objects.filter(order=order).update(fulfilled_at=PLACED)
    page = client.get(url).content.decode()
    hand_over = page.split("Hand-over", 1)[1].split("</fieldset>", 1)[0]

    # then the time is 12:25 in Oslo, written as the page's other times, and by whom
    assert shown(OSLO) in hand_over
    assert "+00:00" not in hand_over and "None" not in hand_over
    assert str(manager) in hand_over
