"""What orders tells the apps above it, after the change is committed.

`order_cancelled(order_id=…, reason=…)` is sent once per cancellation, after the transaction that
cancelled the order commits, whichever way it was cancelled (orders.services.cancel_order is the
one way): the store, the shopper, "not collected in time", an ended payment hold. The payment app
receives it and settles the order's payments (payment.receivers).

`order_completed(order_id=…, status=…)` is sent after the transaction that moved an order to
collected, delivered or shipped commits (orders.services.transition_order): its goods are the
shopper's now. The rewards app receives it and the order's member earns (rewards.receivers).

`goods_refunded(order_id=…, units={order line id: units}, by=…, refund_id=…)` is sent by
payment.services.refund_order, in the refund's transaction, for a refund of units handed over that
no return took back (a return reverses its own units when it is received): the rewards app takes
back what those units earned and gives back what they redeemed, in that transaction, once per
refund, naming the refund (payment.Refund's id) so the refund's e-mail can tell the points.
"""

from django.dispatch import Signal

order_cancelled = Signal()
order_completed = Signal()
goods_refunded = Signal()
