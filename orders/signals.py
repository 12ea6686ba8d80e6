"""What orders tells the apps above it, after the change is committed.

`order_cancelled(order_id=…, reason=…)` is sent once per cancellation, after the transaction that
cancelled the order commits, whichever way it was cancelled (orders.services.cancel_order is the
one way): the store, the shopper, "not collected in time", an ended payment hold. The payment app
receives it and settles the order's payments (payment.receivers).
"""

from django.dispatch import Signal

order_cancelled = Signal()
