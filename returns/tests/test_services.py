"""Returns in any store (returns.services): stock back at the returning store, damaged units
written off, units to inspect held apart; the refund computed by the server and given back once;
every refusal leaves nothing behind."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from orders.models import Notification, NotificationKind, OrderActivity, OrderEvent
from payment.models import Payment, Refund, RefundLine
from payment.tests.flaky_provider import FlakyProvider
from returns.models import (
    MovementKind,
    Resolution,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnReceipt,
    ReturnStatus,
    StockMovement,
    StoreCredit,
)
from returns.policy import refund_value, return_window
from returns.scheduled import retry_pending_refunds
from returns.services import (
    LineToReturn,
    ReturnRefused,
    decide_inspection,
    receive_return,
    request_return,
)
from stores.models import StockLevel

from .conftest import collect, line_of

pytestmark = pytest.mark.django_db


def on_hand(store, product):
    return StockLevel.objects.get(store=store, product=product).on_hand


def nothing_written():
    return (
        Return.objects.count(),
        ReturnLine.objects.count(),
        StockMovement.objects.count(),
        Refund.objects.count(),
        ReturnReceipt.objects.count(),
    ) == (0, 0, 0, 0, 0)


def mittens(order, **units):
    return LineToReturn(
        order_line_id=line_of(order, "Lopi mittens").pk,
        quantity=sum(units.values()),
        reason=ReturnReason.DOES_NOT_FIT,
        **units,
    )


def test_units_go_back_into_the_returning_stores_stock_and_the_money_to_the_card(
    collected, sigga, returns_store, pickup_store, products, django_capture_on_commit_callbacks
):
    # given Anna collected her order at Laugavegur and paid ISK 32,970 online
    kringlan_before = on_hand(returns_store, products["mittens"])
    laugavegur_before = on_hand(pickup_store, products["mittens"])

    # when she brings both pairs of mittens to Kringlan: one resellable, one damaged
    with django_capture_on_commit_callbacks(execute=True):
        order_return = receive_return(
            order=collected, store=returns_store, lines=[mittens(collected, resellable=1, damaged=1)], by=sigga
        )

    # then one pair is on sale at Kringlan (not Laugavegur), the other written off with a record
    assert on_hand(returns_store, products["mittens"]) == kringlan_before + 1
    assert on_hand(pickup_store, products["mittens"]) == laugavegur_before
    assert sorted(StockMovement.objects.values_list("kind", "quantity", "store__name")) == [
        (MovementKind.RESTOCKED, 1, "Kringlan"),
        (MovementKind.WRITTEN_OFF, 1, "Kringlan"),
    ]
    # and ISK 7,980 went back to the Dummy payment, per line, once
    payment = Payment.objects.get(order=collected)
    assert payment.refunded_amount == Decimal("7980")
    refund = Refund.objects.get()
    assert list(RefundLine.objects.values_list("order_line__product_name", "quantity", "amount")) == [
        ("Lopi mittens", 2, Decimal("7980"))
    ]
    order_return.refresh_from_db()
    assert (order_return.status, order_return.refund, order_return.store) == (
        ReturnStatus.CLOSED,
        refund,
        returns_store,
    )
    # and a return receipt from its own series, with the VAT in it, went to Anna once
    receipt = ReturnReceipt.objects.get()
    assert (receipt.number, receipt.total, receipt.store_name) == (1, Decimal("7980"), "Kringlan")
    assert receipt.vat_amount == Decimal("1545")  # 24 % inside ISK 7,980
    assert Notification.objects.filter(order=collected, kind=NotificationKind.RETURN_RECEIPT).count() == 1
    assert [message.subject for message in mail.outbox if "return receipt" in message.subject] == [
        f"Your return receipt for order {collected.number}"
    ]
    # saying when the money shows on her card, and no second e-mail about the same refund
    [sent] = [message for message in mail.outbox if "return receipt" in message.subject]
    assert "Your bank usually shows it within 5–10 working days" in sent.body
    assert not Notification.objects.filter(order=collected, kind=NotificationKind.REFUND).exists()
    # and the order's history tells it
    kinds = list(OrderEvent.objects.filter(order=collected).values_list("kind", flat=True))
    assert OrderActivity.RETURN_RECEIVED in kinds and OrderActivity.RETURN_REFUNDED in kinds


def test_units_to_inspect_are_held_apart_until_a_manager_decides(collected, sigga, returns_store, products):
    # given one pair of mittens comes back to be inspected
    before = on_hand(returns_store, products["mittens"])
    order_return = receive_return(
        order=collected, store=returns_store, lines=[mittens(collected, to_inspect=1)], by=sigga
    )

    # then it is refunded but not on sale, and the return stays open
    assert order_return.status == ReturnStatus.REFUNDED
    assert on_hand(returns_store, products["mittens"]) == before
    assert StockMovement.objects.get().kind == MovementKind.HELD

    # when Sigga finds it fine
    decide_inspection(return_line=order_return.lines.get(), resellable=1, damaged=0, by=sigga)

    # then it is on sale at Kringlan and the return is closed
    assert on_hand(returns_store, products["mittens"]) == before + 1
    order_return.refresh_from_db()
    assert order_return.status == ReturnStatus.CLOSED
    with pytest.raises(ReturnRefused, match="wait for inspection"):
        decide_inspection(return_line=order_return.lines.get(), resellable=1, damaged=0, by=sigga)


def test_more_than_was_bought_is_refused_and_nothing_is_written(collected, sigga, returns_store):
    with pytest.raises(ReturnRefused, match="2 units can be returned, not 3"):
        receive_return(order=collected, store=returns_store, lines=[mittens(collected, resellable=3)], by=sigga)
    assert nothing_written()

    # and once both are back, none is left to return
    receive_return(order=collected, store=returns_store, lines=[mittens(collected, resellable=2)], by=sigga)
    with pytest.raises(ReturnRefused, match="Lopi mittens"):
        receive_return(order=collected, store=returns_store, lines=[mittens(collected, resellable=1)], by=sigga)
    assert Refund.objects.count() == 1


def test_a_tampered_amount_is_refused_and_nothing_is_written(collected, sigga, returns_store):
    # when the confirmation posts another refund than the server's (ISK 3,990 for one pair)
    with pytest.raises(ReturnRefused, match="is ISK.3,990, not ISK.39,990"):
        receive_return(
            order=collected,
            store=returns_store,
            lines=[mittens(collected, resellable=1)],
            by=sigga,
            expected_amount=Decimal("39990"),
        )
    assert nothing_written()
    assert Payment.objects.get(order=collected).refunded_amount == 0


def test_a_store_that_does_not_take_returns_or_is_not_yours_is_refused(collected, sigga, returns_store, pickup_store):
    with pytest.raises(ReturnRefused, match="only at your own stores"):
        receive_return(order=collected, store=pickup_store, lines=[mittens(collected, resellable=1)], by=sigga)
    returns_store.accepts_returns = False
    returns_store.save()
    with pytest.raises(ReturnRefused, match="does not take returns"):
        receive_return(order=collected, store=returns_store, lines=[mittens(collected, resellable=1)], by=sigga)
    assert nothing_written()


def test_after_the_window_only_a_recorded_override_takes_it_back(collected, sigga, returns_store, settings):
    # given the shop's window is 30 days and Anna comes on the 31st
    later = timezone.now() + datetime.timedelta(days=31)

    # when Sigga records it without a reason, it is refused, nothing written
    with pytest.raises(ReturnRefused, match="return period of order .* ended"):
        receive_return(
            order=collected, store=returns_store, lines=[mittens(collected, resellable=1)], by=sigga, now=later
        )
    assert nothing_written()

    # when she gives the reason, it is taken back, and who and why are recorded
    order_return = receive_return(
        order=collected,
        store=returns_store,
        lines=[mittens(collected, resellable=1)],
        by=sigga,
        now=later,
        override_reason="Seam came apart, goodwill",
    )
    assert (order_return.window_overridden_by, order_return.window_override_reason) == (
        sigga,
        "Seam came apart, goodwill",
    )
    assert order_return.events.filter(note__contains="Seam came apart").exists()


def test_an_order_paid_online_always_gets_the_14_day_withdrawal_period(collected, till_order, pickup_manager, settings):
    # given the shop's own window is only 7 days
    settings.RETURN_WINDOW_DAYS = 7
    collect(till_order, pickup_manager, till_receipt_number="4711")

    # then the order paid online still has 14 days from pickup, the one paid at the till 7
    online, at_till = return_window(collected), return_window(till_order)
    assert (online.days, online.last_day - online.collected_on) == (14, datetime.timedelta(days=14))
    assert (at_till.days, at_till.last_day - at_till.collected_on) == (7, datetime.timedelta(days=7))


def test_a_till_payment_is_refunded_at_the_till_with_its_return_receipt(
    till_order, pickup_manager, sigga, returns_store
):
    # given Anna paid at the till when she collected
    collect(till_order, pickup_manager, till_receipt_number="4711")

    # when Sigga takes the sweater back without the till's number, it is refused, nothing written
    sweater = LineToReturn(
        order_line_id=line_of(till_order, "Hekla lopapeysa").pk, quantity=1, reason=ReturnReason.FAULTY, damaged=1
    )
    with pytest.raises(ReturnRefused, match="paid at the till"):
        receive_return(order=till_order, store=returns_store, lines=[sweater], by=sigga)
    assert nothing_written()

    # with it, the refund is recorded with the till's return receipt
    order_return = receive_return(
        order=till_order, store=returns_store, lines=[sweater], by=sigga, till_receipt_number="k2-88"
    )
    assert (order_return.status, order_return.refund.till_receipt_number) == (ReturnStatus.CLOSED, "K2-88")
    assert order_return.receipt.refunded_to == "till"


def test_store_credit_only_when_chosen_with_its_expiry(collected, sigga, returns_store):
    order_return = receive_return(
        order=collected,
        store=returns_store,
        lines=[mittens(collected, resellable=1)],
        by=sigga,
        resolution=Resolution.STORE_CREDIT,
    )
    credit = StoreCredit.objects.get()
    assert (credit.order_return, credit.amount, credit.currency) == (order_return, Decimal("3990"), "ISK")
    assert credit.expires_at.year == credit.issued_at.year + 3
    # no money went back to the card
    assert Payment.objects.get(order=collected).refunded_amount == 0
    assert order_return.receipt.refunded_to == "store_credit"


def test_a_failed_refund_stays_pending_and_is_retried_once(order, pickup_manager, sigga, returns_store):
    # given Anna paid with a provider whose gateway is down for the next refund
    collect(order, pickup_manager, variant="flaky")
    FlakyProvider.failures = 1

    # when Sigga takes a pair of mittens back
    order_return = receive_return(order=order, store=returns_store, lines=[mittens(order, resellable=1)], by=sigga)

    # then the units are back, the refund is pending with the error, nothing was refunded
    assert order_return.status == ReturnStatus.REFUND_PENDING
    assert "gateway is down" in order_return.last_refund_error
    assert Refund.objects.count() == 0 and ReturnReceipt.objects.count() == 0

    # when beat's sweep comes round (twice), the refund is made once
    assert retry_pending_refunds() == 1
    assert retry_pending_refunds() == 0
    order_return.refresh_from_db()
    assert order_return.status == ReturnStatus.CLOSED
    assert Payment.objects.get(order=order).refunded_amount == Decimal("3990")
    assert Refund.objects.count() == 1 and ReturnReceipt.objects.count() == 1


def test_the_shopper_starts_a_return_and_gets_its_code_once(collected, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order_return = request_return(
            order=collected,
            lines=[
                LineToReturn(
                    order_line_id=line_of(collected, "Hekla lopapeysa").pk,
                    quantity=1,
                    reason=ReturnReason.OTHER,
                    reason_note="Too warm",
                )
            ],
            resolution=Resolution.ORIGINAL_PAYMENT,
        )
    assert order_return.status == ReturnStatus.REQUESTED and order_return.code.startswith("R")
    assert [message.subject for message in mail.outbox if order_return.code in message.subject] == [
        f"Your return {order_return.code} for order {collected.number}"
    ]
    assert order_return.code in mail.outbox[-1].body

    # and the sweater cannot be asked for twice
    with pytest.raises(ReturnRefused, match="Hekla lopapeysa: 0 units"):
        request_return(
            order=collected,
            lines=[
                LineToReturn(
                    order_line_id=line_of(collected, "Hekla lopapeysa").pk, quantity=1, reason=ReturnReason.FAULTY
                )
            ],
            resolution=Resolution.ORIGINAL_PAYMENT,
        )


def test_other_needs_words_and_an_uncollected_order_cannot_be_returned(order, collected):
    other = LineToReturn(order_line_id=line_of(collected, "Lopi mittens").pk, quantity=1, reason=ReturnReason.OTHER)
    with pytest.raises(ReturnRefused, match="Say in a few words"):
        request_return(order=collected, lines=[other], resolution=Resolution.ORIGINAL_PAYMENT)
    assert nothing_written()


def test_the_refund_takes_off_the_lines_share_of_an_order_discount(collected):
    # given ISK 2,997 was taken off the order's total (10 % of ISK 29,970 of lines: an order reward)
    lines = list(collected.lines.order_by("pk"))
    collected.total = Decimal("29973")
    sweater, mittens_line = lines

    # then one pair of mittens gives back its price less its share: 3,990 - 2,997 × 7,980 / 32,970 / 2
    assert refund_value(collected, mittens_line, 1, lines=lines) == Decimal("3627")
    assert refund_value(collected, sweater, 1, lines=lines) == Decimal("22718")
