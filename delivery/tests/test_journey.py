"""A delivery's journey: packed, out for delivery (e-mailed with the window), delivered
(e-mailed, units leave the stock), or failed with a reason and then rebooked."""

import datetime
from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from delivery.models import DeliveryState, FailureReason
from delivery.services import (
    IllegalDeliveryStep,
    mark_delivered,
    mark_failed,
    mark_packed,
    rebook_delivery,
    send_out,
)
from delivery.tests.factories import DeliveryZoneFactory, evening_windows, next_monday, place_delivery
from orders.models import FulfilmentStatus, Notification, NotificationKind, OrderActivity, OrderStatus
from orders.notifications.outbox import notify
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    PostcodeLocationFactory(country="IS", postcode="101")
    store = StoreFactory(name="Laugavegur", phone="+354 511 0000")
    DeliveryZoneFactory(store=store, postcodes="101-108", fee=Decimal("990"))
    evening_windows(store)
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    now = next_monday(10)
    return {"store": store, "mittens": mittens, "now": now}


def placed(world, language="en"):
    return place_delivery(
        store=world["store"],
        products_and_quantities=[(world["mittens"], 2)],
        starts_at=world["now"].replace(hour=17),
        now=world["now"],
        language=language,
    )


def stock(world):
    return StockLevel.objects.values_list("on_hand", "reserved").get(store=world["store"], product=world["mittens"])


def test_packed_out_and_delivered_each_once_with_the_shopper_told_in_their_language(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    # given an Icelandic shopper's delivery for Monday 17:00-19:00
    delivery = placed(world, language="is")
    order = delivery.fulfilment.order

    # when the store packs it and the van leaves
    with django_capture_on_commit_callbacks(execute=True):
        mark_packed(delivery=delivery)
        send_out(delivery=delivery)

    # then the order is out for delivery and the shopper got one e-mail, in Icelandic, with the window
    order.refresh_from_db()
    assert order.status == OrderStatus.OUT_FOR_DELIVERY
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert order.number in email.subject
    assert "á leiðinni" in email.subject
    for body in (email.body, email.alternatives[0][0]):
        assert "17:00–19:00" in body
        assert "Bergstaðastræti 12, 101 Reykjavík" in body
        assert "mánudagur" in body.lower()

    # when it is handed over at the door
    with django_capture_on_commit_callbacks(execute=True):
        mark_delivered(delivery=delivery)

    # then it is delivered, its units left the store, and a second e-mail says so
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert delivery.fulfilment.__class__.objects.get(pk=delivery.pk).status == FulfilmentStatus.FULFILLED
    assert stock(world) == (3, 0)
    assert len(mailoutbox) == 2
    assert "afhent" in mailoutbox[1].subject
    assert sorted(Notification.objects.filter(order=order).values_list("kind", flat=True)) == sorted(
        [NotificationKind.OUT_FOR_DELIVERY, NotificationKind.DELIVERED]
    )
    kinds = list(order.events.values_list("kind", "to_status"))
    assert (OrderActivity.PACKED, OrderStatus.PLACED) in kinds
    assert (OrderActivity.STATUS, OrderStatus.OUT_FOR_DELIVERY) in kinds
    assert (OrderActivity.STATUS, OrderStatus.DELIVERED) in kinds


def test_a_failed_delivery_keeps_its_units_and_is_rebooked(world, mailoutbox, django_capture_on_commit_callbacks):
    delivery = placed(world)
    order = delivery.fulfilment.order
    mark_packed(delivery=delivery)
    send_out(delivery=delivery)

    # when no one is home
    mark_failed(delivery=delivery, reason=FailureReason.NO_ONE_HOME, note="Rang bell twice")

    # then the order waits again, its units still held, with the reason on its timeline
    order.refresh_from_db()
    delivery.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert (delivery.state, delivery.failure_reason) == (DeliveryState.FAILED, FailureReason.NO_ONE_HOME)
    assert stock(world) == (5, 2)
    assert order.events.filter(note__contains="No one home").exists()
    assert order.events.filter(note__contains="Rang bell twice").exists()

    # when it is rebooked for Tuesday's window, sent out again and delivered
    tuesday = world["now"].replace(hour=17) + datetime.timedelta(days=1)
    rebook_delivery(delivery=delivery, starts_at=tuesday, now=world["now"])
    delivery.refresh_from_db()
    assert (delivery.state, delivery.window_start, delivery.fee) == (DeliveryState.PACKED, tuesday, Decimal("990"))
    send_out(delivery=delivery)
    mark_delivered(delivery=delivery)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert stock(world) == (3, 0)


@pytest.mark.parametrize(
    ("steps", "illegal"),
    [
        ([], send_out),
        ([], mark_delivered),
        ([mark_packed], mark_packed),
        ([mark_packed], mark_delivered),
        ([mark_packed, send_out, mark_delivered], send_out),
    ],
)
def test_a_step_out_of_order_is_refused_and_changes_nothing(world, steps, illegal):
    delivery = placed(world)
    for step in steps:
        step(delivery=delivery)
    state = delivery.state
    with pytest.raises(IllegalDeliveryStep):
        illegal(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.state == state


def test_failing_before_it_left_the_store_is_refused(world):
    delivery = placed(world)
    with pytest.raises(IllegalDeliveryStep):
        mark_failed(delivery=delivery, reason=FailureReason.NO_ONE_HOME)


def test_a_delivery_order_is_never_marked_ready_for_pickup(world, mailoutbox):
    from orders.services import IllegalTransition
    from pickup.services import mark_ready_for_pickup

    delivery = placed(world)
    with pytest.raises(IllegalTransition):
        mark_ready_for_pickup(order=delivery.fulfilment.order)
    assert delivery.fulfilment.order.__class__.objects.get(pk=delivery.fulfilment.order_id).status == OrderStatus.PLACED


def test_a_rebooked_delivery_sent_out_again_is_announced_again_once(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    # given a delivery that went out on Monday and failed (no one home)
    delivery = placed(world)
    order = delivery.fulfilment.order
    with django_capture_on_commit_callbacks(execute=True):
        mark_packed(delivery=delivery)
        send_out(delivery=delivery)
        mark_failed(delivery=delivery, reason=FailureReason.NO_ONE_HOME)
    assert [email.subject for email in mailoutbox] == [f"Your order {order.number} is on its way"]

    # when it is rebooked for Tuesday's window and the van leaves with it again
    tuesday = world["now"].replace(hour=17) + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        rebook_delivery(delivery=delivery, starts_at=tuesday, now=world["now"])
        send_out(delivery=delivery)

    # then the shopper is told a second time, with Tuesday's window
    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject == f"Your order {order.number} is on its way"
    assert "tuesday" in mailoutbox[1].body.lower() and "17:00–19:00" in mailoutbox[1].body
    assert "monday" in mailoutbox[0].body.lower()
    # one notification per attempt, and announcing an attempt again sends nothing more
    assert sorted(
        Notification.objects.filter(order=order, kind=NotificationKind.OUT_FOR_DELIVERY).values_list(
            "reference", flat=True
        )
    ) == ["1", "2"]
    with django_capture_on_commit_callbacks(execute=True):
        notify(order=order, kind=NotificationKind.OUT_FOR_DELIVERY, reference="2")
    assert len(mailoutbox) == 2
    delivery.refresh_from_db()
    assert delivery.attempt == 2
