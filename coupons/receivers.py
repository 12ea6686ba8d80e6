"""What the coupons app does when other apps say so; connected in CouponsConfig.ready."""

from django.dispatch import receiver

from orders.signals import order_cancelled

from .services import release_order_redemptions


@receiver(order_cancelled, dispatch_uid="coupons.release_cancelled_order")
def release_cancelled_order(sender, *, order_id: int, **kwargs) -> None:
    """A cancelled order (any way: the store, the shopper, not collected, its payment not
    completed in time) gives back the coupon use it held, once the cancellation is committed."""
    release_order_redemptions(order_id=order_id)
