"""Line-level readiness (issue 11): staff mark some lines of a pickup ready, the shopper is told
"2 of 3 items are ready" (once per change, in the order's language) and may collect the ready part
now with the pickup code; the rest stays reserved, and with online payment only what was handed
over is captured. The rest is collected later."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from checkout import handover
from orders.integrity import check_integrity
from orders.models import (
    FulfilmentLine,
    FulfilmentStatus,
    Notification,
    NotificationKind,
    OrderActivity,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from orders.services import IllegalTransition, NotReady, cancel_order
from orders.tests.factories import place_order
from payment.models import PaymentStatus, Receipt
from payment.tests.factories import DUMMY, authorised_payment
from pickup.selectors import pickup_of
from pickup.services import mark_lines_ready, mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payment_variants(settings):
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
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
    """Anna's placed order: one sweater and two pairs of mittens (3 items, ISK 32,970)."""
    return place_order(store=laugavegur, products_and_quantities=[(sweater, 1), (mittens, 2)])


@pytest.fixture
def manager(laugavegur):
    return StoreManagerFactory(username="gudrun", first_name="Guðrún", last_name="Jónsdóttir", stores=[laugavegur])


def line_of(order, product):
    return OrderLine.objects.get(order=order, product=product)


def stock(store, product):
    level = StockLevel.objects.get(store=store, product=product)
    return level.on_hand, level.reserved


def partly_ready(order):
    return list(
        Notification.objects.filter(order=order, kind=NotificationKind.PARTLY_READY)
        .order_by("pk")
        .values_list("reference", flat=True)
    )


# --- marking lines ready ----------------------------------------------------------------------------


def test_marking_some_lines_ready_tells_the_shopper_2_of_3_once_per_change(
    order, mittens, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # when staff mark the two pairs of mittens ready
    with django_capture_on_commit_callbacks(execute=True):
        readiness = mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk], by=manager)

    # then 2 of 3 items are ready, the order stays placed, and the shopper gets one e-mail saying so
    assert (readiness.ready, readiness.total, readiness.partly) == (2, 3, True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert partly_ready(order) == ["2/3"]
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.subject == f"2 of 3 items of your order {order.number} are ready at Laugavegur"
    assert "2 of 3 items of your order" in email.body
    assert "- 2 × Lopi mittens (LOPI-1)" in email.body.split("Still being got ready")[0]
    assert "- 1 × Hekla lopapeysa (HEKLA-1)" in email.body.split("Still being got ready")[1]
    assert pickup_of(order).code in email.body
    event = OrderEvent.objects.get(order=order, kind=OrderActivity.LINES_READY)
    assert (event.actor, event.note) == (manager, "Ready: 2 × Lopi mittens. 2 of 3 items are ready.")

    # when the same line is marked ready again (a double click, a second member of staff)
    with django_capture_on_commit_callbacks(execute=True):
        mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk], by=manager)

    # then nothing changes and nothing more is sent
    assert partly_ready(order) == ["2/3"]
    assert len(mailoutbox) == 1
    assert OrderEvent.objects.filter(order=order, kind=OrderActivity.LINES_READY).count() == 1
    assert check_integrity().ok


def test_the_items_ready_email_is_in_the_orders_language(
    laugavegur, sweater, mittens, mailoutbox, django_capture_on_commit_callbacks
):
    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 1), (mittens, 2)], language="is")

    with django_capture_on_commit_callbacks(execute=True):
        mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk])

    assert mailoutbox[0].subject == f"2 af 3 vörum í pöntun {order.number} eru tilbúnar í Laugavegur"
    assert "Tilbúið núna" in mailoutbox[0].body


def test_marking_the_last_lines_ready_makes_the_order_ready_with_its_usual_email(
    order, sweater, mittens, mailoutbox, django_capture_on_commit_callbacks
):
    mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk])

    with django_capture_on_commit_callbacks(execute=True):
        readiness = mark_lines_ready(order=order, order_line_ids=[line_of(order, sweater).pk])

    order.refresh_from_db()
    assert readiness.complete and order.status == OrderStatus.READY_FOR_PICKUP
    assert partly_ready(order) == ["2/3"]  # no "3 of 3": the order is ready, with its own e-mail
    assert Notification.objects.filter(order=order, kind=NotificationKind.READY_FOR_PICKUP).count() == 1
    assert check_integrity().ok


def test_marking_ready_what_cannot_be_is_refused_and_changes_nothing(order, laugavegur, sweater, mittens):
    other = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])

    # nothing chosen
    with pytest.raises(NotReady):
        mark_lines_ready(order=order, order_line_ids=[])
    # a line of another order
    with pytest.raises(NotReady):
        mark_lines_ready(order=order, order_line_ids=[other.lines.get().pk])
    assert not FulfilmentLine.objects.filter(ready_at__isnull=False).exists()
    assert partly_ready(order) == []

    # an order already ready, or cancelled
    mark_ready_for_pickup(order=other)
    with pytest.raises(IllegalTransition):
        mark_lines_ready(order=other, order_line_ids=[other.lines.get().pk])
    cancel_order(order=order, reason="store")
    with pytest.raises(IllegalTransition):
        mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk])
    assert partly_ready(order) == []


# --- collecting the ready part --------------------------------------------------------------------------


def test_the_ready_part_is_collected_now_and_captured_alone_the_rest_later(
    order, laugavegur, sweater, mittens, manager
):
    # given Anna authorised ISK 32,970 online, and her mittens are ready
    payment = authorised_payment(order)
    mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk], by=manager)

    # when she collects what is ready with her pickup code
    handed = handover.hand_over(order=order, code=pickup_of(order).code, by=manager)

    # then only the mittens are handed over and captured; the sweater stays reserved and authorised
    assert handed.partly and handed.value == Decimal("7980")
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert stock(laugavegur, mittens) == (3, 0)
    assert stock(laugavegur, sweater) == (5, 1)
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.released_amount) == (
        PaymentStatus.CONFIRMED,
        Decimal("7980"),
        Decimal("0"),
    )
    assert payment.capturable_amount == Decimal("24990")
    receipt = Receipt.objects.get(order=order)
    assert list(receipt.lines.values_list("sku", "quantity")) == [("LOPI-1", 2)]
    assert OrderEvent.objects.filter(order=order, kind=OrderActivity.READY_PART_COLLECTED).exists()
    assert check_integrity().ok

    # when the code is tried again before anything else is ready
    with pytest.raises(NotReady):
        handover.hand_over(order=order, code=pickup_of(order).code, by=manager)

    # when the sweater is ready later and she collects it
    mark_lines_ready(order=order, order_line_ids=[line_of(order, sweater).pk], by=manager)
    done = handover.hand_over(order=order, code=pickup_of(order).code, by=manager)

    # then the rest is captured, nothing released, and the order is collected
    assert not done.partly and done.value == Decimal("24990")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert (payment.captured_amount, payment.released_amount) == (Decimal("32970"), Decimal("0"))
    assert stock(laugavegur, sweater) == (4, 0)
    assert sorted(
        FulfilmentLine.objects.filter(fulfilment__order=order).values_list("order_line__sku", "handed_over")
    ) == [("HEKLA-1", 1), ("LOPI-1", 2)]
    assert set(order.fulfilments.values_list("status", flat=True)) == {FulfilmentStatus.FULFILLED}
    assert Receipt.objects.filter(order=order).count() == 2
    assert check_integrity().ok


def test_handing_over_a_line_not_ready_is_refused_and_nothing_moves(order, laugavegur, sweater, mittens, manager):
    payment = authorised_payment(order)
    mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk])

    with pytest.raises(NotReady):
        handover.hand_over(
            order=order,
            code=pickup_of(order).code,
            by=manager,
            quantities={line_of(order, sweater).pk: 1, line_of(order, mittens).pk: 2},
        )

    assert stock(laugavegur, sweater) == (5, 1) and stock(laugavegur, mittens) == (5, 2)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PREAUTH
    assert order.fulfilments.count() == 1


def test_a_ready_line_left_out_of_the_hand_over_stays_reserved(laugavegur, sweater, mittens, manager):
    # given both lines of a two-line ready part, and a third line still waiting
    hat = ProductFactory(name="Húfa", sku="HUFA-1", price=Decimal("2990"))
    StockLevelFactory(store=laugavegur, product=hat, on_hand=5)
    three = place_order(store=laugavegur, products_and_quantities=[(sweater, 1), (mittens, 2), (hat, 1)])
    mark_lines_ready(order=three, order_line_ids=[line_of(three, mittens).pk, line_of(three, hat).pk])

    # when staff hand over only the mittens (the form listed them alone)
    handover.hand_over(
        order=three,
        code=pickup_of(three).code,
        by=manager,
        quantities={line_of(three, mittens).pk: 2},
        till_receipt_number="K2-1",
    )

    # then the hat, ready, stays reserved for later, as does the sweater
    assert stock(laugavegur, hat) == (5, 1)
    assert stock(laugavegur, sweater) == (5, 1)
    assert stock(laugavegur, mittens) == (3, 0)
    assert check_integrity().ok


# --- the admin: mark chosen lines ready, hand over the ready part -----------------------------------------


def test_a_manager_ticks_the_ready_lines_on_the_order_page(client, order, mittens, manager):
    client.force_login(manager)
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'data-testid="mark-lines-ready-form"' in page

    response = client.post(
        reverse("admin:orders_order_mark_lines_ready", args=[order.pk]),
        {"lines": [line_of(order, mittens).pk]},
        follow=True,
    )

    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert (
        f"2 of 3 items of order {order.number} are ready; the shopper will get an e-mail and may collect them now."
        in messages
    )
    page = response.content.decode()
    assert "2 of 3 items are ready. Which others are put aside?" in page
    assert 'data-testid="hand-over-form"' in page  # the ready part can be handed over now
    assert partly_ready(order) == ["2/3"]


def test_ticking_nothing_or_a_line_not_waiting_says_what_is_wrong(client, order, sweater, mittens, manager):
    client.force_login(manager)
    url = reverse("admin:orders_order_mark_lines_ready", args=[order.pk])

    nothing = client.post(url, {})
    assert nothing.status_code == 200
    assert "Tick at least one item that is ready." in nothing.content.decode()

    mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk])
    stale = client.post(url, {"lines": [line_of(order, mittens).pk, line_of(order, sweater).pk]})
    assert stale.status_code == 200
    page = stale.content.decode()
    assert "One of the ticked items is no longer waiting to be got ready; look again." in page
    # what was ticked is kept
    assert f'value="{line_of(order, sweater).pk}" data-testid="ready-line"' in page.replace(
        ' checked data-testid="ready-line"', ' data-testid="ready-line"'
    )
    assert partly_ready(order) == ["2/3"]


def test_another_stores_manager_cannot_mark_lines_ready_and_csrf_is_checked(order, mittens, laugavegur, manager):
    outsider = StoreManagerFactory(stores=[StoreFactory(name="Akureyri")])
    client = Client()
    client.force_login(outsider)
    url = reverse("admin:orders_order_mark_lines_ready", args=[order.pk])
    assert client.post(url, {"lines": [line_of(order, mittens).pk]}).status_code in (302, 404)
    assert partly_ready(order) == []

    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(manager)
    assert guarded.post(url, {"lines": [line_of(order, mittens).pk]}).status_code == 403
    assert partly_ready(order) == []


def test_the_collect_screen_lists_only_the_ready_part(client, order, mittens, manager):
    mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk])
    client.force_login(manager)

    page = client.get(reverse("admin:orders_order_collect", args=[order.pk])).content.decode()

    assert 'data-testid="collect-ready-part"' in page
    assert 'data-testid="hand-over-quantity-LOPI-1"' in page
    assert 'data-testid="hand-over-quantity-HEKLA-1"' not in page


# --- the shopper's order page --------------------------------------------------------------------------


def test_the_order_page_says_2_of_3_items_are_ready(client, order, mittens):
    mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk])

    page = client.get(order.get_absolute_url()).content.decode()

    assert "2 of 3 items are ready at Laugavegur. You may collect them now" in page
    assert page.count('data-testid="line-readiness"') == 2
    assert "(ready)" in page and "(being got ready)" in page
    assert 'data-testid="pickup-code"' in page


def test_after_collecting_the_ready_part_the_order_page_no_longer_says_collect_now(client, order, mittens, manager):
    # (a fresh-eyes tester saw "2 of 3 items are ready … you may collect them now" after collecting them)
    authorised_payment(order)
    mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk], by=manager)
    handover.hand_over(order=order, code=pickup_of(order).code, by=manager)

    page = client.get(order.get_absolute_url()).content.decode()

    assert "You have collected 2 of 3 items. The rest stays reserved for you at Laugavegur" in page
    assert "You may collect them now" not in page
    assert "(collected)" in page and "(being got ready)" in page


def test_with_a_part_collected_and_more_ready_the_order_page_says_how_many_more(client, laugavegur, manager):
    scarf, hat, socks = (
        ProductFactory(name=name, sku=name.upper(), price=Decimal("1990")) for name in ("scarf", "hat", "socks")
    )
    for product in (scarf, hat, socks):
        StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    order = place_order(store=laugavegur, products_and_quantities=[(scarf, 1), (hat, 1), (socks, 1)])
    authorised_payment(order)
    mark_lines_ready(order=order, order_line_ids=[line_of(order, scarf).pk], by=manager)
    handover.hand_over(order=order, code=pickup_of(order).code, by=manager)
    mark_lines_ready(order=order, order_line_ids=[line_of(order, hat).pk], by=manager)

    page = client.get(order.get_absolute_url()).content.decode()

    assert "You have collected 1 of 3 items. 1 more is ready at Laugavegur: collect it with the pickup code" in page


# --- check_integrity reconciles readiness ------------------------------------------------------------------


def test_check_integrity_reports_what_readiness_cannot_explain(order, sweater, mittens, manager):
    mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk])
    handover.hand_over(order=order, code=pickup_of(order).code, by=manager, till_receipt_number="K2-7")
    assert check_integrity().ok

    # a line handed over that was never marked ready, an "items ready" e-mail missing, and a placed
    # order whose every waiting item is ready
    FulfilmentLine.objects.filter(fulfilment__order=order, order_line__product=mittens).update(ready_at=None)
    other = place_order(store=order.store, products_and_quantities=[(sweater, 1), (mittens, 1)])
    mark_lines_ready(order=other, order_line_ids=[line_of(other, mittens).pk])
    Notification.objects.filter(order=other, kind=NotificationKind.PARTLY_READY).delete()
    waiting = FulfilmentLine.objects.filter(fulfilment__order=order, order_line__product=sweater)
    waiting.update(ready_at="2026-01-01T12:00Z")

    problems = check_integrity().problems

    assert f"readiness: order {order.number} had items handed over that were not marked ready" in problems
    assert f'readiness: order {other.number} has items ready but no "items ready" e-mail' in problems
    assert f"readiness: order {order.number} is placed with every item ready, but not ready for pickup" in problems


def test_cancelling_the_rest_keeps_the_money_for_what_the_shopper_took(
    order, sweater, mittens, manager, django_capture_on_commit_callbacks
):
    # given Anna took her ready mittens (ISK 7,980 captured) and the sweater is still reserved
    payment = authorised_payment(order)
    mark_lines_ready(order=order, order_line_ids=[line_of(order, mittens).pk])
    handover.hand_over(order=order, code=pickup_of(order).code, by=manager)

    # when the store cancels the rest
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason="store", by=manager)

    # then the sweater's authorisation is released, and the mittens' money is not refunded
    payment.refresh_from_db()
    assert (payment.captured_amount, payment.refunded_amount, payment.released_amount) == (
        Decimal("7980"),
        Decimal("0"),
        Decimal("24990"),
    )
    assert StockLevel.objects.get(product=sweater).reserved == 0
