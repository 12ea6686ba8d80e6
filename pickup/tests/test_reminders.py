"""Ready orders nobody collects: one reminder after the store's hours, cancellation after its days."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from o2o_site.celery import app
from orders.models import CancelReason, Notification, NotificationKind, OrderActivity, OrderEvent, OrderStatus
from orders.tests.factories import place_order
from pickup.models import Pickup
from pickup.reminders import expire_uncollected_orders, send_pickup_reminders, uncollected_deadlines
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    laugavegur = StoreFactory(name="Laugavegur")
    PickupSettingsFactory(store=laugavegur, remind_after_hours=24, expire_after_days=5)
    return laugavegur


@pytest.fixture
def sweater(store):
    product = ProductFactory(name="Lopapeysa")
    StockLevelFactory(store=store, product=product, on_hand=5)
    return product


@pytest.fixture
def manager(store):
    return StoreManagerFactory(stores=[store])


def ready_since(order, *, manager, ago):
    """Mark the order ready and move its "ready" event `ago` into the past."""
    mark_ready_for_pickup(order=order, by=manager)
    OrderEvent.objects.filter(order=order, to_status=OrderStatus.READY_FOR_PICKUP).update(
        created_at=timezone.now() - ago
    )
    return order


def level(store, product):
    found = StockLevel.objects.get(store=store, product=product)
    return found.on_hand, found.reserved


def test_a_ready_order_left_past_the_stores_hours_gets_one_reminder(
    store, sweater, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # given an order ready for 25 hours (the store reminds after 24) and one ready for an hour
    late = ready_since(
        place_order(store=store, products_and_quantities=[(sweater, 1)]), manager=manager, ago=timedelta(hours=25)
    )
    recent = ready_since(
        place_order(store=store, products_and_quantities=[(sweater, 1)], email="bjorn@example.com"),
        manager=manager,
        ago=timedelta(hours=1),
    )
    mailoutbox.clear()

    # when the reminder job runs twice
    with django_capture_on_commit_callbacks(execute=True):
        first = send_pickup_reminders()
    with django_capture_on_commit_callbacks(execute=True):
        second = send_pickup_reminders()

    # then the late order's shopper got exactly one reminder, and its history says so
    assert first.done == [late.number] and second.done == []
    [email] = mailoutbox
    assert email.to == ["anna@example.com"]
    assert late.number in email.subject and "Reminder" in email.subject
    assert pickup_of(late).code in email.body
    assert Notification.objects.filter(kind=NotificationKind.PICKUP_REMINDER).count() == 1
    assert OrderEvent.objects.filter(order=late, kind=OrderActivity.REMINDED).count() == 1
    assert not Notification.objects.filter(order=recent, kind=NotificationKind.PICKUP_REMINDER).exists()


def test_a_curbside_reminder_carries_the_check_in_link(
    store, sweater, manager, mailoutbox, django_capture_on_commit_callbacks
):
    order = ready_since(
        place_curbside_order(store=store, products_and_quantities=[(sweater, 1)]),
        manager=manager,
        ago=timedelta(hours=30),
    )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_pickup_reminders()
    [email] = mailoutbox
    assert f"/pickup/check-in/{order.number}/" in email.body


def test_an_order_left_past_the_stores_days_is_cancelled_once_and_its_stock_released_once(
    store, sweater, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # given two units reserved by an order ready for 5 days and a minute (the store keeps 5 days)
    order = ready_since(
        place_order(store=store, products_and_quantities=[(sweater, 2)]),
        manager=manager,
        ago=timedelta(days=5, minutes=1),
    )
    assert level(store, sweater) == (5, 2)
    mailoutbox.clear()

    # when the expiry job runs twice (and the reminder job too: it is past reminding)
    with django_capture_on_commit_callbacks(execute=True):
        first = expire_uncollected_orders()
        second = expire_uncollected_orders()
        reminders = send_pickup_reminders()

    # then the order is cancelled once, the units are back on sale once, and one e-mail says so
    assert first.done == [order.number] and second.done == [] and reminders.done == []
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert level(store, sweater) == (5, 0)
    [email] = mailoutbox
    assert "cancelled" in email.subject and order.number in email.subject
    assert "was not collected in time" in email.body
    cancelled = OrderEvent.objects.get(order=order, to_status=OrderStatus.CANCELLED, kind=OrderActivity.STATUS)
    assert cancelled.actor is None and "Not collected within 5 days" in cancelled.note
    assert order.cancel_reason == CancelReason.NOT_COLLECTED
    assert Notification.objects.filter(order=order, kind=NotificationKind.ORDER_CANCELLED).count() == 1


def test_orders_not_yet_ready_or_collected_are_left_alone(store, sweater, manager, mailoutbox):
    placed = place_order(store=store, products_and_quantities=[(sweater, 1)])
    OrderEvent.objects.filter(order=placed).update(created_at=timezone.now() - timedelta(days=30))
    collected = ready_since(
        place_order(store=store, products_and_quantities=[(sweater, 1)]), manager=manager, ago=timedelta(days=30)
    )
    from pickup.services import collect_order

    collect_order(order=collected, code=pickup_of(collected).code, by=manager)
    mailoutbox.clear()

    assert expire_uncollected_orders().done == [] and send_pickup_reminders().done == []
    assert mailoutbox == []


def test_a_store_without_settings_uses_the_defaults(sweater, manager):
    elsewhere = StoreFactory(name="Akureyri")
    product = ProductFactory()
    StockLevelFactory(store=elsewhere, product=product, on_hand=1)
    order = ready_since(
        place_order(store=elsewhere, products_and_quantities=[(product, 1)]),
        manager=StoreManagerFactory(stores=[elsewhere]),
        ago=timedelta(days=6, hours=23),
    )
    # the default keeps 7 days: not yet
    assert expire_uncollected_orders().done == []
    OrderEvent.objects.filter(order=order, to_status=OrderStatus.READY_FOR_PICKUP).update(
        created_at=timezone.now() - timedelta(days=7, minutes=1)
    )
    assert expire_uncollected_orders().done == [order.number]


def test_the_commands_do_the_same_and_print_a_summary(store, sweater, manager, capsys):
    order = ready_since(
        place_order(store=store, products_and_quantities=[(sweater, 1)]), manager=manager, ago=timedelta(hours=26)
    )
    call_command("send_pickup_reminders")
    assert f"Sent 1 pickup reminder(s): {order.number}." in capsys.readouterr().out
    call_command("send_pickup_reminders")
    assert "No ready orders are due a reminder." in capsys.readouterr().out

    OrderEvent.objects.filter(order=order, to_status=OrderStatus.READY_FOR_PICKUP).update(
        created_at=timezone.now() - timedelta(days=6)
    )
    call_command("expire_uncollected_orders")
    assert f"Cancelled 1 uncollected order(s), their units back on sale: {order.number}." in capsys.readouterr().out
    call_command("expire_uncollected_orders")
    assert "No uncollected orders are due to be cancelled." in capsys.readouterr().out


def test_celery_beat_runs_both_jobs_every_few_minutes():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in ("pickup.scheduled.send_pickup_reminders", "pickup.scheduled.expire_uncollected_orders"):
        assert 0 < schedule[task] <= 15 * 60
        app.loader.import_default_modules()
        assert task in app.tasks


def test_times_count_from_the_booked_pickup_when_the_order_is_ready_before_it(
    sweater, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # given a store that offers pickup times 14 days ahead, reminds after 24 hours and cancels
    # after 7 days, and an order booked for 10 December 12:00-12:30 that is ready on 30 November
    store = StoreFactory(name="Kringlan")
    PickupSettingsFactory(store=store, days_ahead=14, remind_after_hours=24, expire_after_days=7)
    StockLevelFactory(store=store, product=sweater, on_hand=5)
    order = place_order(store=store, products_and_quantities=[(sweater, 1)])
    booked = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)  # Reykjavík is on UTC
    Pickup.objects.filter(fulfilment__order=order).update(slot_start=booked, slot_end=booked + timedelta(minutes=30))
    mark_ready_for_pickup(order=order, by=manager)
    OrderEvent.objects.filter(order=order, to_status=OrderStatus.READY_FOR_PICKUP).update(
        created_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    )
    mailoutbox.clear()

    def run_jobs(now):
        with django_capture_on_commit_callbacks(execute=True):
            return send_pickup_reminders(now=now).done, expire_uncollected_orders(now=now).done

    # when the jobs run on 1 December and on 7 December (a week after "ready"),
    # then nobody is reminded and nothing is cancelled: the booked time has not even come
    assert run_jobs(datetime(2026, 12, 1, 12, 0, tzinfo=UTC)) == ([], [])
    assert run_jobs(datetime(2026, 12, 7, 10, 1, tzinfo=UTC)) == ([], [])
    assert mailoutbox == []

    # when they run a day after the booked time ended
    assert run_jobs(datetime(2026, 12, 11, 12, 31, tzinfo=UTC)) == ([order.number], [])

    # then the reminder says to collect it by a week after the booked time
    [reminder] = mailoutbox
    assert "Please collect it by Thursday 17 December, 12:30 (store time)." in reminder.body

    # and the order is cancelled at that very time, not before
    assert run_jobs(datetime(2026, 12, 17, 12, 29, tzinfo=UTC)) == ([], [])
    assert run_jobs(datetime(2026, 12, 17, 12, 30, tzinfo=UTC)) == ([], [order.number])
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, CancelReason.NOT_COLLECTED)


def test_an_order_ready_after_its_booked_time_counts_from_ready(sweater, manager, store):
    # given an order booked for 10 December 12:00-12:30, made ready only on 12 December at 9:00
    order = place_order(store=store, products_and_quantities=[(sweater, 1)])
    booked = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    Pickup.objects.filter(fulfilment__order=order).update(slot_start=booked, slot_end=booked + timedelta(minutes=30))
    ready_at = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)

    # then its reminder (after 24 hours) and cancellation (after 5 days) count from "ready"
    deadlines = uncollected_deadlines(store=store, ready_at=ready_at, booked_until=pickup_of(order).slot_end)
    assert (deadlines.remind_at, deadlines.collect_by) == (ready_at + timedelta(hours=24), ready_at + timedelta(days=5))
