"""What the payment app does when other apps (or its own services) say so; connected in
PaymentConfig.ready."""

from django.dispatch import receiver

from orders.signals import order_cancelled

from .models import Payment
from .signals import settlement_due
from .tasks import settle_order_payments


@receiver(order_cancelled, dispatch_uid="payment.settle_cancelled_order")
def settle_cancelled_order(sender, *, order_id: int, by_id: int | None = None, **kwargs) -> None:
    """Every cancelled order (the store, the shopper, not collected, an ended payment hold)
    settles its payments: a task, after the cancellation committed, retried while a provider
    fails; each change is recorded as done by whoever cancelled (`by_id`, a user's id), else by
    the shop. Orders paid at pickup have no payments and queue nothing."""
    if Payment.objects.filter(order_id=order_id).exists():
        settle_order_payments.delay(order_id=order_id, by_id=by_id)


@receiver(settlement_due, dispatch_uid="payment.settlement_due")
def settle_when_due(sender, *, order_id: int, **kwargs) -> None:
    settle_order_payments.delay(order_id=order_id)
