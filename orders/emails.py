"""The order's own e-mails to the shopper, whatever the way it reaches them: received, cancelled.

Declared in O2O_NOTIFICATION_EMAILS (settings) and sent through the outbox
(orders.notifications). Each builder takes the order and returns the message, written in the
order's language; fulfilment apps build theirs with render_email (pickup.emails).
"""

from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Order


def render_email(order: Order, *, template: str, subject: Callable[[], str], context=None) -> EmailMultiAlternatives:
    """`template`.txt and `template`.html rendered in the order's language, with the order, its
    store and its link; `subject` is a callable so it is translated in that language too."""
    with translation.override(order.language):
        context = {
            "order": order,
            "store": order.store,
            "order_link": order.absolute_link(),
            "shop_name": settings.SHOP_NAME,
            **(context or {}),
        }
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
        subject = subject()
    message = EmailMultiAlternatives(subject=subject, body=text, to=[order.contact_email])
    message.attach_alternative(html, "text/html")
    return message


def order_received_email(order: Order) -> EmailMultiAlternatives:
    return render_email(
        order,
        template="orders/email/order_received",
        subject=lambda: _("We have received your order %(number)s") % {"number": order.number},
    )


def order_cancelled_email(order: Order) -> EmailMultiAlternatives:
    return render_email(
        order,
        template="orders/email/order_cancelled",
        subject=lambda: _("Your order %(number)s was cancelled") % {"number": order.number},
    )
