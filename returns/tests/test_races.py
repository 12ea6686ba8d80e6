"""Two tills returning the same line at the same moment, on PostgreSQL: the order's row lock lets
one through and the other is measured against it, so nothing is restocked or refunded twice."""

from decimal import Decimal

import pytest

from accounts.tests.factories import StoreManagerFactory
from payment.models import Payment, Refund
from payment.tests.test_races import run_together
from returns.models import Return, ReturnReceipt, StockMovement
from returns.services import LineToReturn, ReturnRefused, receive_return
from stores.models import StockLevel

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
