"""The "order received" e-mail of any order: the pickup app's (the code and the pickup time) or
the delivery app's (the address and the window), whichever way the order reaches the shopper.
Neither app knows the other, so the choice is made here, a layer above both."""

from django.core.mail import EmailMultiAlternatives

from delivery import emails as delivery_emails
from orders.models import Fulfilment, FulfilmentMethod, Order
from pickup import emails as pickup_emails
from shipping import emails as shipping_emails


def order_received_email(order: Order) -> EmailMultiAlternatives:
    method = Fulfilment.objects.filter(order=order).values_list("method", flat=True).first()
    if method == FulfilmentMethod.LOCAL_DELIVERY:
        return delivery_emails.order_received_email(order)
    if method == FulfilmentMethod.SHIPPING:
        return shipping_emails.order_received_email(order)
    return pickup_emails.order_received_email(order)
