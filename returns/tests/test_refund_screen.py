"""The admin's refund screen (backoffice) and the returns give money back for the same units at
most once: units a return took back as store credit, in an exchange or with a refund still pending
are not offered there and are refused by payment.services.refund_order; units refunded there first
give nothing again through a return, whatever the shopper asks for."""

from decimal import Decimal

import pytest
from django.urls import reverse

from payment.models import Payment, Refund, RefundReason
from payment.services import RefundRefused, refund_order
from payment.tests.flaky_provider import FlakyProvider
from returns.models import Resolution, Return, ReturnStatus, StoreCredit
from returns.scheduled import retry_pending_refunds
from returns.services import LineToReturn, ReturnRefused, receive_return

from .conftest import collect, line_of

pytestmark = pytest.mark.django_db


def refund_url(order):
    return reverse("admin:orders_order_refund", args=[order.pk])


def both_mittens(order, **conditions):
    return LineToReturn(
        order_line_id=line_of(order, "Lopi mittens").pk, quantity=2, reason="does_not_fit", **conditions
    )


@pytest.mark.parametrize("resolution", [Resolution.STORE_CREDIT, Resolution.ORIGINAL_PAYMENT])
def test_units_a_return_gave_back_are_not_offered_or_refunded_again_on_the_refund_screen(
    client, collected, pickup_manager, sigga, returns_store, resolution
):
    # given Anna returned both pairs of mittens at Kringlan (as store credit, or to her card)
    receive_return(
        order=collected,
        store=returns_store,
        lines=[both_mittens(collected, resellable=2)],
        by=sigga,
        resolution=resolution,
    )
    refunds_before = Refund.objects.count()
    mittens_line = line_of(collected, "Lopi mittens")
    client.force_login(pickup_manager)

    # when the Laugavegur manager opens the order's refund screen and posts the mittens anyway
    screen = client.get(refund_url(collected))
    posted = client.post(refund_url(collected), {f"line-{mittens_line.pk}": "2", "reason": "returned"})

    # then the mittens are not offered (the sweater still is), the post is refused, nothing refunded
    offered = [line.product_name for line, _left, _field in screen.context["form"].quantity_fields()]
    assert offered == ["Hekla lopapeysa"]
    assert posted.status_code == 200 and posted.context["form"].errors
    assert Refund.objects.count() == refunds_before
    # and the service refuses it too, whoever calls it
    with pytest.raises(RefundRefused, match="Lopi mittens: 0 can be refunded, not 1"):
        refund_order(order=collected, lines={mittens_line.pk: 1}, reason=RefundReason.RETURNED, by=pickup_manager)
    assert Refund.objects.count() == refunds_before


def test_units_whose_return_refund_is_pending_are_kept_for_that_refund(
    client, order, pickup_manager, sigga, returns_store
):
    # given Anna's mittens were taken back while her provider's gateway was down
    collect(order, pickup_manager, variant="flaky")
    FlakyProvider.failures = 1
    order_return = receive_return(order=order, store=returns_store, lines=[both_mittens(order, resellable=2)], by=sigga)
    assert order_return.status == ReturnStatus.REFUND_PENDING

    # when a manager tries to refund the same mittens on the refund screen
    with pytest.raises(RefundRefused, match="Lopi mittens: 0 can be refunded, not 2"):
        refund_order(
            order=order, lines={line_of(order, "Lopi mittens").pk: 2}, reason=RefundReason.RETURNED, by=pickup_manager
        )

    # then the return's own retry still refunds them, once
    assert retry_pending_refunds() == 1
    assert Return.objects.get().status == ReturnStatus.CLOSED
    assert Payment.objects.get(order=order).refunded_amount == Decimal("7980")


@pytest.mark.parametrize("resolution", [Resolution.STORE_CREDIT, Resolution.ORIGINAL_PAYMENT])
def test_units_refunded_on_the_screen_give_nothing_again_through_a_return(
    collected, pickup_manager, sigga, returns_store, resolution
):
    # given a manager refunded one pair of mittens on the refund screen
    mittens_line = line_of(collected, "Lopi mittens")
    refund_order(order=collected, lines={mittens_line.pk: 1}, reason=RefundReason.FAULTY, by=pickup_manager)

    # when Anna brings both pairs back, for store credit or to her card
    with pytest.raises(ReturnRefused, match="Lopi mittens: 1 unit can be returned, not 2"):
        receive_return(
            order=collected,
            store=returns_store,
            lines=[both_mittens(collected, resellable=2)],
            by=sigga,
            resolution=resolution,
        )

    # then nothing was recorded; the one pair not yet refunded still can be
    assert not Return.objects.exists() and not StoreCredit.objects.exists()
    order_return = receive_return(
        order=collected,
        store=returns_store,
        lines=[LineToReturn(order_line_id=mittens_line.pk, quantity=1, reason="faulty", damaged=1)],
        by=sigga,
        resolution=resolution,
    )
    assert order_return.refund_amount == Decimal("3990")
