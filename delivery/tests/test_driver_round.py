"""The driver's round in the admin: today's deliveries of the manager's store, nearest next from
the store, moved on with POST buttons (CSRF, scoped to their stores); delivered takes the card
payment at the door."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from delivery.models import Delivery, DeliveryState, FailureReason
from delivery.selectors import delivery_round
from delivery.services import DeliveryAddress
from delivery.tests.factories import DeliveryZoneFactory, evening_windows, place_delivery
from orders.models import OrderStatus
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

# Postcodes east of the store at growing distances, and one west, close by.
POSTCODES = {
    "101": (Decimal("64.1466"), Decimal("-21.9426")),
    "105": (Decimal("64.1400"), Decimal("-21.8900")),
    "108": (Decimal("64.1300"), Decimal("-21.8400")),
    "107": (Decimal("64.1460"), Decimal("-21.9650")),
}


@pytest.fixture
def world():
    for postcode, (latitude, longitude) in POSTCODES.items():
        PostcodeLocationFactory(country="IS", postcode=postcode, latitude=latitude, longitude=longitude)
    store = StoreFactory(
        name="Laugavegur", slug="laugavegur", latitude=Decimal("64.1458"), longitude=Decimal("-21.9290")
    )
    oslo = StoreFactory(name="Grünerløkka", slug="grunerlokka", country="NO", city="Oslo", time_zone="Europe/Oslo")
    DeliveryZoneFactory(store=store, postcodes="101-108", fee=Decimal("990"))
    evening_windows(store)
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"))
    StockLevelFactory(store=store, product=sweater, on_hand=10)
    return {"store": store, "oslo": oslo, "sweater": sweater}


def delivery_today(world, postcode, street):
    """A delivery for 17:00-19:00 today (booked this morning, as far as the window is concerned)."""
    store = world["store"]
    morning = timezone.now().astimezone(store.zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return place_delivery(
        store=store,
        products_and_quantities=[(world["sweater"], 1)],
        starts_at=morning.replace(hour=17).astimezone(datetime.UTC),
        now=morning,
        address=DeliveryAddress(
            street=street, postcode=postcode, city="Reykjavík", country="IS", phone="+354 555 1234"
        ),
    )


def test_the_round_goes_to_the_nearest_stop_next(world):
    far = delivery_today(world, "108", "Far 1")
    near = delivery_today(world, "101", "Near 1")
    west = delivery_today(world, "107", "West 1")
    middle = delivery_today(world, "105", "Middle 1")

    stops = delivery_round(store=world["store"])

    # from the store: 101 (about 0.7 km), then 107 west of it, then east to 105 and 108
    assert [stop.delivery.pk for stop in stops] == [near.pk, west.pk, middle.pk, far.pk]
    assert stops[0].distance_km < 1


def test_a_manager_runs_the_round_of_their_store_with_post_buttons(world, client):
    delivery = delivery_today(world, "101", "Bergstaðastræti 12")
    order = delivery.fulfilment.order
    manager = StoreManagerFactory(username="gudrun", stores=[world["store"]])
    client.force_login(manager)
    url = reverse("admin:orders_order_driver_round")

    page = client.get(url).content.decode()
    assert "Bergstaðastræti 12, 101 Reykjavík" in page
    assert "+354 555 1234" in page
    assert "17:00–19:00" in page

    # a GET never moves anything
    step = reverse("admin:orders_order_driver_step", args=[order.number, "packed"])
    assert client.get(step).status_code == 405
    # without the CSRF token the step is refused
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(manager)
    assert csrf_client.post(step).status_code == 403
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.TO_PACK

    for name in ("packed", "out"):
        client.post(reverse("admin:orders_order_driver_step", args=[order.number, name]))
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.OUT_FOR_DELIVERY

    # failed without a reason is refused at the reason's field, the typed note kept; with one it is kept
    refused = client.post(
        reverse("admin:orders_order_driver_step", args=[order.number, "failed"]),
        {"note": "Dog in the garden", "store": world["store"].slug},
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'data-testid="failure-reason-error"><li>Choose why it could not be delivered.</li>' in page
    assert 'value="Dog in the garden"' in page
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.OUT_FOR_DELIVERY
    client.post(
        reverse("admin:orders_order_driver_step", args=[order.number, "failed"]),
        {"reason": FailureReason.NO_ONE_HOME, "note": "Rang twice"},
    )
    delivery.refresh_from_db()
    assert (delivery.state, delivery.failure_reason) == (DeliveryState.FAILED, FailureReason.NO_ONE_HOME)


def test_delivered_at_the_door_leaves_the_stock_and_marks_the_order_delivered(world, client):
    delivery = delivery_today(world, "101", "Bergstaðastræti 12")
    order = delivery.fulfilment.order
    client.force_login(StoreManagerFactory(username="gudrun", stores=[world["store"]]))
    for name in ("packed", "out", "delivered"):
        response = client.post(reverse("admin:orders_order_driver_step", args=[order.number, name]))
        assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert StockLevel.objects.values_list("on_hand", "reserved").get(product=world["sweater"]) == (9, 0)
    page = client.get(reverse("admin:orders_order_driver_round")).content.decode()
    assert 'data-state="delivered"' in page
    assert 'data-testid="mark-delivered"' not in page


def test_another_stores_manager_cannot_see_or_move_the_delivery(world, client):
    delivery = delivery_today(world, "101", "Bergstaðastræti 12")
    client.force_login(StoreManagerFactory(username="kari", stores=[world["oslo"]]))
    page = client.get(reverse("admin:orders_order_driver_round") + "?store=laugavegur").content.decode()
    assert "Bergstaðastræti" not in page
    response = client.post(
        reverse("admin:orders_order_driver_step", args=[delivery.fulfilment.order.number, "packed"]),
        {"store": "laugavegur"},
    )
    assert response.status_code == 404
    assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.TO_PACK


def test_the_round_of_another_day_is_a_date_away_and_a_bad_date_is_today(world, client):
    store = world["store"]
    morning = timezone.now().astimezone(store.zone).replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = morning + datetime.timedelta(days=1)
    place_delivery(
        store=store,
        products_and_quantities=[(world["sweater"], 1)],
        starts_at=tomorrow.replace(hour=17).astimezone(datetime.UTC),
        now=morning,
        address=DeliveryAddress(street="Tomorrow 1", postcode="101", city="Reykjavík", country="IS", phone="5551234"),
    )
    client.force_login(StoreManagerFactory(username="gudrun", stores=[store]))
    url = reverse("admin:orders_order_driver_round")
    assert "Tomorrow 1" not in client.get(url).content.decode()
    assert "Tomorrow 1" in client.get(url, {"date": tomorrow.date().isoformat()}).content.decode()
    assert "Tomorrow 1" not in client.get(url, {"date": "2026-13-45"}).content.decode()


def test_the_admin_order_page_of_a_delivery_points_to_the_round_not_to_mark_ready(world, client):
    delivery = delivery_today(world, "101", "Bergstaðastræti 12")
    order = delivery.fulfilment.order
    client.force_login(StoreManagerFactory(username="gudrun", stores=[world["store"]]))
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'data-testid="mark-ready"' not in html
    assert 'data-testid="delivery-round-link"' in html
    day = delivery.window_start.astimezone(world["store"].zone).date().isoformat()
    assert f"round/?store=laugavegur&amp;date={day}" in html
    # and marking it ready anyway (an old tab, a script) is refused, the order unchanged
    client.post(reverse("admin:orders_order_mark_ready", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


def _failed_today(world, client):
    delivery = delivery_today(world, "101", "Bergstaðastræti 12")
    number = delivery.fulfilment.order.number
    client.force_login(StoreManagerFactory(username="gudrun", stores=[world["store"]]))
    for name in ("packed", "out"):
        client.post(reverse("admin:orders_order_driver_step", args=[number, name]))
    client.post(reverse("admin:orders_order_driver_step", args=[number, "failed"]), {"reason": "no_one_home"})
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    return delivery, number


def test_a_failed_delivery_is_delivered_again_in_another_window(world, client):
    delivery, number = _failed_today(world, client)
    page = client.get(reverse("admin:orders_order_driver_rebook", args=[number])).content.decode()
    key = page.split('data-testid="rebook-window">')[1].split('value="')[1].split('"')[0]

    client.post(reverse("admin:orders_order_driver_rebook", args=[number]), {"window": key})

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PACKED
    assert delivery.window_start.strftime("%Y-%m-%dT%H:%MZ") == key
    # and the round no longer shows the old failure's reason beside its new state
    day = delivery.window_start.astimezone(delivery.store.zone).date().isoformat()
    round_page = client.get(reverse("admin:orders_order_driver_round"), {"date": day}).content.decode()
    assert "No one home" not in round_page.split(f'data-order="{number}"')[1].split("</li>")[0]
    # a window that is no window is refused, nothing changed
    client.post(reverse("admin:orders_order_driver_step", args=[number, "out"]))
    client.post(reverse("admin:orders_order_driver_step", args=[number, "failed"]), {"reason": "no_one_home"})
    client.post(reverse("admin:orders_order_driver_rebook", args=[number]), {"window": "2020-01-01T17:00Z"})
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED


def test_a_failed_delivery_is_collected_at_the_store_instead_as_a_pickup(world, client):
    from pickup.selectors import pickup_of
    from pickup.services import mark_ready_for_pickup

    delivery, number = _failed_today(world, client)
    order = delivery.fulfilment.order

    client.post(reverse("admin:orders_order_driver_rebook", args=[number]), {"collect": "1"})

    delivery.refresh_from_db()
    order.refresh_from_db()
    assert delivery.state == DeliveryState.TO_COLLECT
    assert delivery.fulfilment.__class__.objects.get(pk=delivery.pk).method == "in_store"
    assert pickup_of(order) is not None and len(pickup_of(order).code) == 6
    assert order.events.filter(note__contains="to be collected at Laugavegur instead").exists()
    # the units stay reserved, and from here it goes the pickup way
    assert StockLevel.objects.values_list("reserved", flat=True).get(product=world["sweater"]) == 1
    mark_ready_for_pickup(order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'data-testid="delivery-round-link"' not in html
    assert client.get(order.get_absolute_url()).content.decode().count('data-testid="pickup-code"') == 1
