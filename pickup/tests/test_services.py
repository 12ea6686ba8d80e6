import smtplib
from decimal import Decimal

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders import tasks
from orders.models import Notification, NotificationKind, NotificationStatus, Order, OrderStatus
from orders.notifications.delivery import DeliveryFailed, deliver_notification
from orders.services import IllegalTransition
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import WrongPickupCode, collect_order, mark_ready_for_pickup
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return product


@pytest.fixture
def order(laugavegur, mittens):
    return place_order(store=laugavegur, products_and_quantities=[(mittens, 2)], email="anna@example.com")


@pytest.fixture
def manager(laugavegur):
    return StoreManagerFactory(username="gunnar", stores=[laugavegur])


def stock(store, product):
    level = StockLevel.objects.get(store=store, product=product)
    return level.on_hand, level.reserved


def test_marking_ready_writes_the_notification_and_emails_only_after_commit(
    order, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # when the manager marks the order ready, and the transaction has not committed yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ready = mark_ready_for_pickup(order=order, by=manager)

        # then the order is ready and a pending notification row exists, but nothing was sent
        assert ready.status == OrderStatus.READY_FOR_PICKUP
        notification = Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)
        assert (notification.kind, notification.status, notification.recipient) == (
            NotificationKind.READY_FOR_PICKUP,
            NotificationStatus.PENDING,
            "anna@example.com",
        )
        assert mailoutbox == []

    # then exactly one send waits for the commit
    assert len(callbacks) == 1
    assert mailoutbox == []

    # when the transaction commits and the queued task runs
    callbacks[0]()

    # then exactly one e-mail went out and the notification says when
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["anna@example.com"]
    assert order.number in mailoutbox[0].subject
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.sent_at is not None and notification.attempts == 1


def test_a_rolled_back_mark_ready_sends_nothing(order, manager, mailoutbox, django_capture_on_commit_callbacks):
    # when marking ready happens inside a transaction that then fails
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        mark_ready_for_pickup(order=order, by=manager)
        raise RuntimeError("the admin request failed after marking ready")

    # then no e-mail is sent and no notification row is left behind
    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.filter(kind=NotificationKind.READY_FOR_PICKUP).exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED


def test_the_task_running_twice_sends_one_email(order, manager, mailoutbox, django_capture_on_commit_callbacks):
    # given the order was marked ready and the e-mail sent
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)
    notification = Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)
    sent_at = notification.sent_at

    # when the broker delivers the task again (a retry, a duplicate delivery)
    tasks.send_notification.delay(notification_id=notification.pk)
    again = deliver_notification(notification_id=notification.pk)

    # then no second e-mail goes out and the first sending time stands
    assert again is False
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.sent_at, notification.attempts) == (NotificationStatus.SENT, sent_at, 1)


def test_an_order_cannot_be_marked_ready_twice(order, manager, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(IllegalTransition):
        mark_ready_for_pickup(order=order, by=manager)

    assert Notification.objects.filter(order=order, kind=NotificationKind.READY_FOR_PICKUP).count() == 1
    assert len(mailoutbox) == 1


def test_a_failing_mail_server_is_recorded_and_after_the_last_retry_marked_failed(
    order, manager, mailoutbox, django_capture_on_commit_callbacks, monkeypatch, settings
):
    # given the order was marked ready, the mail server refuses every message, and 3 tries are allowed
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=False):
        mark_ready_for_pickup(order=order, by=manager)
    notification = Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)

    def refuse(message, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("mail.example.com went away")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)

    # when the task's first try fails
    with pytest.raises(DeliveryFailed) as first:
        deliver_notification(notification_id=notification.pk)

    # then the try and its reason are on record, it is pending again, and a retry is due later
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.PENDING, 1)
    assert "mail.example.com went away" in notification.last_error
    assert first.value.retry_in > 0
    assert notification.dispatched_at > timezone.now()

    # when the task runs and retries until no try is left (eagerly: the retries run at once)
    last = tasks.send_notification.apply(kwargs={"notification_id": notification.pk}, throw=False)

    # then the notification is marked failed with the reason; the order is still ready for pickup
    assert last.state == "SUCCESS"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.sent_at) == (NotificationStatus.FAILED, 3, None)
    assert "mail.example.com went away" in notification.last_error
    assert Order.objects.get(pk=order.pk).status == OrderStatus.READY_FOR_PICKUP
    assert mailoutbox == []


def test_a_wrong_pickup_code_hands_nothing_over(
    order, manager, laugavegur, mittens, django_capture_on_commit_callbacks
):
    # given the order is ready, with 2 mittens reserved
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)
    events_before = order.events.count()
    wrong = f"{(int(pickup_of(order).code) + 1) % 1_000_000:06d}"

    # when staff type a code that is not the order's
    for code in (wrong, "", None, pickup_of(order).code[:-1]):
        with pytest.raises(WrongPickupCode):
            collect_order(order=order, code=code, by=manager)

    # then nothing changed: still ready, stock still reserved, nobody recorded as handing it over
    order.refresh_from_db()
    assert (order.status, pickup_of(order).fulfilment.fulfilled_at, pickup_of(order).fulfilment.fulfilled_by) == (
        OrderStatus.READY_FOR_PICKUP,
        None,
        None,
    )
    assert stock(laugavegur, mittens) == (5, 2)
    assert order.events.count() == events_before


def test_collecting_with_the_right_code_moves_the_units_from_reserved_to_sold(
    order, manager, laugavegur, mittens, django_capture_on_commit_callbacks
):
    # given the order is ready, with 2 of 5 mittens reserved
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)
    before = timezone.now()

    # when the shopper reads out the code (with a stray space) and the manager hands it over
    collected = collect_order(order=order, code=f" {pickup_of(order).code} ", by=manager)

    # then the order is collected, by whom and when, and the 2 mittens have left the store
    order.refresh_from_db()
    assert collected.status == order.status == OrderStatus.COLLECTED
    assert pickup_of(order).fulfilment.fulfilled_by == manager
    assert before <= pickup_of(order).fulfilment.fulfilled_at <= timezone.now()
    assert stock(laugavegur, mittens) == (3, 0)
    event = order.events.order_by("pk").last()
    assert (event.from_status, event.to_status, event.actor) == (
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.COLLECTED,
        manager,
    )


def test_an_order_that_is_not_ready_cannot_be_collected(order, manager, laugavegur, mittens):
    # when staff try to hand over an order the store has not put aside yet
    with pytest.raises(IllegalTransition):
        collect_order(order=order, code=pickup_of(order).code, by=manager)

    # then nothing changed
    order.refresh_from_db()
    assert (order.status, pickup_of(order).fulfilment.fulfilled_at, pickup_of(order).fulfilment.fulfilled_by) == (
        OrderStatus.PLACED,
        None,
        None,
    )
    assert stock(laugavegur, mittens) == (5, 2)


def test_a_collected_order_cannot_be_collected_again(
    order, manager, laugavegur, mittens, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)
    collect_order(order=order, code=pickup_of(order).code, by=manager)

    with pytest.raises(IllegalTransition):
        collect_order(order=order, code=pickup_of(order).code, by=manager)

    assert stock(laugavegur, mittens) == (3, 0)
