"""The order's own e-mail to the shopper, whatever way it reaches them: "order cancelled", with
the reason. (E-mails that show how the goods reach the shopper — the pickup code, the booked time
— are built by the fulfilment app: pickup.emails.)

Declared in O2O_NOTIFICATION_EMAILS (settings) and sent through the outbox
(orders.notifications). Each builder takes the order and returns the message, written in the
order's language; fulfilment apps build theirs with render_email too.
"""

import functools
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .models import Fulfilment, Order, OrderLine


def render_email(order: Order, *, template: str, subject: Callable[[], str], context=None) -> EmailMultiAlternatives:
    """`template`.txt and `template`.html rendered in the order's language, with the order, its
    store and its link; `subject` is a callable so it is translated in that language too."""
    with translation.override(order.language):
        context = {
            "order": order,
            "store": order.store,
            "order_link": order.absolute_link(),
            "shop_name": settings.SHOP_NAME,
            # Its coupon and points, listed above the total as on the order page.
            "discounts": _order_discounts()(order),
            **(context or {}),
        }
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
        subject = subject()
    message = EmailMultiAlternatives(subject=subject, body=text, to=[order.contact_email])
    message.attach_alternative(html, "text/html")
    return message


@functools.cache
def _order_discounts() -> Callable[[Order], dict | None]:
    return import_string(settings.O2O_ORDER_EMAIL_DISCOUNTS)


def lines_of_part(order: Order, fulfilment: Fulfilment | None) -> dict:
    """What an e-mail about one part of `order` lists: for a split order, the lines (and fee)
    `fulfilment` carries and their total, with `in_parts` set so the e-mail says the rest comes
    separately; for an order placed whole, every line and the order's total."""
    if fulfilment is None or not order.is_split:
        return {"lines": list(order.lines.all()), "lines_total": order.total, "in_parts": False}
    lines = list(OrderLine.objects.filter(order=order, fulfilment_lines__fulfilment=fulfilment).order_by("pk"))
    return {"lines": lines, "lines_total": sum(line.line_total for line in lines), "in_parts": True}


def order_cancelled_email(order: Order) -> EmailMultiAlternatives:
    return render_email(
        order,
        template="orders/email/order_cancelled",
        subject=lambda: _("Your order %(number)s was cancelled") % {"number": order.number},
    )
