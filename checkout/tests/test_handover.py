"""Handing an order over and taking its money (checkout.handover): at the counter (the admin's
collect screen) and at the curb, all of it or part, paid online (captured at hand-over) or at the
store's till (recorded with the till's receipt number)."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from checkout import handover
from orders.models import FulfilmentLine, OrderActivity, OrderEvent, OrderStatus
from orders.tests.factories import place_order
from payment.models import Payment, PaymentEvent, PaymentStatus, Receipt, RefundReason
from payment.services import TillReceiptRefused, refund_order
from payment.tests.factories import DECLINING, DUMMY, STICKY, authorised_payment
from pickup.curbside import check_in
from pickup.models import PickupCodeAttempt
from pickup.selectors import pickup_of
from pickup.services import WrongPickupCode, mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payment_variants(settings):
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY, "declining": DECLINING, "sticky": STICKY}
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


@pytest.fixture
def laugavegur():
    store = StoreFactory(name="Laugavegur", slug="laugavegur")
    PickupSettingsFactory(store=store)
    return store


@pytest.fixture
def sweater(laugavegur):
    product = ProductFactory(name="Hekla lopapeysa", sku="HEKLA-1", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return product


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name="Lopi mittens", sku="LOPI-1", price=Decimal("3990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return product


@pytest.fixture
def order(laugavegur, sweater, mittens):
    """Anna's order: one sweater (ISK\u00a024,990) and two pairs of mittens (ISK\u00a03,990 each), ready."""
    placed = place_order(store=laugavegur, products_and_quantities=[(sweater, 1), (mittens, 2)])
    mark_ready_for_pickup(order=placed)
    return placed


@pytest.fixture
def manager(client, laugavegur):
    gudrun = StoreManagerFactory(username="gudrun", first_name="Guðrún", last_name="Jónsdóttir", stores=[laugavegur])
    client.force_login(gudrun)
    return gudrun


def stock(store, product):
    level = StockLevel.objects.get(store=store, product=product)
    return level.on_hand, level.reserved


def line_of(order, product):
    return order.lines.get(product=product)


def collect_url(order):
    return reverse("admin:orders_order_collect", args=[order.pk])


def collect_post(order, *, quantities=None, **fields):
    """The collect screen's form: the code, each line's quantity (all by default), and more."""
    quantities = quantities or {}
    data = {"code": pickup_of(order).code, **fields}
    for line in order.lines.all():
        data[f"line-{line.pk}"] = quantities.get(line.product_id, line.quantity)
    return data


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def payment_history(payment):
    return list(PaymentEvent.objects.filter(payment=payment).values_list("kind", "to_status", "amount"))


# --- paid online: capture at hand-over ----------------------------------------------------------------


def test_a_partial_hand_over_captures_exactly_the_lines_handed_over_and_releases_the_rest(
    client, manager, laugavegur, sweater, mittens, order
):
    # given Anna authorised ISK\u00a032,970 online
    payment = authorised_payment(order)

    # when she takes the sweater and one pair of mittens, and leaves the other pair
    screen = client.get(collect_url(order))
    response = client.post(collect_url(order), collect_post(order, quantities={mittens.pk: 1}), follow=True)

    # then ISK\u00a028,980 is captured, ISK\u00a03,990 released, and the pair she left is back on sale
    assert "ISK\u00a032,970 is authorised" in screen.content.decode()
    assert 'data-testid="till-receipt"' not in screen.content.decode()
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.released_amount) == (
        PaymentStatus.CONFIRMED,
        Decimal("28980"),
        Decimal("3990"),
    )
    assert payment_history(payment)[-2:] == [
        ("capture", "confirmed", Decimal("28980")),
        ("release", "confirmed", Decimal("3990")),
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert stock(laugavegur, sweater) == (4, 0)
    assert stock(laugavegur, mittens) == (4, 0)  # one left the store, one is back on sale
    assert dict(
        FulfilmentLine.objects.filter(fulfilment__order=order).values_list("order_line__product", "handed_over")
    ) == {sweater.pk: 1, mittens.pk: 1}
    partly = OrderEvent.objects.get(order=order, kind=OrderActivity.PARTLY_HANDED_OVER)
    assert partly.note == "Not handed over, back on sale: 1 × Lopi mittens."
    assert partly.actor == manager
    assert (
        f"Order {order.number} handed over by Guðrún Jónsdóttir. ISK\u00a028,980 was captured from the card payment; "
        "the rest was released." in messages_of(response)
    )
    assert not Payment.objects.filter(order=order, variant="till").exists()
    # and her receipt is for exactly what was taken
    receipt = Receipt.objects.get(order=order)
    assert (receipt.payment, receipt.total) == (payment, Decimal("28980"))
    assert sorted(receipt.lines.values_list("sku", "quantity")) == [("HEKLA-1", 1), ("LOPI-1", 1)]


def test_a_full_hand_over_captures_the_whole_authorisation(client, manager, order):
    payment = authorised_payment(order)

    client.post(collect_url(order), collect_post(order))

    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.released_amount) == (
        PaymentStatus.CONFIRMED,
        Decimal("32970"),
        Decimal("0"),
    )
    assert [kind for kind, _to, _amount in payment_history(payment)] == ["status", "capture"]
    assert not OrderEvent.objects.filter(order=order, kind=OrderActivity.PARTLY_HANDED_OVER).exists()


def test_a_declined_capture_hands_nothing_over_and_offers_the_till(
    client, manager, laugavegur, sweater, mittens, order
):
    # given Anna's authorisation, whose capture the bank now declines
    payment = authorised_payment(order, variant="declining")

    # when staff hand over the sweater only
    response = client.post(collect_url(order), collect_post(order, quantities={mittens.pk: 0}))

    # then the screen says plainly that the card payment was not taken, and nothing was handed over
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        "The card payment of ISK\u00a024,990 could not be taken (Card declined by the issuer). Nothing was handed over "
        "and nothing was charged. Take the payment at the till, then hand over again with the till&#x27;s receipt "
        "number." in page
    )
    assert 'data-testid="till-receipt"' in page
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert (payment.status, payment.captured_amount, payment.released_amount) == (
        PaymentStatus.PREAUTH,
        Decimal("0"),
        Decimal("0"),
    )
    assert stock(laugavegur, sweater) == (5, 1) and stock(laugavegur, mittens) == (5, 2)
    assert payment_history(payment)[-1] == ("capture_failed", "preauth", Decimal("24990"))
    assert PaymentEvent.objects.filter(kind="capture_failed").get().actor == manager

    # when staff take the payment at the till and hand over with its receipt number
    done = client.post(
        collect_url(order), collect_post(order, quantities={mittens.pk: 0}, till_receipt_number="K2-000123")
    )

    # then the order is collected, paid at the till, and the card's authorisation is let go
    assert done.status_code == 302
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    till = Payment.objects.get(order=order, variant="till")
    assert (till.status, till.captured_amount, till.till_receipt_number) == (
        PaymentStatus.CONFIRMED,
        Decimal("24990"),
        "K2-000123",
    )
    assert payment_history(till) == [("till", "confirmed", Decimal("24990"))]
    assert (payment.status, payment.released_amount) == (PaymentStatus.CANCELLED, Decimal("32970"))
    assert not Receipt.objects.exists()  # the till's receipt is the record of a till payment
    assert stock(laugavegur, sweater) == (4, 0) and stock(laugavegur, mittens) == (5, 0)


def test_a_release_the_provider_fails_leaves_the_capture_and_the_hand_over_standing(manager, sweater, order):
    # given an authorisation whose rest the gateway cannot release at hand-over
    payment = authorised_payment(order, variant="sticky")

    # when the sweater alone is handed over
    handed = handover.hand_over(
        order=order, code=pickup_of(order).code, by=manager, quantities={line_of(order, sweater).pk: 1}
    )

    # then the sweater's money is taken and the order collected; the rest stays authorised, to lapse
    payment.refresh_from_db()
    assert handed.order.status == OrderStatus.COLLECTED
    assert (payment.status, payment.captured_amount, payment.released_amount) == (
        PaymentStatus.CONFIRMED,
        Decimal("24990"),
        Decimal("0"),
    )
    assert [kind for kind, _to, _amount in payment_history(payment)] == ["status", "capture"]
    assert Receipt.objects.get(order=order).total == Decimal("24990")


def test_at_the_curb_a_declined_capture_is_said_plainly_and_nothing_is_handed_over(
    client, manager, laugavegur, sweater
):
    order = place_curbside_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    mark_ready_for_pickup(order=order)
    payment = authorised_payment(order, variant="declining")

    response = client.post(
        reverse("admin:orders_order_curbside_hand_over", args=[order.number]),
        {"code": pickup_of(order).code},
        follow=True,
    )

    assert any(
        message.startswith(f"Order {order.number}: The card payment of ISK\u00a024,990 could not be taken")
        for message in messages_of(response)
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert payment_history(payment)[-1][0] == "capture_failed"


def test_an_online_order_is_not_paid_at_the_till_as_well(manager, order):
    authorised_payment(order)

    with pytest.raises(handover.HandOverError):
        handover.hand_over(order=order, code=pickup_of(order).code, by=manager, till_receipt_number="4711")

    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert not PickupCodeAttempt.objects.filter(order=order).exists()


def test_an_order_charged_at_checkout_refunds_the_lines_not_handed_over(manager, sweater, mittens, order):
    payment = authorised_payment(order, status=PaymentStatus.CONFIRMED)

    handover.hand_over(
        order=order,
        code=pickup_of(order).code,
        by=manager,
        quantities={line_of(order, sweater).pk: 1, line_of(order, mittens).pk: 1},
    )

    payment.refresh_from_db()
    assert (payment.captured_amount, payment.refunded_amount) == (Decimal("32970"), Decimal("3990"))
    refund = payment.refunds.get()
    assert (refund.reason, refund.amount) == ("not_handed_over", Decimal("3990"))
    assert list(refund.lines.values_list("order_line__product", "quantity")) == [(mittens.pk, 1)]
    receipt = Receipt.objects.get(order=order)
    assert (receipt.payment, receipt.total) == (payment, Decimal("28980"))


# --- paid at pickup: the till ------------------------------------------------------------------------


def test_a_pay_at_pickup_order_is_handed_over_with_the_tills_receipt_number(
    client, manager, laugavegur, sweater, mittens, order
):
    # given an order paid at pickup: the screen asks for the till's receipt
    screen = client.get(collect_url(order)).content.decode()
    assert "Paid at pickup: take the payment at the till for what you hand over." in screen
    assert 'data-testid="till-receipt"' in screen

    # when staff hand over without it, with a number that is not one, then with the till's number
    missing = client.post(collect_url(order), collect_post(order))
    bad = client.post(collect_url(order), collect_post(order, till_receipt_number="--"))
    response = client.post(
        collect_url(order), collect_post(order, quantities={mittens.pk: 1}, till_receipt_number=" 4711 "), follow=True
    )

    # then the first two hand nothing over; the third records the till payment. Without a number the
    # code is still checked (it is right: no error on it, no failure counted); a number that is not
    # one costs no code attempt.
    assert "code" not in missing.context["form"].errors
    assert missing.context["form"].errors["till_receipt_number"] == [
        "This order is paid at pickup: take the payment at the till and enter the till's receipt number."
    ]
    assert bad.context["form"].errors["till_receipt_number"] == [
        "“--” is not a till receipt number: use the number printed on the till's receipt."
    ]
    assert PickupCodeAttempt.objects.filter(order=order).count() == 2
    assert not PickupCodeAttempt.objects.filter(order=order, succeeded=False).exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    till = Payment.objects.get(order=order)
    assert (till.variant, till.status, till.till_receipt_number) == ("till", PaymentStatus.CONFIRMED, "4711")
    assert (till.total, till.captured_amount, till.released_amount) == (
        Decimal("32970"),
        Decimal("28980"),
        Decimal("3990"),
    )
    event = till.events.get()
    assert (event.kind, event.source, event.actor, event.provider_reference) == ("till", "staff", manager, "4711")
    assert "ISK\u00a028,980 paid at the till, receipt 4711." in " ".join(messages_of(response))
    assert stock(laugavegur, mittens) == (4, 0)


def test_a_till_receipt_number_is_recorded_once_per_store(manager, laugavegur, sweater, order):
    handover.hand_over(order=order, code=pickup_of(order).code, by=manager, till_receipt_number="4711")
    other = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    mark_ready_for_pickup(order=other)

    with pytest.raises(TillReceiptRefused, match=f"Till receipt 4711 is already recorded for order {order.number}"):
        handover.hand_over(order=other, code=pickup_of(other).code, by=manager, till_receipt_number="4711")

    other.refresh_from_db()
    assert other.status == OrderStatus.READY_FOR_PICKUP


def test_a_wrong_code_hands_nothing_over_and_takes_no_money(manager, order):
    payment = authorised_payment(order)

    with pytest.raises(WrongPickupCode):
        handover.hand_over(order=order, code="000000" if pickup_of(order).code != "000000" else "111111", by=manager)

    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == (PaymentStatus.PREAUTH, Decimal("0"))
    assert PickupCodeAttempt.objects.filter(order=order, succeeded=False).count() == 1


def test_handing_over_nothing_at_all_is_refused(client, manager, sweater, mittens, order):
    authorised_payment(order)

    response = client.post(collect_url(order), collect_post(order, quantities={sweater.pk: 0, mittens.pk: 0}))

    assert response.context["form"].non_field_errors() == [
        "Nothing would be handed over. Hand over at least one item, or cancel the order instead."
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP


def test_the_collect_screen_has_a_fixed_number_of_queries(client, manager, laugavegur, django_assert_num_queries):
    products = ProductFactory.create_batch(8)
    for product in products:
        StockLevelFactory(store=laugavegur, product=product, on_hand=3)
    big = place_order(store=laugavegur, products_and_quantities=[(product, 2) for product in products])
    mark_ready_for_pickup(order=big)
    authorised_payment(big)

    # Session, user, the order, the permissions (user's and group's), the managed stores, the
    # authorisation and its last event, the lines, the pickup, the two lock counts, the store:
    # the same for 8 lines as for 1.
    with django_assert_num_queries(13):
        response = client.get(collect_url(big))

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="hand-over-quantity-') == 8


# --- at the curb ---------------------------------------------------------------------------------------


def test_at_the_curb_staff_hand_over_part_of_an_order_paid_online(client, manager, laugavegur, sweater, mittens):
    # given a curbside order, authorised online, the shopper at bay 2
    order = place_curbside_order(store=laugavegur, products_and_quantities=[(sweater, 1), (mittens, 2)])
    mark_ready_for_pickup(order=order)
    payment = authorised_payment(order)
    check_in(order=order, bay=None, vehicle="Red Yaris")
    queue = client.get(reverse("admin:orders_order_curbside_queue")).content.decode()

    # when staff bring the sweater only
    response = client.post(
        reverse("admin:orders_order_curbside_hand_over", args=[order.number]),
        {
            "code": pickup_of(order).code,
            f"line-{line_of(order, sweater).pk}": "1",
            f"line-{line_of(order, mittens).pk}": "0",
            "till_receipt_number": "",
        },
        follow=True,
    )

    # then the sweater's value is captured, the mittens' released and back on sale
    assert f'data-testid="hand-over-quantity-{mittens.sku}"' in queue
    payment.refresh_from_db()
    assert (payment.captured_amount, payment.released_amount) == (Decimal("24990"), Decimal("7980"))
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert stock(laugavegur, mittens) == (5, 0)
    assert any("ISK\u00a024,990 was captured from the card payment." in message for message in messages_of(response))


def test_at_the_curb_a_pay_at_pickup_order_needs_the_tills_receipt(client, manager, laugavegur, sweater):
    order = place_curbside_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    mark_ready_for_pickup(order=order)
    url = reverse("admin:orders_order_curbside_hand_over", args=[order.number])

    refused = client.post(url, {"code": pickup_of(order).code}, follow=True)
    done = client.post(url, {"code": pickup_of(order).code, "till_receipt_number": "88412"}, follow=True)

    assert (
        f"Order {order.number}: This order is paid at pickup: take the payment at the till and enter the till's "
        "receipt number." in messages_of(refused)
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert Payment.objects.get(order=order).till_receipt_number == "88412"
    assert any("paid at the till, receipt 88412" in message for message in messages_of(done))


def test_the_shoppers_order_page_tells_every_payment_change_at_a_fixed_cost(
    manager, mittens, order, django_assert_max_num_queries
):
    # given Anna paid online, took all but one pair of mittens, and was refunded the other pair
    authorised_payment(order)
    handover.hand_over(order=order, code=pickup_of(order).code, by=manager, quantities=None)
    refund_order(order=order, lines={line_of(order, mittens).pk: 1}, reason=RefundReason.FAULTY, by=manager)

    # when she opens her order page (the same number of queries as an order with no payment),
    # with the returns' part of a collected order's page: its returns and its hand-overs
    # (returns.panels), and while its return window is open one for what was refunded outside a
    # return (no "Return items" for units paid back: returns.policy)
    with django_assert_max_num_queries(11):
        page = Client().get(order.get_absolute_url()).content.decode()

    # then its history tells what was authorised, taken and refunded, in order
    told = [
        "Payment authorised: ISK\u00a032,970 (taken when you collect)",
        "Payment taken: ISK\u00a032,970",
        "Refunded: ISK\u00a03,990 (Faulty or damaged)",
    ]
    assert all(text in page for text in told)
    assert [page.index(text) for text in told] == sorted(page.index(text) for text in told)


@pytest.mark.parametrize(
    ("typed", "error"),
    [("5", "The order has 1 of this; no more can be handed over."), ("-1", "Enter 0 or more units.")],
)
def test_a_wrong_handed_over_quantity_is_said_in_the_shops_words(client, manager, sweater, order, typed, error):
    authorised_payment(order)

    response = client.post(collect_url(order), collect_post(order, quantities={sweater.pk: typed}))

    [line] = [line for line in order.lines.all() if line.product_id == sweater.pk]
    assert response.context["form"].errors[f"line-{line.pk}"] == [error]
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
