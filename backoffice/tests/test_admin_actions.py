"""The store's day in the admin: mark orders ready, cancel them, hand them over with the code."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import (
    CancelReason,
    Notification,
    NotificationKind,
    NotificationStatus,
    OrderActivity,
    OrderEvent,
    OrderStatus,
)
from orders.services import cancel_order
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", slug="laugavegur")


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name="Lopi mittens", sku="LOPI-1")
    StockLevelFactory(store=laugavegur, product=product, on_hand=10)
    return product


@pytest.fixture
def scarf(laugavegur):
    product = ProductFactory(name="Wool scarf", sku="SCARF-1")
    StockLevelFactory(store=laugavegur, product=product, on_hand=4)
    return product


@pytest.fixture
def order(laugavegur, mittens, scarf):
    return place_order(store=laugavegur, products_and_quantities=[(mittens, 2), (scarf, 1)])


@pytest.fixture
def manager(client, laugavegur):
    gudrun = StoreManagerFactory(username="gudrun", first_name="Guðrún", last_name="Jónsdóttir", stores=[laugavegur])
    client.force_login(gudrun)
    return gudrun


def stock(store, product):
    return StockLevel.objects.get(store=store, product=product)


def post_action(client, action, orders, **extra):
    return client.post(
        CHANGELIST,
        {"action": action, ACTION_CHECKBOX_NAME: [order.pk for order in orders], **extra},
        follow=True,
    )


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_marking_an_order_ready_records_it_and_emails_the_shopper_once(
    client, manager, order, mailoutbox, django_capture_on_commit_callbacks
):
    # when the manager marks the order ready for pickup (and the transaction commits)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_action(client, "mark_ready_for_pickup", [order])

    # then the order is ready, the event names the manager, and one e-mail went out and is recorded
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    event = OrderEvent.objects.filter(order=order, kind=OrderActivity.STATUS).last()
    assert (event.from_status, event.to_status, event.actor) == ("placed", "ready_for_pickup", manager)
    emailed = OrderEvent.objects.get(order=order, kind=OrderActivity.EMAILED)
    assert (emailed.note, emailed.actor) == ("Ready for pickup", None)
    assert len(callbacks) == 1
    notification = Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)
    assert notification.status == NotificationStatus.SENT and notification.sent_at is not None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [order.contact_email]
    assert order.number in mailoutbox[0].subject
    assert "1 order is ready for pickup; the shopper will get an e-mail." in messages_of(response)


def test_an_order_that_cannot_move_is_reported_and_the_others_still_go_through(
    client, manager, laugavegur, mittens, order, django_capture_on_commit_callbacks
):
    # given a second order that the shopper cancelled meanwhile
    cancelled = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])
    cancel_order(order=cancelled, reason=CancelReason.STORE)

    # when the manager marks both ready
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, "mark_ready_for_pickup", [order, cancelled])

    # then the open order is ready, the cancelled one is named in a warning and stays cancelled
    order.refresh_from_db()
    cancelled.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert cancelled.status == OrderStatus.CANCELLED
    assert f"Order {cancelled.number} was not marked ready for pickup: it is “Cancelled”." in messages_of(response)
    assert "1 order is ready for pickup; the shopper will get an e-mail." in messages_of(response)


def test_cancelling_asks_first_and_changes_nothing_until_confirmed(client, manager, laugavegur, mittens, order):
    # when the manager chooses "cancel" without confirming
    response = post_action(client, "cancel_orders", [order])

    # then they are asked, and the order and its reservation stand
    assert response.templates[0].name == "admin/orders/order/cancel_confirmation.html"
    assert order.number in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert stock(laugavegur, mittens).reserved == 2


def test_cancelling_releases_the_reserved_stock(client, manager, laugavegur, mittens, scarf, order):
    # when the manager cancels the order and confirms
    response = post_action(client, "cancel_orders", [order], confirm="yes")

    # then the order is cancelled by the manager and every unit is back on sale
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert OrderEvent.objects.filter(order=order).last().actor == manager
    assert (stock(laugavegur, mittens).reserved, stock(laugavegur, mittens).on_hand) == (0, 10)
    assert (stock(laugavegur, scarf).reserved, stock(laugavegur, scarf).on_hand) == (0, 4)
    assert "1 order cancelled; its units are back on sale." in messages_of(response)


def test_the_collect_action_opens_the_collect_screen_for_exactly_one_order(client, manager, laugavegur, mittens, order):
    # given a second order
    other = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])

    # when the manager chooses "collect" for one order, then for two
    one = client.post(CHANGELIST, {"action": "collect", ACTION_CHECKBOX_NAME: [order.pk]})
    two = post_action(client, "collect", [order, other])

    # then one order leads to its collect screen, two are refused with a reason
    assert one.status_code == 302
    assert one["Location"] == reverse("admin:orders_order_collect", args=[order.pk])
    assert "Select exactly one order to collect: each hand-over checks that order's pickup code." in messages_of(two)


def test_a_wrong_pickup_code_hands_nothing_over(client, manager, laugavegur, mittens, order):
    # given the order is ready for pickup
    mark_ready_for_pickup(order=order, by=manager)
    wrong = "000000" if pickup_of(order).code != "000000" else "111111"

    # when the manager types a wrong code
    response = client.post(
        reverse("admin:orders_order_collect", args=[order.pk]), {"code": wrong, "till_receipt_number": "4711"}
    )

    # then the form says so and nothing changed
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "code": ["The pickup code does not match this order. 4 tries left before the order is locked."]
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert pickup_of(order).fulfilment.fulfilled_at is None and pickup_of(order).fulfilment.fulfilled_by is None
    assert (stock(laugavegur, mittens).on_hand, stock(laugavegur, mittens).reserved) == (10, 2)


def test_the_right_pickup_code_hands_the_order_over_and_the_stock_leaves_the_store(
    client, manager, laugavegur, mittens, scarf, order
):
    # given the order is ready and the manager opens it
    mark_ready_for_pickup(order=order, by=manager)
    change_page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    collect_url = reverse("admin:orders_order_collect", args=[order.pk])

    # when the manager follows the collect button and types the shopper's code (with a stray space)
    screen = client.get(collect_url)
    response = client.post(
        collect_url,
        {"code": f" {pickup_of(order).code[:3]} {pickup_of(order).code[3:]}", "till_receipt_number": "4711"},
        follow=True,
    )

    # then the order is collected by the manager, and its units are neither reserved nor on hand
    assert f'href="{collect_url}"' in change_page
    assert screen.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert pickup_of(order).fulfilment.fulfilled_by == manager and pickup_of(order).fulfilment.fulfilled_at is not None
    assert (stock(laugavegur, mittens).on_hand, stock(laugavegur, mittens).reserved) == (8, 0)
    assert (stock(laugavegur, scarf).on_hand, stock(laugavegur, scarf).reserved) == (3, 0)
    assert response.redirect_chain[-1][0] == reverse("admin:orders_order_change", args=[order.pk])
    assert (
        f"Order {order.number} handed over by Guðrún Jónsdóttir. ISK\u00a014,970 paid at the till, receipt 4711."
        in messages_of(response)
    )
    assert "Guðrún Jónsdóttir" in response.content.decode()  # "handed over by" on the order page


def test_an_order_not_yet_ready_cannot_be_collected(client, manager, laugavegur, mittens, order):
    # given the order was placed but not marked ready
    url = reverse("admin:orders_order_collect", args=[order.pk])

    # when the manager opens its collect screen, and posts the right code anyway
    screen = client.get(url)
    response = client.post(url, {"code": pickup_of(order).code, "till_receipt_number": "4711"})

    # then the screen explains why, and the order stays placed with its units reserved
    assert "not ready for pickup yet" in screen.content.decode()
    assert 'data-testid="collect-form"' not in screen.content.decode()
    assert response.context["form"].non_field_errors() == [
        f"Order {order.number} is not ready for pickup yet: mark it ready first."
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert stock(laugavegur, mittens).reserved == 2


def test_the_order_page_is_a_record_of_lines_notifications_and_timeline(
    client, manager, order, django_capture_on_commit_callbacks
):
    # given the order was marked ready and the e-mail sent
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)

    # when the manager opens the order
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    page = response.content.decode()

    # then lines, the sent notification and both status changes are shown, with nothing to save
    assert "Lopi mittens" in page and "Wool scarf" in page
    assert "ISK\u00a09,980" in page  # two mittens at ISK 4,990, through the shop's money format
    assert "Sent" in page and order.contact_email in page
    assert "Ready for pickup" in page and "Placed" in page
    assert "gudrun" in page or "Guðrún" in page
    assert 'name="_save"' not in page
    assert pickup_of(order).code not in page
    # and its one fulfilment with its method, stock location and own status, and the order's channel
    fulfilments = re.search(r'id="fulfilments-group".*?</fieldset>', page, re.S).group(0)
    assert "Pickup in store" in fulfilments and "Laugavegur" in fulfilments and ">Ready<" in fulfilments
    assert "Web shop" in page
