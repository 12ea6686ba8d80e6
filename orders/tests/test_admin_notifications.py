"""The admin shows each order's notifications, with their state and when they were sent."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import Notification, NotificationKind, NotificationStatus
from orders.tests.factories import place_order
from pickup.services import mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

NOTIFICATIONS = reverse("admin:orders_notification_changelist")


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def grunerlokka():
    return StoreFactory(
        name="Grünerløkka",
        city="Oslo",
        country="NO",
        latitude=Decimal("59.923000"),
        longitude=Decimal("10.758000"),
        time_zone="Europe/Oslo",
    )


@pytest.fixture
def ready_orders(laugavegur, grunerlokka, django_capture_on_commit_callbacks):
    """One order ready at each store, their e-mails sent."""
    mittens = ProductFactory(name="Lopi mittens")
    orders = []
    for store, email in ((laugavegur, "anna@example.com"), (grunerlokka, "ola@example.no")):
        StockLevelFactory(store=store, product=mittens, on_hand=5)
        with django_capture_on_commit_callbacks(execute=True):
            order = place_order(store=store, products_and_quantities=[(mittens, 1)], email=email)
        with django_capture_on_commit_callbacks(execute=True):
            mark_ready_for_pickup(order=order)
        orders.append(order)
    return orders


@pytest.fixture
def manager(client, laugavegur):
    gudrun = StoreManagerFactory(stores=[laugavegur])
    client.force_login(gudrun)
    return gudrun


def test_a_manager_sees_the_sent_notifications_of_their_own_store_only(client, manager, ready_orders):
    # given two sent notifications per store (order received, ready for pickup)
    reykjavik, oslo = ready_orders

    # when the Reykjavík manager lists notifications
    response = client.get(NOTIFICATIONS)

    # then only the Reykjavík order's e-mails are listed, as sent, with their recipient
    rows = list(response.context["cl"].result_list)
    assert {(row.order, row.kind) for row in rows} == {
        (reykjavik, NotificationKind.ORDER_RECEIVED),
        (reykjavik, NotificationKind.READY_FOR_PICKUP),
    }
    assert all(row.status == NotificationStatus.SENT and row.sent_at is not None for row in rows)
    page = response.content.decode()
    assert "anna@example.com" in page and "Sent" in page
    assert "ola@example.no" not in page and oslo.number not in page


def test_a_manager_cannot_open_another_stores_notification(client, manager, ready_orders):
    # when the Reykjavík manager opens the Oslo order's notification by its id
    oslo_notification = Notification.objects.get(order=ready_orders[1], kind=NotificationKind.READY_FOR_PICKUP)
    response = client.get(reverse("admin:orders_notification_change", args=[oslo_notification.pk]))

    # then the admin answers as if there were none
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_notifications_are_a_record_nobody_edits(admin_client, ready_orders):
    # given a sent notification
    notification = Notification.objects.get(order=ready_orders[0], kind=NotificationKind.READY_FOR_PICKUP)
    url = reverse("admin:orders_notification_change", args=[notification.pk])

    # when even the superuser opens it and posts a change
    opened = admin_client.get(url)
    posted = admin_client.post(url, {"status": NotificationStatus.PENDING})

    # then it is shown read-only and stays sent
    assert opened.status_code == 200
    assert posted.status_code == 403
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT


def test_the_order_page_shows_a_failed_notification_with_its_error(client, manager, laugavegur):
    # given an order whose e-mail failed for good
    mittens = ProductFactory(name="Lopi mittens")
    StockLevelFactory(store=laugavegur, product=mittens, on_hand=5)
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])
    mark_ready_for_pickup(order=order)
    Notification.objects.filter(order=order, kind=NotificationKind.READY_FOR_PICKUP).update(
        status=NotificationStatus.FAILED, last_error="SMTP 550: mailbox unavailable"
    )

    # when the manager opens the order
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    # then the notification's state and error are there
    assert "Failed" in page
    assert "SMTP 550: mailbox unavailable" in page


def test_the_order_page_shows_when_the_email_was_sent(client, manager, ready_orders):
    # given the Reykjavík order's e-mail went out on 5 January at 14:30
    order = ready_orders[0]
    sent_at = datetime.datetime(2026, 1, 5, 14, 30, tzinfo=datetime.UTC)
    Notification.objects.filter(order=order).update(sent_at=sent_at)

    # when the manager opens the order
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    # then that time is shown, as the admin shows times
    assert formats.localize(timezone.template_localtime(sent_at)) in page
