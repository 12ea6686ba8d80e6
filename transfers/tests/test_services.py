"""A transfer's life and its faults: stock exact at each step, checked by check_integrity."""

import pytest
from django.core import mail

from accounts.tests.factories import StoreManagerFactory
from checkout.services import CheckoutChanged
from orders.integrity import check_integrity
from orders.models import NotificationKind, OrderActivity, OrderStatus
from orders.services import cancel_order
from pickup.selectors import pickup_of
from pickup.services import StillOnTheWay, collect_order, mark_ready_for_pickup
from stores.models import StockLevel
from stores.tests.factories import StoreFactory
from transfers.models import Transfer, TransferEvent, TransferStatus
from transfers.services import (
    IllegalTransferMove,
    WrongStore,
    cancel_transfer,
    mark_picked,
    receive_transfer,
    send_transfer,
)

from .factories import order_by_transfer, reykjavik_shop

pytestmark = pytest.mark.django_db


def units(store, product):
    level = StockLevel.objects.filter(store=store, product=product).first()
    return (level.on_hand, level.reserved) if level else None


def assert_integrity():
    report = check_integrity()
    assert report.problems == []


def test_an_order_sent_to_kringlan_from_smaralind_end_to_end(django_capture_on_commit_callbacks):
    # given boots in size 38 only at Smáralind
    kringlan, smaralind, boots = reykjavik_shop(units_at_smaralind=3)
    smaralind_staff = StoreManagerFactory(username="sigga", stores=[smaralind])
    kringlan_staff = StoreManagerFactory(username="jon", stores=[kringlan])

    # when a shopper at Kringlan orders them sent there
    with django_capture_on_commit_callbacks(execute=True):
        order = order_by_transfer(destination=kringlan, product=boots)

    # then the order is Kringlan's, to pick up there, and the units are reserved at Smáralind
    transfer = Transfer.objects.get(fulfilment__order=order)
    assert (order.store, pickup_of(order).store, order.status) == (kringlan, kringlan, OrderStatus.PLACED)
    assert (transfer.source, transfer.destination, transfer.status) == (smaralind, kringlan, TransferStatus.REQUESTED)
    assert units(smaralind, boots) == (3, 1)
    assert units(kringlan, boots) is None
    assert_integrity()
    # and Kringlan cannot hand it over before it arrives
    with pytest.raises(StillOnTheWay):
        mark_ready_for_pickup(order=order, by=kringlan_staff)

    # when Smáralind picks and sends it
    mark_picked(transfer=transfer, at_store=smaralind, by=smaralind_staff)
    send_transfer(transfer=transfer, at_store=smaralind, by=smaralind_staff)

    # then the unit is at neither store: in transit
    assert units(smaralind, boots) == (2, 0)
    assert units(kringlan, boots) is None
    assert_integrity()

    # when Kringlan receives it
    with django_capture_on_commit_callbacks(execute=True):
        receive_transfer(transfer=transfer, at_store=kringlan, by=kringlan_staff)

    # then it is on hand at Kringlan, reserved for the order, which is ready, with its e-mail
    order.refresh_from_db()
    assert units(kringlan, boots) == (1, 1)
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert order.notifications.filter(kind=NotificationKind.READY_FOR_PICKUP).count() == 1
    assert any("ready" in message.subject.lower() for message in mail.outbox)
    assert order.events.filter(kind=OrderActivity.TRANSFER).count() == 2  # sent, arrived
    assert_integrity()

    # when the shopper collects it
    collect_order(order=order, code=pickup_of(order).code, by=kringlan_staff)
    assert units(kringlan, boots) == (0, 0)
    assert units(smaralind, boots) == (2, 0)
    assert_integrity()
    assert list(transfer.events.values_list("to_status", "at_store__name", "actor__username")) == [
        ("requested", "Smáralind", None),
        ("picked", "Smáralind", "sigga"),
        ("in_transit", "Smáralind", "sigga"),
        ("received", "Kringlan", "jon"),
    ]


def test_a_transfer_received_twice_is_refused_with_a_record_and_the_stock_exact():
    kringlan, smaralind, boots = reykjavik_shop()
    order = order_by_transfer(destination=kringlan, product=boots)
    transfer = Transfer.objects.get(fulfilment__order=order)
    send_transfer(transfer=transfer, at_store=smaralind)
    receive_transfer(transfer=transfer, at_store=kringlan)
    before = (units(kringlan, boots), units(smaralind, boots))

    with pytest.raises(IllegalTransferMove, match="cannot be received"):
        receive_transfer(transfer=Transfer.objects.get(pk=transfer.pk), at_store=kringlan)

    assert (units(kringlan, boots), units(smaralind, boots)) == before == ((1, 1), (2, 0))
    refused = TransferEvent.objects.get(transfer=transfer, refused=True)
    assert (refused.from_status, refused.to_status) == ("received", "received")
    assert_integrity()


def test_a_transfer_received_at_the_wrong_store_is_refused_with_a_record():
    kringlan, smaralind, boots = reykjavik_shop()
    akureyri = StoreFactory(name="Akureyri")
    order = order_by_transfer(destination=kringlan, product=boots)
    transfer = Transfer.objects.get(fulfilment__order=order)
    send_transfer(transfer=transfer, at_store=smaralind)

    with pytest.raises(WrongStore, match="handled at Kringlan, not at Akureyri"):
        receive_transfer(transfer=transfer, at_store=akureyri)
    # nor may the source send it a second time, or anyone else send it
    with pytest.raises(IllegalTransferMove):
        send_transfer(transfer=transfer, at_store=smaralind)

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert units(akureyri, boots) is None
    assert units(smaralind, boots) == (2, 0)
    assert TransferEvent.objects.filter(transfer=transfer, refused=True, at_store=akureyri).exists()
    assert_integrity()


def test_a_transfer_in_transit_cannot_be_cancelled():
    kringlan, smaralind, boots = reykjavik_shop()
    transfer = Transfer.objects.get(fulfilment__order=order_by_transfer(destination=kringlan, product=boots))
    send_transfer(transfer=transfer, at_store=smaralind)

    with pytest.raises(IllegalTransferMove, match="cannot be cancelled"):
        cancel_transfer(transfer=transfer, at_store=smaralind)

    assert Transfer.objects.get(pk=transfer.pk).status == TransferStatus.IN_TRANSIT
    assert units(smaralind, boots) == (2, 0)
    assert_integrity()


def test_an_order_cancelled_while_its_goods_are_on_the_way_puts_them_on_sale_on_arrival(
    django_capture_on_commit_callbacks,
):
    kringlan, smaralind, boots = reykjavik_shop()
    order = order_by_transfer(destination=kringlan, product=boots)
    transfer = Transfer.objects.get(fulfilment__order=order)
    send_transfer(transfer=transfer, at_store=smaralind)

    # when the shopper's order is cancelled while the boots are in the van
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason="shopper")
    assert_integrity()

    # then the transfer still arrives, and the boots go on sale at Kringlan
    receive_transfer(transfer=transfer, at_store=kringlan)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert units(kringlan, boots) == (1, 0)
    assert units(smaralind, boots) == (2, 0)
    assert "after order" in transfer.events.get(to_status="received").note
    assert_integrity()


def test_an_order_cancelled_before_its_goods_leave_releases_them_at_the_source(django_capture_on_commit_callbacks):
    kringlan, smaralind, boots = reykjavik_shop()
    order = order_by_transfer(destination=kringlan, product=boots, quantity=2)
    assert units(smaralind, boots) == (3, 2)

    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason="store")

    transfer = Transfer.objects.get(fulfilment__order=order)
    assert transfer.status == TransferStatus.CANCELLED
    assert units(smaralind, boots) == (3, 0)
    assert_integrity()


def test_the_best_source_is_the_one_here_first_and_a_short_source_changes_nothing(settings):
    from transfers.models import TransferRoute

    kringlan, smaralind, boots = reykjavik_shop(units_at_smaralind=1)
    from stores.tests.factories import StockLevelFactory

    selfoss = StoreFactory(name="Selfoss")
    StockLevelFactory(store=selfoss, product=boots, on_hand=10)
    TransferRoute.objects.create(source=selfoss, destination=kringlan, lead_days=4)

    # two boots: only Selfoss has them, though Smáralind is nearer in days
    order = order_by_transfer(destination=kringlan, product=boots, quantity=2)
    assert Transfer.objects.get(fulfilment__order=order).source == selfoss

    # one boot: Smáralind, here in 2 days, beats Selfoss's 4
    order = order_by_transfer(destination=kringlan, product=boots, quantity=1, email="b@example.com")
    assert Transfer.objects.get(fulfilment__order=order).source == smaralind

    # a source asked for by name that has too few: nothing placed, nothing reserved
    with pytest.raises(CheckoutChanged, match="sold out at Smáralind"):
        order_by_transfer(destination=kringlan, product=boots, source=smaralind, email="c@example.com")
    assert units(smaralind, boots) == (1, 1)
    assert Transfer.objects.count() == 2
    assert_integrity()
