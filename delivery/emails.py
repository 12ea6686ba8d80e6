"""The delivery e-mails: order received (with the address and the window), out for delivery
(it has left the store, with the window; once per attempt) and delivered.

Declared in O2O_NOTIFICATION_EMAILS (settings; "order received" through checkout.emails, which
picks the pickup or the delivery one) and sent through the outbox (orders.notifications), once
each, rendered in the order's language by orders.emails.render_email.
"""

from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

from orders.emails import lines_of_part, render_email
from orders.models import Order

from .selectors import delivery_of


def order_received_email(order: Order) -> EmailMultiAlternatives:
    return render_email(
        order,
        template="delivery/email/order_received",
        subject=lambda: _("We have received your order %(number)s") % {"number": order.number},
        context={"delivery": delivery_of(order), **lines_of_part(order, None)},
    )


def _part(order: Order) -> dict:
    """The delivery, the lines it carries (of a split order: its part only) and the store whose
    van brings it (a split order's is not the order's own store)."""
    delivery = delivery_of(order)
    context = {"delivery": delivery, **lines_of_part(order, delivery.fulfilment if delivery else None)}
    if delivery is not None and order.is_split:
        context["store"] = delivery.store
    return context


def out_for_delivery_email(order: Order, *, reference: str = "") -> EmailMultiAlternatives:
    """`reference`: the delivery's attempt (Delivery.attempt) the van went out on; empty on a
    notification written before attempts were counted. The e-mail names the window booked now."""
    return render_email(
        order,
        template="delivery/email/out_for_delivery",
        subject=lambda: _("Your order %(number)s is on its way") % {"number": order.number},
        context=_part(order),
    )


def delivered_email(order: Order) -> EmailMultiAlternatives:
    return render_email(
        order,
        template="delivery/email/delivered",
        subject=lambda: _("Your order %(number)s has been delivered") % {"number": order.number},
        context=_part(order),
    )
