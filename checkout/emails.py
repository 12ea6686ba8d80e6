"""The "order received" e-mail of any order: the pickup app's (the code and the pickup time) or
the delivery app's (the address and the window), whichever way the order reaches the shopper.
Neither app knows the other, so the choice is made here, a layer above both. A split order's
e-mail is its pickup part's (the code and time) and lists every part: where each goes, its
window or time, and its lines."""

from django.core.mail import EmailMultiAlternatives

from delivery import emails as delivery_emails
from delivery.selectors import delivery_of
from orders.models import Fulfilment, FulfilmentMethod, Order
from orders.selectors import order_parts
from pickup import emails as pickup_emails
from shipping import emails as shipping_emails
from shipping.selectors import shipment_of


def order_received_email(order: Order) -> EmailMultiAlternatives:
    if order.is_split:
        parts = order_parts(order)
        if any(part.fulfilment.is_pickup for part in parts):
            return pickup_emails.order_received_email(
                order,
                parts={
                    "parts": parts,
                    "part_count": len(parts),
                    "part_delivery": delivery_of(order),
                    "part_shipment": shipment_of(order),
                },
            )
    method = Fulfilment.objects.filter(order=order).values_list("method", flat=True).first()
    if method == FulfilmentMethod.LOCAL_DELIVERY:
        return delivery_emails.order_received_email(order)
    if method == FulfilmentMethod.SHIPPING:
        return shipping_emails.order_received_email(order)
    return pickup_emails.order_received_email(order)
