"""The returns' e-mails to the shopper, declared in O2O_NOTIFICATION_EMAILS and sent once each
through the outbox (orders.notifications), in the order's language: the return started online
(its code to show at a store), and the return receipt once the money went back. One of each per
return: the notification's reference is the return's code."""

from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

from orders.emails import render_email
from orders.models import Order

from .models import Return
from .receipts import return_receipt_context, return_receipts_with_lines
from .selectors import return_page_link


def return_requested_email(order: Order, *, reference: str) -> EmailMultiAlternatives:
    order_return = Return.objects.prefetch_related("lines__order_line").get(order=order, code=reference)
    return render_email(
        order,
        template="returns/email/return_requested",
        subject=lambda: _("Your return %(code)s for order %(number)s") % {"code": reference, "number": order.number},
        context={"order_return": order_return, "return_link": return_page_link(order_return)},
    )


def return_receipt_email(order: Order, *, reference: str) -> EmailMultiAlternatives:
    receipt = return_receipts_with_lines().get(order=order, order_return__code=reference)
    return render_email(
        order,
        template="returns/email/return_receipt",
        subject=lambda: _("Your return receipt for order %(number)s") % {"number": order.number},
        context={"view": return_receipt_context(receipt)},
    )
