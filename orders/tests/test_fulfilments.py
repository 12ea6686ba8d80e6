"""Fulfilments: how an order's goods reach the shopper, each with its own status and stock location."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import (
    FULFILMENT_TRANSITIONS,
    CancelReason,
    Channel,
    Fulfilment,
    FulfilmentLine,
    FulfilmentMethod,
    FulfilmentStatus,
    OrderActivity,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from orders.services import (
    Contact,
    IllegalFulfilmentTransition,
    LineSpec,
    TooManyUnits,
    cancel_order,
    create_fulfilment,
    create_order,
    transition_fulfilment,
)
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from stores import services as stock
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name="Lopi mittens", price=Decimal("3990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=10)
    return product


@pytest.fixture
def scarf(laugavegur):
    product = ProductFactory(name="Scarf", price=Decimal("4990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=10)
    return product


def reserved(store, product):
    return StockLevel.objects.get(store=store, product=product).reserved


def test_a_cart_picked_up_at_one_store_is_one_fulfilment_of_every_line(laugavegur, mittens, scarf):
    # when a shopper places a web order for pickup at Laugavegur
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 2), (scarf, 1)])

    # then the order is a web order attributed to the store, with one pending pickup fulfilment
    # from the store's stock carrying every line in full
    assert (order.channel, order.store) == (Channel.WEB, laugavegur)
    fulfilment = Fulfilment.objects.get(order=order)
    assert (fulfilment.method, fulfilment.stock_location, fulfilment.status) == (
        FulfilmentMethod.IN_STORE,
        laugavegur,
        FulfilmentStatus.PENDING,
    )
    assert sorted(FulfilmentLine.objects.filter(fulfilment=fulfilment).values_list("order_line", "quantity")) == sorted(
        OrderLine.objects.filter(order=order).values_list("pk", "quantity")
    )
    assert pickup_of(order).fulfilment == fulfilment
    # and the placed event is on the fulfilment's timeline too
    assert list(OrderEvent.objects.filter(fulfilment=fulfilment).values_list("to_status", flat=True)) == ["placed"]


def test_the_fulfilment_moves_with_its_order_with_one_event_per_move(laugavegur, mittens):
    # given a placed order
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])
    clerk = StoreManagerFactory(stores=[laugavegur])

    # when it is made ready and collected
    mark_ready_for_pickup(order=order, by=clerk)
    assert Fulfilment.objects.get(order=order).status == FulfilmentStatus.READY
    collect_order(order=order, code=pickup_of(order).code, by=clerk)

    # then the fulfilment is fulfilled, by whom and when, and the timeline has one row per move
    fulfilment = Fulfilment.objects.get(order=order)
    assert (fulfilment.status, fulfilment.fulfilled_by) == (FulfilmentStatus.FULFILLED, clerk)
    assert fulfilment.fulfilled_at is not None
    assert list(OrderEvent.objects.filter(order=order).values_list("to_status", "fulfilment")) == [
        (OrderStatus.PLACED, fulfilment.pk),
        (OrderStatus.READY_FOR_PICKUP, fulfilment.pk),
        (OrderStatus.COLLECTED, fulfilment.pk),
    ]


def test_a_fulfilment_moves_only_as_its_table_allows_and_each_move_is_on_the_timeline(laugavegur, mittens):
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])
    fulfilment = Fulfilment.objects.get(order=order)
    assert FulfilmentStatus.FULFILLED not in FULFILMENT_TRANSITIONS[FulfilmentStatus.PENDING]

    # a pending fulfilment cannot be fulfilled before it is ready
    with pytest.raises(IllegalFulfilmentTransition):
        transition_fulfilment(fulfilment=fulfilment, to_status=FulfilmentStatus.FULFILLED)
    fulfilment.refresh_from_db()
    assert fulfilment.status == FulfilmentStatus.PENDING

    # but it can be made ready, which is written on the order's timeline, naming the fulfilment
    transition_fulfilment(fulfilment=fulfilment, to_status=FulfilmentStatus.READY, note="packed")
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.kind, event.fulfilment, event.from_status, event.to_status, event.note) == (
        OrderActivity.FULFILMENT_STATUS,
        fulfilment,
        FulfilmentStatus.PENDING,
        FulfilmentStatus.READY,
        "packed",
    )

    # and the order may follow: the fulfilment already there is left as it is
    mark_ready_for_pickup(order=order)
    fulfilment.refresh_from_db()
    assert (order.status, fulfilment.status) == (OrderStatus.READY_FOR_PICKUP, FulfilmentStatus.READY)


def test_no_line_is_fulfilled_more_than_its_quantity(laugavegur, mittens, scarf):
    # given an order of 2 mittens and a scarf, all in its one fulfilment
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 2), (scarf, 1)])
    line = OrderLine.objects.get(order=order, product=mittens)

    # then a second fulfilment of the same mittens is refused, and nothing is written
    with pytest.raises(TooManyUnits):
        create_fulfilment(
            order=order, method=FulfilmentMethod.IN_STORE, stock_location=laugavegur, quantities={line.pk: 1}
        )
    assert Fulfilment.objects.filter(order=order).count() == 1
    # and the database refuses a line of no units
    with pytest.raises(IntegrityError), transaction.atomic():
        FulfilmentLine.objects.create(fulfilment=Fulfilment.objects.get(order=order), order_line=line, quantity=0)


def test_the_units_of_a_cancelled_fulfilment_may_go_into_another(laugavegur, mittens):
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 2)])
    line = OrderLine.objects.get(order=order)
    Fulfilment.objects.filter(order=order).update(status=FulfilmentStatus.CANCELLED)
    second = create_fulfilment(
        order=order, method=FulfilmentMethod.CURBSIDE, stock_location=laugavegur, quantities={line.pk: 2}
    )
    assert list(FulfilmentLine.objects.filter(fulfilment=second).values_list("quantity", flat=True)) == [2]


def test_cancelling_gives_the_units_back_at_the_fulfilments_stock_location(laugavegur, mittens):
    # given an order attributed to Laugavegur but served from the Akureyri stock
    akureyri = StoreFactory(name="Akureyri")
    StockLevelFactory(store=akureyri, product=mittens, on_hand=5)
    with transaction.atomic():
        stock.reserve_stock(store=akureyri, quantities={mittens.pk: 3})
        placed = create_order(
            lines=[LineSpec(product=mittens, quantity=3)],
            store=laugavegur,
            stock_location=akureyri,
            method=FulfilmentMethod.IN_STORE,
            contact=Contact(name="Anna", email="anna@example.com", phone="+354 555 1234"),
        )
    assert (reserved(akureyri, mittens), reserved(laugavegur, mittens)) == (3, 0)

    # when it is cancelled
    cancel_order(order=placed.order, reason=CancelReason.STORE)

    # then Akureyri's units are back on sale, Laugavegur's untouched, and the fulfilment cancelled
    assert (reserved(akureyri, mittens), reserved(laugavegur, mittens)) == (0, 0)
    assert Fulfilment.objects.get(order=placed.order).status == FulfilmentStatus.CANCELLED
