"""What the transfers app does when orders says so; connected in TransfersConfig.ready."""

from django.dispatch import receiver

from accounts.models import User
from orders.signals import order_cancelled

from .services import cancel_transfers_of_order


@receiver(order_cancelled, dispatch_uid="transfers.cancel_transfers_of_cancelled_order")
def cancel_transfers_of_cancelled_order(sender, *, order_id: int, by_id: int | None = None, **kwargs) -> None:
    """A cancelled order's transfers not yet sent are cancelled (their units back on sale at the
    source), after the cancellation committed; those on their way are received as usual."""
    by = User.objects.filter(pk=by_id).first() if by_id else None
    cancel_transfers_of_order(order_id=order_id, by=by)
