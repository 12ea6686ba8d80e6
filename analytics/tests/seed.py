"""A small shop with orders in every state and channel on known days, placed and moved through the
apps' own services at set moments (the clock is set, nothing else is faked), so the dashboard's
figures can be checked against numbers counted by hand (test_figures.py says which order is which).

Laugavegur is in Reykjavík (UTC); Grünerløkka in Oslo (UTC+1 in November), so a moment late in the
UTC evening is already the next day there.
"""

import contextlib
import datetime
from decimal import Decimal
from unittest import mock

from django.db import transaction

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from checkout.services import ConfirmedCheckout, place_pickup_order
from coupons.services import redeem_at_till
from coupons.tests.factories import CouponCodeFactory, CouponFactory
from instore.models import ShelfScan
from instore.services import Attribution
from orders.models import CancelReason, Channel, FulfilmentMethod, FulfilmentStatus, OrderStatus
from orders.services import (
    Contact,
    LineSpec,
    cancel_order,
    create_order,
    hand_over_fulfilment,
    transition_fulfilment,
    transition_order,
)
from pickup import curbside
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory
from returns.models import Resolution, ReturnReason
from returns.services import LineToReturn, receive_return
from rewards.services import earn_for_order, earn_in_store, join
from rewards.services import redeem_at_till as redeem_points_at_till
from stores import services as stock
from stores.tests.factories import StockLevelFactory, StoreFactory

DAY = datetime.date(2026, 11, 10)
UTC = datetime.UTC


def at(hour: int, minute: int = 0, *, day: datetime.date = DAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=UTC)


@contextlib.contextmanager
def clock(moment: datetime.datetime):
    """Run the code within at `moment`: every timezone.now() (auto_now_add included) says it."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _checkout(store, product, *, quantity=1, **extra):
    return place_pickup_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={product.pk: quantity},
            store=store,
            contact=Contact(
                name="Anna Jónsdóttir", email=extra.pop("email", "anna@example.com"), phone="+354 555 1234"
            ),
            **extra,
        )
    )


def _order_by_method(store, product, method):
    """A web order delivered by the store's van or shipped, written by orders' own services (in
    one transaction, as checkout does)."""
    with transaction.atomic():
        return _reserved_order(store, product, method)


def _reserved_order(store, product, method):
    stock.reserve_stock(store=store, quantities={product.pk: 1})
    return create_order(
        lines=[LineSpec(product=product, quantity=1)],
        store=store,
        contact=Contact(name="Ola Nordmann", email="ola@example.no", phone="+47 555 1234"),
        method=method,
    )


def seed_shop():
    """The shop described in the module docstring; returns its stores, people and orders by name."""
    with clock(at(7)):
        reykjavik = StoreFactory(name="Laugavegur", slug="laugavegur")
        oslo = StoreFactory(name="Grünerløkka", slug="grunerlokka", city="Oslo", country="NO", time_zone="Europe/Oslo")
        PickupSettingsFactory(store=reykjavik, offers_curbside=True, curbside_bays=4)
        mittens = ProductFactory(name="Lopi mittens", sku="LOPI-1", price=Decimal("1000"))
        for store in (reykjavik, oslo):
            StockLevelFactory(store=store, product=mittens, on_hand=100)
        staff = StoreManagerFactory(username="gudrun", stores=[reykjavik])
        oslo_staff = StoreManagerFactory(username="kari", stores=[oslo])
        member = UserFactory(username="sigga", email="sigga@example.com")
        account = join(email="sigga@example.com", user=member)
        scan = ShelfScan.objects.create(store=reykjavik, product=mittens)
        ShelfScan.objects.create(store=reykjavik, product=mittens)
        ShelfScan.objects.create(store=reykjavik, product=mittens)
        coupon = CouponFactory(valid_from=at(0, day=DAY - datetime.timedelta(days=5)))
        web_code = CouponCodeFactory(coupon=coupon, code="SUMAR10")
        till_code = CouponCodeFactory(coupon=coupon, code="TILL10")

    orders = {}
    # 1. web, in-store pickup: placed 9:00, ready 9:30, collected 11:00 (by a member, who earns).
    with clock(at(9)):
        orders["collected"] = _checkout(reykjavik, mittens, customer=member, email="sigga@example.com")
    with clock(at(9, 30)):
        mark_ready_for_pickup(order=orders["collected"], by=staff)
    with clock(at(11)):
        collect_order(order=orders["collected"], code=pickup_of(orders["collected"]).code, by=staff)
        # rewards' own on-commit handler does this after a real commit; the test's transaction never commits
        orders["collected"].refresh_from_db()
        earn_for_order(order=orders["collected"])
    # 2. web, curbside: placed 9:00 with a coupon, ready 9:20, checked in 10:00, handed over 10:05.
    with clock(at(9)):
        orders["curbside"] = _checkout(
            reykjavik,
            mittens,
            fulfilment=FulfilmentMethod.CURBSIDE,
            vehicle_description="Red Yaris",
            coupon_code=web_code.code,
        )
    with clock(at(9, 20)):
        mark_ready_for_pickup(order=orders["curbside"], by=staff)
    with clock(at(10)):
        curbside.check_in(order=orders["curbside"], bay=2)
    with clock(at(10, 5)):
        collect_order(order=orders["curbside"], code=pickup_of(orders["curbside"]).code, by=staff)
    # 3. web pickup: placed 8:00, ready 8:10, expired 20:00 (not collected in time).
    with clock(at(8)):
        orders["expired"] = _checkout(reykjavik, mittens)
    with clock(at(8, 10)):
        mark_ready_for_pickup(order=orders["expired"], by=staff)
    with clock(at(20)):
        cancel_order(order=orders["expired"], reason=CancelReason.NOT_COLLECTED)
    # 4. web pickup: placed 8:00, ready 8:40, cancelled by the store 12:00.
    with clock(at(8)):
        orders["cancelled_ready"] = _checkout(reykjavik, mittens)
    with clock(at(8, 40)):
        mark_ready_for_pickup(order=orders["cancelled_ready"], by=staff)
    with clock(at(12)):
        cancel_order(order=orders["cancelled_ready"], reason=CancelReason.STORE, by=staff)
    # 5. in store (staff selling after the shopper scanned a shelf label), 2 units, placed 12:00.
    with clock(at(12)):
        orders["in_store"] = _checkout(
            reykjavik,
            mittens,
            quantity=2,
            channel=Channel.IN_STORE,
            attribution=Attribution(store_id=reykjavik.pk, scan_id=scan.pk),
        )
    # 6. at a kiosk, placed 13:00, still placed (not ready).
    with clock(at(13)):
        orders["kiosk"] = _checkout(reykjavik, mittens, channel=Channel.KIOSK)
    # 7. delivered by the van: placed 9:00, out 14:00, delivered 15:00.
    with clock(at(9)):
        delivery = _order_by_method(reykjavik, mittens, FulfilmentMethod.LOCAL_DELIVERY)
    with clock(at(14)):
        transition_order(order=delivery.order, to_status=OrderStatus.OUT_FOR_DELIVERY, by=staff)
    with clock(at(15)), transaction.atomic():
        transition_order(order=delivery.order, to_status=OrderStatus.DELIVERED, by=staff)
        delivery.fulfilment.refresh_from_db()
        hand_over_fulfilment(fulfilment=delivery.fulfilment, quantities=None, by=staff, at=at(15))
    orders["delivered"] = delivery.order
    # 8. shipped: placed 9:00, packed and shipped 16:00.
    with clock(at(9)):
        shipment = _order_by_method(reykjavik, mittens, FulfilmentMethod.SHIPPING)
    with clock(at(16)), transaction.atomic():
        transition_fulfilment(fulfilment=shipment.fulfilment, to_status=FulfilmentStatus.READY, by=staff)
        transition_order(order=shipment.order, to_status=OrderStatus.SHIPPED, by=staff)
        shipment.fulfilment.refresh_from_db()
        hand_over_fulfilment(fulfilment=shipment.fulfilment, quantities=None, by=staff, at=at(16))
    orders["shipped"] = shipment.order
    # 9. paid online, still awaiting payment; 10. paid online, never paid (cancelled): not orders.
    with clock(at(17)), transaction.atomic():
        stock.reserve_stock(store=reykjavik, quantities={mittens.pk: 2})
        orders["awaiting_payment"] = create_order(
            lines=[LineSpec(product=mittens, quantity=1)],
            store=reykjavik,
            contact=Contact(name="Jón", email="jon@example.com", phone="+354 555 0000"),
            method=FulfilmentMethod.IN_STORE,
            payment_hold_until=at(17, 30),
        ).order
        orders["unpaid"] = create_order(
            lines=[LineSpec(product=mittens, quantity=1)],
            store=reykjavik,
            contact=Contact(name="Jón", email="jon@example.com", phone="+354 555 0000"),
            method=FulfilmentMethod.IN_STORE,
            payment_hold_until=at(17, 30),
        ).order
    with clock(at(17, 31)):
        cancel_order(order=orders["unpaid"], reason=CancelReason.PAYMENT_NOT_COMPLETED)
    # 11. the day before (the previous period): one web order at 23:30.
    with clock(at(23, 30, day=DAY - datetime.timedelta(days=1))):
        orders["yesterday"] = _checkout(reykjavik, mittens)
    # Oslo: 12. placed 2026-11-09 23:30 UTC = 10 November 00:30 in Oslo (counts on the 10th);
    # 13. placed 2026-11-10 23:30 UTC = 11 November in Oslo (not on the 10th).
    with clock(at(23, 30, day=DAY - datetime.timedelta(days=1))):
        orders["oslo_early"] = _checkout(oslo, mittens)
    with clock(at(23, 30)):
        orders["oslo_late"] = _checkout(oslo, mittens)
    # The collected web order (1) brought back at the Oslo store, 15:00 UTC (16:00 there).
    with clock(at(15)):
        line = orders["collected"].lines.get()
        receive_return(
            order=orders["collected"],
            store=oslo,
            lines=[LineToReturn(order_line_id=line.pk, quantity=1, reason=ReturnReason.DOES_NOT_FIT, resellable=1)],
            by=oslo_staff,
            resolution=Resolution.STORE_CREDIT,  # paid at the counter, not online: store credit
            now=at(15),
        )
    # Rewards at the till of Laugavegur: earned on a 5 000 purchase, redeemed 100; online, the
    # member earned on order 1 when it was collected (rewards' own signal).
    with clock(at(18)):
        earn_in_store(account=account, store=reykjavik, till_receipt_number="R-1", amount=Decimal("5000"), by=staff)
        account.refresh_from_db()
        redeem_points_at_till(
            account=account, store=reykjavik, amount=Decimal("10"), till_receipt_number="R-2", by=staff
        )
    # A coupon used at the till of Laugavegur.
    with clock(at(18, 30)):
        redeem_at_till(
            code=till_code.code, store=reykjavik, purchase_amount=Decimal("2000"), by=staff, till_receipt="R-3"
        )
    return {
        "reykjavik": reykjavik,
        "oslo": oslo,
        "staff": staff,
        "oslo_staff": oslo_staff,
        "member": member,
        "orders": orders,
        "product": mittens,
    }
