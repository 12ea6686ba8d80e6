"""The "shipped" e-mail: the carrier and its tracking number, and where the parcel goes. Declared in
O2O_NOTIFICATION_EMAILS and sent through the outbox, in the order's language."""

from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

from orders.emails import lines_of_part, render_email
from orders.models import Order

from .models import Shipment


def shipped_email(order: Order) -> EmailMultiAlternatives:
    shipment = Shipment.objects.get(fulfilment__order=order)
    return render_email(
        order,
        template="shipping/email/shipped",
        subject=lambda: _("Your order %(number)s is on its way") % {"number": order.number},
        context={"shipment": shipment, **lines_of_part(order, shipment.fulfilment)},
    )


def order_received_email(order: Order) -> EmailMultiAlternatives:
    """What was ordered, the address it is shipped to and the fee; the tracking number follows
    when it leaves (shipped_email)."""
    return render_email(
        order,
        template="shipping/email/order_received",
        subject=lambda: _("We have received your order %(number)s") % {"number": order.number},
        context={"shipment": Shipment.objects.get(fulfilment__order=order)},
    )
