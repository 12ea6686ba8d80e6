import itertools
import re
from decimal import Decimal

import pytest
from django.conf import settings
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from checkout.services import ChangeKind, CheckoutChanged, ConfirmedCheckout, place_pickup_order
from orders import services
from orders.models import (
    ORDER_TRANSITIONS,
    CancelReason,
    Fulfilment,
    FulfilmentStatus,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from orders.services import (
    Contact,
    IllegalTransition,
    OrderError,
    cancel_order,
    transition_fulfilment,
    transition_order,
)
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

ANNA = Contact(name="Anna Jónsdóttir", email="anna@example.com", phone="+354 555 1234")


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def sweater(laugavegur):
    product = ProductFactory(name="Hekla lopapeysa", sku="KNT-001", price=Decimal("24990.00"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=4)
    return product


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name="Lopi mittens", sku="HAT-002", price=Decimal("3990.00"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=10)
    return product


def stock(store, product):
    level = StockLevel.objects.get(store=store, product=product)
    return level.on_hand, level.reserved


def history(order):
    return list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status"))


def test_placing_an_order_snapshots_the_catalog_and_reserves_the_stock(laugavegur, sweater, mittens):
    # given a shopper with an account
    anna = UserFactory(username="anna")

    # when she orders 1 sweater and 3 mittens for pickup at Laugavegur
    order = place_pickup_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={sweater.pk: 1, mittens.pk: 3}, store=laugavegur, contact=ANNA, customer=anna, language="is"
        )
    )

    # then the lines keep the name, SKU and price the catalog had, and the total is computed from them
    lines = list(order.lines.values_list("product_name", "sku", "unit_price", "quantity", "line_total"))
    assert lines == [
        ("Hekla lopapeysa", "KNT-001", Decimal("24990.00"), 1, Decimal("24990.00")),
        ("Lopi mittens", "HAT-002", Decimal("3990.00"), 3, Decimal("11970.00")),
    ]
    assert order.total == Decimal("36960.00")
    assert order.currency == settings.SHOP_CURRENCY
    assert (order.status, order.store, order.customer, order.language) == (OrderStatus.PLACED, laugavegur, anna, "is")
    assert (order.contact_name, order.contact_email, order.contact_phone) == (ANNA.name, ANNA.email, ANNA.phone)
    # and the order is numbered for reading aloud, with a six-digit pickup code
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", order.number)
    assert re.fullmatch(r"\d{6}", pickup_of(order).code)
    # and the units are held at the store, and the timeline starts with "placed" by Anna
    assert stock(laugavegur, sweater) == (4, 1)
    assert stock(laugavegur, mittens) == (10, 3)
    assert list(order.events.values_list("from_status", "to_status", "actor")) == [("", OrderStatus.PLACED, anna.pk)]


def test_the_order_keeps_what_was_bought_when_the_catalog_changes(laugavegur, sweater):
    # given an order for a sweater
    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 2)])

    # when the sweater is renamed and repriced, and later deleted
    sweater.name, sweater.price = "Hekla sweater (new)", Decimal("29990.00")
    sweater.save()
    line = order.lines.get()
    sweater.delete()

    # then the order still says what was paid for
    line.refresh_from_db()
    assert (line.product_id, line.product_name, line.sku, line.unit_price) == (
        None,
        "Hekla lopapeysa",
        "KNT-001",
        Decimal("24990.00"),
    )
    order.refresh_from_db()
    assert order.total == Decimal("49980.00")


def test_a_product_no_longer_sold_cannot_be_ordered(laugavegur, sweater, mittens):
    # given the mittens were taken out of the catalog after they went into the cart
    mittens.is_active = False
    mittens.save()

    # when the shopper checks out
    with pytest.raises(OrderError):
        place_pickup_order(
            checkout=ConfirmedCheckout.at_current_prices(
                quantities={sweater.pk: 1, mittens.pk: 1}, store=laugavegur, contact=ANNA
            )
        )

    # then nothing was ordered or reserved
    assert not Order.objects.exists()
    assert stock(laugavegur, sweater) == (4, 0)


@pytest.mark.parametrize(
    "closed",
    [{"offers_pickup": False}, {"is_active": False}],
    ids=["store without pickup", "closed-down store"],
)
def test_a_store_that_does_not_hand_out_orders_is_refused(laugavegur, sweater, closed):
    # given Laugavegur stopped offering pickup (or closed)
    for field, value in closed.items():
        setattr(laugavegur, field, value)
    laugavegur.save()

    # when a shopper picks it anyway
    with pytest.raises(OrderError, match="does not offer pickup"):
        place_pickup_order(
            checkout=ConfirmedCheckout.at_current_prices(quantities={sweater.pk: 1}, store=laugavegur, contact=ANNA)
        )

    # then nothing happened
    assert not Order.objects.exists()
    assert stock(laugavegur, sweater) == (4, 0)


def test_an_empty_cart_places_nothing(laugavegur):
    with pytest.raises(OrderError, match="empty"):
        place_pickup_order(checkout=ConfirmedCheckout.at_current_prices(quantities={}, store=laugavegur, contact=ANNA))

    assert not Order.objects.exists()


def test_an_order_the_store_cannot_fill_leaves_no_trace(laugavegur, sweater, mittens):
    # when a shopper wants 5 sweaters (4 on hand) and 2 mittens
    with pytest.raises(CheckoutChanged) as raised:
        place_pickup_order(
            checkout=ConfirmedCheckout.at_current_prices(
                quantities={sweater.pk: 5, mittens.pk: 2}, store=laugavegur, contact=ANNA
            )
        )

    # then the short line is named and no order, line, event or reservation exists
    assert [(change.kind, change.product_id) for change in raised.value.changes] == [(ChangeKind.STOCK, sweater.pk)]
    assert "Only 4 of" in raised.value.changes[0].message
    assert not Order.objects.exists() and not OrderLine.objects.exists() and not OrderEvent.objects.exists()
    assert stock(laugavegur, mittens) == (10, 0)


def test_an_order_number_already_taken_is_drawn_again(laugavegur, sweater, monkeypatch):
    # given an order numbered ABCDEFGH, and a number generator that repeats it once
    first = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    Order.objects.filter(pk=first.pk).update(number="ABCDEFGH")
    numbers = iter(["ABCDEFGH", "ZYXWVUTS"])
    monkeypatch.setattr(services, "new_order_number", lambda: next(numbers))

    # when the next order is placed
    second = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])

    # then it gets a fresh number and the stock is reserved once
    assert second.number == "ZYXWVUTS"
    assert stock(laugavegur, sweater) == (4, 2)


# The transition table, written out by hand: what the shop promises, checked against the code.
LEGAL = {
    (OrderStatus.AWAITING_PAYMENT, OrderStatus.PLACED),
    (OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED),
    (OrderStatus.PLACED, OrderStatus.READY_FOR_PICKUP),
    (OrderStatus.PLACED, OrderStatus.CANCELLED),
    (OrderStatus.READY_FOR_PICKUP, OrderStatus.COLLECTED),
    (OrderStatus.READY_FOR_PICKUP, OrderStatus.CANCELLED),
    # Local delivery (issue 11): out with the van, then delivered, failed (back to placed) or cancelled.
    (OrderStatus.PLACED, OrderStatus.OUT_FOR_DELIVERY),
    (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED),
    (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.PLACED),
    (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.CANCELLED),
    # Shipping from a warehouse (issue 11): the parcel leaves with the carrier, packed first.
    (OrderStatus.PLACED, OrderStatus.SHIPPED),
}
ILLEGAL = sorted(set(itertools.product(OrderStatus, OrderStatus)) - LEGAL)
PATH_TO = {
    OrderStatus.AWAITING_PAYMENT: [],
    OrderStatus.PLACED: [],
    OrderStatus.READY_FOR_PICKUP: [OrderStatus.READY_FOR_PICKUP],
    OrderStatus.COLLECTED: [OrderStatus.READY_FOR_PICKUP, OrderStatus.COLLECTED],
    OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
    OrderStatus.OUT_FOR_DELIVERY: [OrderStatus.OUT_FOR_DELIVERY],
    OrderStatus.DELIVERED: [OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED],
    OrderStatus.SHIPPED: [OrderStatus.SHIPPED],
}


@pytest.fixture(autouse=True)
def dummy_payments(settings):
    """The Dummy provider, so an order can be placed paying online (awaiting payment)."""
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


def order_in(status, store, product):
    paying = "dummy" if status == OrderStatus.AWAITING_PAYMENT else "at_pickup"
    order = place_order(store=store, products_and_quantities=[(product, 1)], payment=paying)
    for step in PATH_TO[status]:
        if step == OrderStatus.SHIPPED:
            packed(order)
        order = transition_order(order=order, to_status=step)
    return order


def packed(order):
    """A parcel is packed (its fulfilment ready) before the order is shipped: the fulfilment's own
    table has no pending → fulfilled (shipping.services.mark_shipped packs it first)."""
    for fulfilment in Fulfilment.objects.filter(order=order):
        transition_fulfilment(fulfilment=fulfilment, to_status=FulfilmentStatus.READY)


def test_the_transition_table_is_exactly_the_documented_one():
    assert {(source, target) for source, targets in ORDER_TRANSITIONS.items() for target in targets} == LEGAL
    assert set(ORDER_TRANSITIONS) == set(OrderStatus)


@pytest.mark.parametrize(("source", "target"), sorted(LEGAL))
def test_a_legal_transition_moves_the_order_and_records_who_did_it(laugavegur, sweater, source, target):
    # given an order in `source`, and a member of staff
    order = order_in(source, laugavegur, sweater)
    if target == OrderStatus.SHIPPED:
        packed(order)
    staff = UserFactory(username="gunnar", is_staff=True)
    events_before = order.events.count()

    # when staff move it to `target`
    moved = transition_order(order=order, to_status=target, by=staff, note="at the counter")

    # then it is there, in the database too, with one event saying from where, by whom and why
    assert moved.status == target == Order.objects.get(pk=order.pk).status
    assert order.status == target
    assert order.events.count() == events_before + 1
    event = order.events.order_by("pk").last()
    assert (event.from_status, event.to_status, event.actor, event.note) == (source, target, staff, "at the counter")


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_an_illegal_transition_raises_and_writes_nothing(laugavegur, sweater, source, target):
    # given an order in `source`
    order = order_in(source, laugavegur, sweater)
    events_before = history(order)

    # when something tries to move it to `target`
    with pytest.raises(IllegalTransition) as raised:
        transition_order(order=order, to_status=target)

    # then it stays where it was and no event was written
    assert (raised.value.order.pk, raised.value.to_status) == (order.pk, target)
    assert Order.objects.get(pk=order.pk).status == source
    assert history(order) == events_before


def test_a_stale_copy_of_an_order_cannot_move_it(laugavegur, sweater):
    # given staff opened an order while it was placed, and the shopper cancelled it meanwhile
    seen_by_staff = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    cancel_order(order=Order.objects.get(pk=seen_by_staff.pk), reason=CancelReason.STORE)

    # when staff mark their (stale) copy ready
    with pytest.raises(IllegalTransition):
        transition_order(order=seen_by_staff, to_status=OrderStatus.READY_FOR_PICKUP)

    # then the database decided: still cancelled
    assert Order.objects.get(pk=seen_by_staff.pk).status == OrderStatus.CANCELLED


@pytest.mark.parametrize("source", [OrderStatus.PLACED, OrderStatus.READY_FOR_PICKUP])
def test_cancelling_gives_the_units_back_exactly_once(laugavegur, sweater, mittens, source):
    # given an order for 2 sweaters and 3 mittens, in `source`
    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 2), (mittens, 3)])
    for step in PATH_TO[source]:
        transition_order(order=order, to_status=step)
    staff = UserFactory(username="gunnar", is_staff=True)

    # when staff cancel it
    cancelled = cancel_order(order=order, reason=CancelReason.STORE, by=staff, note="shopper called")

    # then the units are for sale again and the timeline says who cancelled it and why
    assert cancelled.status == OrderStatus.CANCELLED
    assert stock(laugavegur, sweater) == (4, 0)
    assert stock(laugavegur, mittens) == (10, 0)
    event = order.events.order_by("pk").last()
    assert (event.from_status, event.to_status, event.actor, event.note) == (
        source,
        OrderStatus.CANCELLED,
        staff,
        "shopper called",
    )

    # when someone cancels it a second time
    with pytest.raises(IllegalTransition):
        cancel_order(order=order, reason=CancelReason.STORE, by=staff)

    # then nothing is released twice and no event is added
    assert stock(laugavegur, sweater) == (4, 0)
    assert order.events.filter(to_status=OrderStatus.CANCELLED).count() == 1


def test_cancelling_one_order_leaves_other_orders_reservations_alone(laugavegur, sweater):
    # given two orders holding 1 and 2 sweaters
    first = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    place_order(store=laugavegur, products_and_quantities=[(sweater, 2)], email="bjorn@example.com")

    # when the first is cancelled
    cancel_order(order=first, reason=CancelReason.STORE)

    # then the second one's 2 units stay reserved
    assert stock(laugavegur, sweater) == (4, 2)


def test_a_collected_order_cannot_be_cancelled(laugavegur, sweater):
    # given an order that was handed over
    order = order_in(OrderStatus.COLLECTED, laugavegur, sweater)
    reserved_before = stock(laugavegur, sweater)

    # when someone cancels it
    with pytest.raises(IllegalTransition):
        cancel_order(order=order, reason=CancelReason.STORE)

    # then no stock comes back from an order that left the store
    assert stock(laugavegur, sweater) == reserved_before
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COLLECTED
