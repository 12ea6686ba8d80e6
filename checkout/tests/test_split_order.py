"""A cart no single location can supply, placed in parts (issue 11): two lines picked up at
Kringlan, the third delivered from Laugavegur in an evening window (or shipped from a warehouse).
Each part is a fulfilment of its own, with its own stock location, status, code and e-mails; one
online payment covers both and each part's value is captured when that part is handed over; the
order's status follows its parts; cancelling gives every part's units back; a part that changed
meanwhile refuses the whole checkout and nothing is placed."""

import contextlib
from decimal import Decimal

import pytest
from payments import RedirectNeeded

from checkout import handover
from checkout.services import (
    CheckoutChanged,
    ConfirmedLine,
    ConfirmedPart,
    DeliveryChoice,
    ShippingChoice,
    SplitCheckout,
    place_split_order,
    shopper_cancel_refusal,
)
from delivery.models import Delivery, DeliveryZone
from delivery.selectors import delivery_options, forget_directory
from delivery.services import DeliveryAddress, mark_packed, send_out
from orders.integrity import check_integrity
from orders.models import (
    Fulfilment,
    FulfilmentMethod,
    FulfilmentStatus,
    Notification,
    NotificationKind,
    Order,
    OrderStatus,
)
from orders.services import (
    Contact,
    IllegalTransition,
    LineSpec,
    OrderError,
    cancel_order,
    transition_order,
    transition_part,
)
from payment.models import Payment
from payment.services import Actor, payment_form
from pickup.models import Pickup
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from shipping.models import Shipment, ShippingRate
from shipping.services import ShippingAddress
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

ADDRESS = DeliveryAddress(
    street="Bergstaðastræti 12", postcode="101", city="Reykjavík", country="IS", phone="+354 555 1234"
)
ANNA = Contact(name="Anna Jónsdóttir", email="anna@example.com", phone="+354 555 1234")


@pytest.fixture(autouse=True)
def _provider(split_payment_provider):
    """Every checkout here pays online with the Dummy provider."""


@pytest.fixture
def world(split_world):
    return split_world


def earliest_window(store):
    forget_directory()
    (option,) = [option for option in delivery_options(postcode="101", country="IS").options if option.store == store]
    return option.earliest


def line(product, units):
    return ConfirmedLine(
        product_id=product.pk,
        name=product.name,
        quantity=units,
        unit_price=LineSpec(product=product, quantity=units).unit_price,
    )


def split_checkout(world, *, token="page-1", fee=Decimal("990"), window=None):
    window = window or earliest_window(world["laugavegur"])
    return SplitCheckout(
        lines=(line(world["sweater"], 1), line(world["mittens"], 2), line(world["boots"], 1)),
        parts=(
            ConfirmedPart(
                method=FulfilmentMethod.IN_STORE,
                location=world["kringlan"],
                product_ids=frozenset({world["sweater"].pk, world["mittens"].pk}),
            ),
            ConfirmedPart(
                method=FulfilmentMethod.LOCAL_DELIVERY,
                location=world["laugavegur"],
                product_ids=frozenset({world["boots"].pk}),
                delivery=DeliveryChoice(address=ADDRESS, window_start=window.starts_at, fee_shown=fee),
            ),
        ),
        contact=ANNA,
        language="en",
        checkout_token=token,
        payment="dummy",
    )


def authorise(order):
    payment = Payment.objects.get(order=order)
    with contextlib.suppress(RedirectNeeded):
        payment_form(
            payment=payment,
            data={"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"},
            by=Actor.shopper(),
        )
    payment.refresh_from_db()
    return payment


def stock(store, product):
    level = StockLevel.objects.get(store=store, product=product)
    return level.on_hand, level.reserved


def parts_of(order):
    pickup = Fulfilment.objects.get(order=order, method=FulfilmentMethod.IN_STORE)
    delivery = Delivery.objects.select_related("fulfilment__order").get(fulfilment__order=order)
    return pickup, delivery


def kinds(order):
    return sorted(Notification.objects.filter(order=order).values_list("kind", flat=True))


def nothing_placed(world):
    assert not Order.objects.exists()
    assert not Delivery.objects.exists() and not Pickup.objects.exists()
    assert all(level.reserved == 0 for level in StockLevel.objects.all())
    assert check_integrity().ok


def test_a_split_cart_is_one_order_with_a_part_per_location(world):
    # when Anna confirms the cart in two parts
    order = place_split_order(checkout=split_checkout(world))

    # then one order holds both parts, each reserved at its own location, paid online as one
    assert order.is_split and order.status == OrderStatus.AWAITING_PAYMENT
    assert order.store == world["kringlan"]
    assert order.total == Decimal("24990") + 2 * Decimal("3990") + Decimal("12990") + Decimal("990")
    pickup, delivery = parts_of(order)
    assert (pickup.stock_location, pickup.status) == (world["kringlan"], FulfilmentStatus.PENDING)
    assert sorted(pickup.lines.values_list("order_line__sku", "quantity")) == [("HEKLA-1", 1), ("LOPI-1", 2)]
    assert (delivery.fulfilment.stock_location, delivery.store) == (world["laugavegur"], world["laugavegur"])
    assert sorted(delivery.fulfilment.lines.values_list("order_line__sku", "quantity")) == [
        ("BOOT-1", 1),
        ("DELIVERY", 1),
    ]
    assert pickup_of(order).fulfilment == pickup and len(pickup_of(order).code) == 6
    assert stock(world["kringlan"], world["sweater"]) == (3, 1)
    assert stock(world["kringlan"], world["mittens"]) == (3, 2)
    assert stock(world["laugavegur"], world["boots"]) == (1, 1)
    assert Payment.objects.get(order=order).total == order.total
    assert check_integrity().ok


def test_the_order_received_email_lists_each_part_with_the_delivery_window(world):
    # (the split order's "order received" e-mail named the pickup but not the delivery's window)
    from checkout.emails import order_received_email

    order = place_split_order(checkout=split_checkout(world))
    delivery = parts_of(order)[1]

    email = order_received_email(order)

    zone = delivery.store.zone
    start, end = delivery.window_start.astimezone(zone), delivery.window_end.astimezone(zone)
    window = f"{start:%H:%M}–{end:%H:%M}"
    html = email.alternatives[0][0]
    for body in (email.body, html):
        assert "Your order comes in 2 parts" in body
        assert f"Collect at {world['kringlan'].name}" in body
        assert f"Delivered from {world['laugavegur'].name}" in body
        assert window in body
        assert pickup_of(order).code in body
    assert "1 × " in email.body.split("Part 2 of 2")[1]


def test_half_collected_half_delivered_each_part_captured_and_told_on_its_own(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    # given a split order, paid online
    with django_capture_on_commit_callbacks(execute=True):
        order = place_split_order(checkout=split_checkout(world))
        payment = authorise(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    pickup, delivery = parts_of(order)

    # when Kringlan makes its part ready
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)

    # then only that part is ready, the shopper is told with its code, and the order waits for the rest
    pickup.refresh_from_db()
    delivery.fulfilment.refresh_from_db()
    order.refresh_from_db()
    assert (pickup.stage, delivery.fulfilment.stage) == (OrderStatus.READY_FOR_PICKUP, OrderStatus.PLACED)
    assert order.status == OrderStatus.PLACED
    ready_mail = mailoutbox[-1]
    assert pickup_of(order).code in ready_mail.body
    assert "Gúmmístígvél" not in ready_mail.body
    assert shopper_cancel_refusal(order) is not None

    # when Anna collects it with her code
    with django_capture_on_commit_callbacks(execute=True):
        handed = handover.hand_over(order=order, code=pickup_of(order).code, by=None)

    # then only the pickup part's value is captured, the rest stays authorised for the delivery
    payment.refresh_from_db()
    assert handed.value == Decimal("32970")
    assert payment.captured_amount == Decimal("32970")
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert stock(world["kringlan"], world["mittens"]) == (1, 0)
    assert stock(world["laugavegur"], world["boots"]) == (1, 1)

    # when the van takes the boots out and the driver delivers them
    with django_capture_on_commit_callbacks(execute=True):
        mark_packed(delivery=delivery)
        send_out(delivery=delivery)
    order.refresh_from_db()
    assert order.status == OrderStatus.OUT_FOR_DELIVERY
    with django_capture_on_commit_callbacks(execute=True):
        delivered = handover.hand_over_delivery(delivery=delivery, by=None)

    # then the boots and the fee are captured too: the whole order, once each
    payment.refresh_from_db()
    assert delivered.value == Decimal("13980")
    assert payment.captured_amount == order.total
    assert delivered.order.status == OrderStatus.DELIVERED
    assert stock(world["laugavegur"], world["boots"]) == (0, 0)
    assert kinds(order) == sorted(
        [
            NotificationKind.ORDER_RECEIVED,
            NotificationKind.READY_FOR_PICKUP,
            NotificationKind.OUT_FOR_DELIVERY,
            NotificationKind.DELIVERED,
            NotificationKind.RECEIPT,
        ]
    )
    assert check_integrity().ok


def test_the_delivery_first_keeps_the_pickup_parts_money_authorised(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place_split_order(checkout=split_checkout(world))
        payment = authorise(order)
    pickup, delivery = parts_of(order)

    # when the delivery is made before the pickup part is collected
    mark_packed(delivery=delivery)
    send_out(delivery=delivery)
    handover.hand_over_delivery(delivery=delivery, by=None)

    # then its value alone is captured; the order still waits for the pickup
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.captured_amount == Decimal("13980")
    assert order.status == OrderStatus.PLACED

    # and collecting the rest later captures the rest and closes the order as collected
    mark_ready_for_pickup(order=order)
    handover.hand_over(order=order, code=pickup_of(order).code, by=None)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.captured_amount == order.total
    assert order.status == OrderStatus.COLLECTED
    assert check_integrity().ok


def test_a_part_moves_only_as_its_method_allows(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place_split_order(checkout=split_checkout(world))
        authorise(order)
    order.refresh_from_db()
    pickup, delivery = parts_of(order)

    # a delivery is never collected, a pickup never out for delivery, the whole order never moved at once
    with pytest.raises(IllegalTransition):
        transition_part(fulfilment=delivery.fulfilment, to_status=OrderStatus.READY_FOR_PICKUP)
    with pytest.raises(IllegalTransition):
        transition_part(fulfilment=pickup, to_status=OrderStatus.OUT_FOR_DELIVERY)
    with pytest.raises(IllegalTransition):
        transition_order(order=order, to_status=OrderStatus.READY_FOR_PICKUP)
    assert set(Fulfilment.objects.filter(order=order).values_list("status", flat=True)) == {FulfilmentStatus.PENDING}
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


def test_cancelling_a_split_order_gives_every_parts_units_back(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place_split_order(checkout=split_checkout(world))
        payment = authorise(order)

    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason="shopper")

    assert set(Fulfilment.objects.filter(order=order).values_list("status", flat=True)) == {FulfilmentStatus.CANCELLED}
    assert stock(world["kringlan"], world["sweater"]) == (3, 0)
    assert stock(world["kringlan"], world["mittens"]) == (3, 0)
    assert stock(world["laugavegur"], world["boots"]) == (1, 0)
    payment.refresh_from_db()
    assert payment.captured_amount == 0
    assert check_integrity().ok


# --- faults: a part that changed between the page and the submit refuses the whole checkout -----


def test_a_part_whose_stock_vanished_refuses_the_whole_checkout(world):
    confirmed = split_checkout(world)
    # the last boots are sold at Laugavegur's till while Anna looks at the page
    StockLevel.objects.filter(store=world["laugavegur"], product=world["boots"]).update(on_hand=0)

    with pytest.raises(CheckoutChanged) as refused:
        place_split_order(checkout=confirmed)

    assert "'Gúmmístígvél' is sold out at Laugavegur." in str(refused.value)
    nothing_placed(world)


def test_a_window_filled_meanwhile_refuses_the_whole_checkout(world):
    window = earliest_window(world["laugavegur"])
    confirmed = split_checkout(world, window=window)
    # two other shoppers take the evening's two places
    StockLevel.objects.update(on_hand=9)
    for token in ("other-1", "other-2"):
        other = split_checkout(world, token=token, window=window)
        place_split_order(checkout=other)
    kept = Order.objects.count()

    with pytest.raises(OrderError) as refused:
        place_split_order(checkout=confirmed)

    assert "has just been fully booked" in str(refused.value)
    assert Order.objects.count() == kept
    assert stock(world["laugavegur"], world["boots"]) == (9, 2)
    assert stock(world["kringlan"], world["mittens"]) == (9, 4)


def test_a_part_whose_store_stopped_delivering_refuses_the_whole_checkout(world):
    confirmed = split_checkout(world)
    DeliveryZone.objects.filter(store=world["laugavegur"]).update(is_active=False)
    forget_directory()

    with pytest.raises(OrderError) as refused:
        place_split_order(checkout=confirmed)

    assert "Laugavegur does not deliver to 101 Reykjavík." in str(refused.value)
    nothing_placed(world)


def test_a_delivery_fee_changed_meanwhile_is_named_and_nothing_placed(world):
    confirmed = split_checkout(world)
    DeliveryZone.objects.filter(store=world["laugavegur"]).update(fee=Decimal("1490"))
    forget_directory()

    with pytest.raises(CheckoutChanged) as refused:
        place_split_order(checkout=confirmed)

    assert "The delivery fee is now ISK\u00a01,490 (it was ISK\u00a0990)." in str(refused.value)
    nothing_placed(world)


def test_parts_that_do_not_cover_the_cart_are_refused(world):
    confirmed = split_checkout(world)
    emptied = ConfirmedPart(**{**confirmed.parts[1].__dict__, "product_ids": frozenset()})
    parts = (confirmed.parts[0], emptied)
    with pytest.raises(OrderError):
        place_split_order(checkout=SplitCheckout(**{**confirmed.__dict__, "parts": parts}))
    nothing_placed(world)


# --- picked up and shipped from the warehouse ---------------------------------------------------


def test_picked_up_and_shipped_each_part_captured_when_it_leaves(world, django_capture_on_commit_callbacks):
    warehouse = StoreFactory(name="Vöruhús", kind="warehouse", offers_pickup=False, accepts_returns=False)
    StockLevelFactory(store=warehouse, product=world["boots"], on_hand=4)
    ShippingRate.objects.create(
        country="IS", postcode_from=100, postcode_to=299, max_weight_grams=10000, fee=Decimal("1990")
    )
    address = ShippingAddress(name="Anna", address="Hafnarstræti 5", postcode="101", city="Reykjavík", country="IS")
    confirmed = split_checkout(world)
    confirmed = SplitCheckout(
        **{
            **confirmed.__dict__,
            "parts": (
                confirmed.parts[0],
                ConfirmedPart(
                    method=FulfilmentMethod.SHIPPING,
                    location=warehouse,
                    product_ids=frozenset({world["boots"].pk}),
                    shipping=ShippingChoice(address=address, fee_shown=Decimal("1990")),
                ),
            ),
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = place_split_order(checkout=confirmed)
        payment = authorise(order)
    assert stock(warehouse, world["boots"]) == (4, 1)
    assert stock(world["laugavegur"], world["boots"]) == (1, 0)

    # when the warehouse ships its part first
    shipment = Shipment.objects.select_related("fulfilment__order").get(fulfilment__order=order)
    handover.ship(shipment=shipment, carrier="Pósturinn", tracking_number="RR123456789IS", by=None)

    # then the shipped part alone is captured and the order waits for the pickup
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.captured_amount == Decimal("12990") + Decimal("1990")
    assert order.status == OrderStatus.PLACED
    mark_ready_for_pickup(order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    handover.hand_over(order=order, code=pickup_of(order).code, by=None)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.captured_amount == order.total
    assert order.status == OrderStatus.COLLECTED
    assert check_integrity().ok


# --- the shopper's order page shows each part ----------------------------------------------------


def test_the_order_page_shows_each_part_with_its_status_lines_and_total(
    client, world, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        order = place_split_order(checkout=split_checkout(world))
        authorise(order)
    order.refresh_from_db()
    mark_ready_for_pickup(order=order)

    with django_assert_max_num_queries(60):
        html = client.get(order.get_absolute_url()).content.decode()

    assert 'data-testid="order-parts"' in html
    assert "Your order comes in 2 parts" in html
    assert "Part 1 of 2: Pickup in store" in html and "Part 2 of 2: Local delivery" in html
    assert html.count('data-testid="order-part"') == 2
    assert 'data-stage="ready_for_pickup"' in html and 'data-stage="placed"' in html
    assert "Collect at Kringlan" in html and "Delivered from Laugavegur" in html
    assert "ISK\u00a032,970" in html and "ISK\u00a013,980" in html
    assert pickup_of(order).code in html


def test_check_integrity_finds_a_split_order_out_of_step_with_its_parts(world, django_capture_on_commit_callbacks):
    from orders.models import FulfilmentLine

    with django_capture_on_commit_callbacks(execute=True):
        order = place_split_order(checkout=split_checkout(world))
        authorise(order)
    assert check_integrity().ok
    pickup, delivery = parts_of(order)

    # an order marked ready as a whole while its delivered part still waits
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.OUT_FOR_DELIVERY)
    # and a line carried by no part (its units released behind the order's back)
    boots_line = FulfilmentLine.objects.get(fulfilment=delivery.fulfilment, order_line__sku="BOOT-1")
    boots_line.delete()
    StockLevel.objects.filter(store=world["laugavegur"]).update(reserved=0)

    problems = check_integrity().problems

    assert f"split: order {order.number} is out_for_delivery, but its parts make it placed" in problems
    assert f"fulfilment: order {order.number}, line BOOT-1: 1 units ordered, 0 in its fulfilments" in problems
