"""manage.py check_integrity: stock, reservations, orders and notifications reconcile, or it says what not."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from catalog.tests.factories import ProductFactory
from orders.models import CancelReason, Notification, NotificationKind, NotificationStatus
from orders.services import cancel_order
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(django_capture_on_commit_callbacks):
    """Orders in every state at two stores, e-mails sent: a shop that reconciles."""
    laugavegur, kringlan = StoreFactory(name="Laugavegur"), StoreFactory(name="Kringlan")
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    sweater = ProductFactory(name="Lopapeysa", price=Decimal("24990"))
    for store in (laugavegur, kringlan):
        StockLevelFactory(store=store, product=mittens, on_hand=10)
        StockLevelFactory(store=store, product=sweater, on_hand=4)
    placed = place_order(store=laugavegur, products_and_quantities=[(mittens, 2), (sweater, 1)])
    ready = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])
    collected = place_order(store=kringlan, products_and_quantities=[(sweater, 2)])
    cancelled = place_order(store=kringlan, products_and_quantities=[(mittens, 3)])
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=ready)
        mark_ready_for_pickup(order=collected)
    collect_order(order=collected, code=pickup_of(collected).code, by=None)
    cancel_order(order=cancelled, reason=CancelReason.STORE)
    return {"laugavegur": laugavegur, "mittens": mittens, "placed": placed, "ready": ready, "collected": collected}


def run_check(*args):
    out = StringIO()
    try:
        call_command("check_integrity", *args, stdout=out)
    except CommandError as error:
        return error, out.getvalue()
    return None, out.getvalue()


def test_a_shop_whose_books_agree_passes(shop):
    error, out = run_check()

    assert error is None
    # four "order received", two "ready for pickup" and one "order cancelled"
    assert "Checked 4 stock records, 2 open orders, 7 notifications." in out
    assert "Everything reconciles." in out


def test_reserved_units_that_no_open_order_holds_are_reported(shop):
    # given a reservation that drifted (a lost release, say)
    StockLevel.objects.filter(store=shop["laugavegur"], product=shop["mittens"]).update(reserved=7)

    # when the check runs, then it fails and names the store, the product and both numbers
    error, out = run_check()

    assert error is not None and error.returncode == 1
    laugavegur, mittens = shop["laugavegur"], shop["mittens"]
    assert f"store {laugavegur.pk}, product {mittens.pk}: reserved 7, but open orders hold 3" in out


def test_a_ready_order_without_its_email_is_reported(shop):
    Notification.objects.filter(order=shop["ready"]).delete()

    error, out = run_check()

    assert error is not None
    assert f"order {shop['ready'].number} was made ready but has no ready-for-pickup e-mail" in out


def test_stuck_failed_and_unconfirmed_notifications_are_reported(shop):
    # given one e-mail pending for an hour (never queued), one failed, one unconfirmed
    ready, collected = (
        Notification.objects.get(order=shop["ready"], kind=NotificationKind.READY_FOR_PICKUP),
        Notification.objects.get(order=shop["collected"], kind=NotificationKind.READY_FOR_PICKUP),
    )
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    Notification.objects.filter(pk=ready.pk).update(
        status=NotificationStatus.PENDING, created_at=an_hour_ago, sent_at=None, dispatched_at=None
    )
    Notification.objects.filter(pk=collected.pk).update(status=NotificationStatus.FAILED, last_error="SMTP 550")

    # when the check runs with a 30-minute limit
    error, out = run_check("--stuck-minutes", "30")

    # then both are reported
    assert error is not None and "2 problem(s) found." in str(error)
    assert f"for order {shop['ready'].number} is pending since" in out
    assert f"for order {shop['collected'].number} is failed and needs a person" in out

    # and a pending row whose retry is due later is not stuck
    Notification.objects.filter(pk=ready.pk).update(dispatched_at=timezone.now() + datetime.timedelta(minutes=5))
    _error, out = run_check("--stuck-minutes", "30")
    assert f"for order {shop['ready'].number} is pending" not in out


@pytest.mark.parametrize("more_orders", [0, 30])
def test_the_check_costs_the_same_queries_for_a_small_and_a_big_shop(shop, more_orders, django_assert_num_queries):
    # given 0 or 30 more open orders, each also with a failed e-mail to report
    StockLevel.objects.filter(store=shop["laugavegur"], product=shop["mittens"]).update(on_hand=100)
    for _ in range(more_orders):
        order = place_order(store=shop["laugavegur"], products_and_quantities=[(shop["mittens"], 1)])
        Notification.objects.create(order=order, kind="ready_for_pickup", recipient="a@example.com", status="failed")

    # then the check takes the same number of queries (11 of its own, 3 of them for line-level
    # readiness; 5 for returns: stock movements, items given in exchange, returned units, refunds,
    # refunds against the returns; 2 for deliveries: their rows, the windows' bookings, and a third
    # for the windows' rules when any is booked; 5 for transfers: units reserved at sources and on
    # their way, transfers reserving for no order, ready orders still waiting, each one's record;
    # 3 for rewards: the sums per member, the balances, the entries;
    # and 3 for split fulfilment: lines covered once, split orders, their parts)
    with django_assert_num_queries(29):
        run_check()
