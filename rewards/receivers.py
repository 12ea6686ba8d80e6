"""What the rewards app does when orders says so (connected in RewardsConfig.ready)."""

import logging

from django.dispatch import receiver

from orders.models import Order
from orders.signals import goods_refunded, order_cancelled, order_completed

from . import services

logger = logging.getLogger(__name__)


@receiver(order_completed, dispatch_uid="rewards.earn_on_completed_order")
def earn_on_completed_order(sender, *, order_id: int, **kwargs) -> None:
    """A handed-over, delivered or shipped order earns for its member, after the change committed.
    A failure here loses nothing: beat's daily rewards job earns for any order that missed it."""
    order = Order.objects.filter(pk=order_id).first()
    if order is not None:
        services.earn_for_order(order=order)


@receiver(order_cancelled, dispatch_uid="rewards.release_on_cancelled_order")
def release_on_cancelled_order(sender, *, order_id: int, **kwargs) -> None:
    """A cancelled order gives back the points redeemed with it at checkout."""
    order = Order.objects.filter(pk=order_id).first()
    if order is not None:
        services.release_for_order(order=order)


@receiver(goods_refunded, dispatch_uid="rewards.reverse_on_refunded_goods")
def reverse_on_refunded_goods(
    sender, *, order_id: int, units: dict[int, int], by=None, refund_id: int | None = None, **kwargs
) -> None:
    """Refunded units handed over no longer earn, nor keep the points they redeemed: reversed in
    the refund's transaction, so a refund reverses once and a failed one reverses nothing."""
    order = Order.objects.filter(pk=order_id).first()
    if order is not None:
        services.reverse_for_refund(order=order, units=units, by=by, refund_id=refund_id)
