"""Receipt numbers under concurrent captures, on PostgreSQL: one gap-free series for the shop.

Each thread does what the hand-over does, in one transaction: capture its order's payment and
issue the receipt. Some of them roll back afterwards (a failure later in the hand-over). The
committed receipts must be numbered 1..n with no gap and no number twice, and the counter must
stand at n: a rolled-back capture gave its number back."""

from decimal import Decimal

import pytest
from django.db import transaction

from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from payment.models import Payment, Receipt, ReceiptSequence
from payment.receipts import CapturedLine, issue_receipt
from payment.services import Actor, capture_payment
from stores.tests.factories import StockLevelFactory, StoreFactory

from .test_races import run_together
from .test_receipts import authorise

pytestmark = pytest.mark.postgres

CAPTURES = 12


class HandOverFailed(Exception):
    pass


def test_concurrent_captures_get_consecutive_numbers_and_rolled_back_ones_use_none(
    require_postgres, transactional_db, client
):
    # given twelve authorised orders at two stores
    stores = [StoreFactory(name="Laugavegur"), StoreFactory(name="Akureyri")]
    mittens = ProductFactory(price=Decimal("4990"))
    for store in stores:
        StockLevelFactory(store=store, product=mittens, on_hand=CAPTURES)
    orders = [
        place_order(store=stores[index % 2], products_and_quantities=[(mittens, 1)], payment="dummy")
        for index in range(CAPTURES)
    ]
    payments = [authorise(client, payment) for payment in Payment.objects.filter(order__in=orders).order_by("order_id")]

    # when all of them are handed over at the same moment, and every third hand-over fails after
    # its receipt was issued
    def hand_over(index):
        payment = payments[index]
        with transaction.atomic():
            capture_payment(payment=payment, amount=payment.total, by=Actor.staff(None))
            receipt = issue_receipt(
                payment=payment, lines=[CapturedLine(order_line=payment.order.lines.get(), quantity=1)]
            )
            if index % 3 == 0:
                raise HandOverFailed(receipt.number)
        return receipt.number

    results = run_together(CAPTURES, hand_over)

    # then the hand-overs that committed hold the numbers 1..n, each once, in the database too
    failed = [result for result in results if isinstance(result, HandOverFailed)]
    numbers = sorted(result for result in results if isinstance(result, int))
    assert len(failed) == CAPTURES // 3 and len(numbers) == CAPTURES - len(failed), results
    assert numbers == list(range(1, len(numbers) + 1))
    assert sorted(Receipt.objects.values_list("number", flat=True)) == numbers
    assert ReceiptSequence.objects.get(name=ReceiptSequence.SHOP).last_number == len(numbers)
    # and a failed hand-over left neither a receipt nor captured money behind
    for index in range(0, CAPTURES, 3):
        payments[index].refresh_from_db()
        assert payments[index].captured_amount == 0
        assert not Receipt.objects.filter(payment=payments[index]).exists()
