"""Two tills returning the same line at the same moment, on PostgreSQL: the order's row lock lets
one through and the other is measured against it, so nothing is restocked or refunded twice. Two
exchanges for a store's last unit: its stock row's lock lets one have it, the other is refused."""

from decimal import Decimal

import pytest
from zeal import zeal_ignore

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from payment.models import Payment, Refund, RefundReason
from payment.services import RefundRefused, refund_order
from payment.tests.test_races import run_together
from returns.models import ExchangeLine, Resolution, Return, ReturnReceipt, StockMovement, StoreCredit
from returns.services import ExchangeItem, LineToReturn, ReturnRefused, receive_return
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory

from .conftest import collect, line_of

pytestmark = pytest.mark.postgres


def test_two_tills_returning_the_same_sweater_at_once_take_it_back_once(
    require_postgres, transactional_db, order, pickup_manager, returns_store, products
):
    # given Anna collected her one sweater, and two managers run the tills at Kringlan
    collect(order, pickup_manager)
    tills = [StoreManagerFactory(stores=[returns_store]) for _ in range(2)]
    sweater = line_of(order, "Hekla lopapeysa")

    # when both record the sweater as returned, resellable, at the same moment
    def receive(index):
        return receive_return(
            order=order,
            store=returns_store,
            lines=[LineToReturn(order_line_id=sweater.pk, quantity=1, reason="faulty", resellable=1)],
            by=tills[index],
        )

    results = run_together(2, receive)

    # then one return went through, the other was refused with a reason
    assert sum(isinstance(result, Return) for result in results) == 1, results
    refused = [result for result in results if isinstance(result, ReturnRefused)]
    assert len(refused) == 1 and "Hekla lopapeysa: 0 units" in str(refused[0]), results
    # and the sweater was restocked once, refunded once, receipted once
    assert StockLevel.objects.get(store=returns_store, product=products["sweater"]).on_hand == 1
    assert StockMovement.objects.count() == 1
    assert Refund.objects.count() == 1 and ReturnReceipt.objects.count() == 1
    assert Payment.objects.get(order=order).refunded_amount == Decimal("24990")


def test_two_exchanges_for_the_last_unit_at_once_give_it_out_once(
    require_postgres, transactional_db, pickup_manager, pickup_store, returns_store, products
):
    # given Anna and Bjarni each collected a sweater, and Kringlan has one L left
    with zeal_ignore():  # two shoppers' orders set up one after the other: not an N+1
        orders = [
            collect(
                place_order(store=pickup_store, products_and_quantities=[(products["sweater"], 1)], payment="dummy"),
                pickup_manager,
            )
            for _shopper in range(2)
        ]
    large = ProductFactory(parent=products["sweater"], name="Hekla lopapeysa L", price=Decimal("24990"))
    StockLevelFactory(store=returns_store, product=large, on_hand=1)
    tills = [StoreManagerFactory(stores=[returns_store]) for _ in range(2)]

    # when two tills swap each sweater for the L at the same moment
    def swap(index):
        order = orders[index]
        return receive_return(
            order=order,
            store=returns_store,
            lines=[
                LineToReturn(
                    order_line_id=line_of(order, "Hekla lopapeysa").pk, quantity=1, reason="does_not_fit", resellable=1
                )
            ],
            by=tills[index],
            resolution=Resolution.EXCHANGE,
            exchange=[ExchangeItem(product_id=large.pk, quantity=1)],
        )

    results = run_together(2, swap)

    # then one exchange went through; the other was refused, and left nothing behind
    assert sum(isinstance(result, Return) for result in results) == 1, results
    refused = [result for result in results if isinstance(result, ReturnRefused)]
    assert len(refused) == 1 and "Hekla lopapeysa L (0 for sale, 1 asked)" in str(refused[0]), results
    assert StockLevel.objects.get(store=returns_store, product=large).on_hand == 0
    assert StockLevel.objects.get(store=returns_store, product=products["sweater"]).on_hand == 1
    assert Return.objects.count() == 1 and ExchangeLine.objects.count() == 1
    assert StockMovement.objects.count() == 2 and ReturnReceipt.objects.count() == 1


def test_a_refund_on_the_screen_and_a_store_credit_return_of_the_same_units_at_once_pay_once(
    require_postgres, transactional_db, order, pickup_manager, returns_store
):
    # given Anna collected two pairs of mittens
    collect(order, pickup_manager)
    mittens = line_of(order, "Lopi mittens")
    till = StoreManagerFactory(stores=[returns_store])

    # when a manager refunds both pairs on the refund screen while a till takes them back as store credit
    def give_back(index):
        if index == 0:
            return refund_order(order=order, lines={mittens.pk: 2}, reason=RefundReason.RETURNED, by=pickup_manager)
        return receive_return(
            order=order,
            store=returns_store,
            lines=[LineToReturn(order_line_id=mittens.pk, quantity=2, reason="does_not_fit", resellable=2)],
            by=till,
            resolution=Resolution.STORE_CREDIT,
        )

    results = run_together(2, give_back)

    # then exactly one of them gave the money back; the other was refused with a reason
    refused = [result for result in results if isinstance(result, (RefundRefused, ReturnRefused))]
    assert len(refused) == 1, results
    assert "Lopi mittens: 0" in str(refused[0]), results
    money_back = Payment.objects.get(order=order).refunded_amount + sum(
        StoreCredit.objects.values_list("amount", flat=True)
    )
    assert money_back == Decimal("7980")
