"""The receipt e-mail: sent once per order through the outbox (NotificationKind.RECEIPT, declared
in O2O_NOTIFICATION_EMAILS) when payment.receipts.issue_receipt issues the order's receipt, in the
order's language, with the receipt itself and the link to its printable page."""

import functools
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.emails import render_email
from orders.models import Order

from .models import TILL_VARIANT, Refund
from .receipts import provider_label, receipt_context, receipts_with_lines


def receipt_email(order: Order) -> EmailMultiAlternatives:
    receipts = list(receipts_with_lines().filter(order=order).order_by("number"))
    if not receipts:
        raise LookupError(f"order {order.number} has no receipt to send")
    return render_email(
        order,
        template="payment/email/receipt",
        subject=lambda: _("Your receipt for order %(number)s") % {"number": order.number},
        context={"receipts": [receipt_context(receipt) for receipt in receipts]},
    )


def refund_email(order: Order, *, reference: str) -> EmailMultiAlternatives:
    """Money given back without a return (payment.services.refund_order; `reference` is the
    Refund's id): how much, for what and why, where it goes and when it shows there. The staff's
    note is not sent: it is staff's own (the refund screen says so), as Shopify's refund reason is."""
    refund = Refund.objects.select_related("payment").get(order=order, pk=int(reference))
    at_till = refund.payment.variant == TILL_VARIANT
    return render_email(
        order,
        template="payment/email/refund",
        subject=lambda: _("Your refund for order %(number)s") % {"number": order.number},
        context={
            "refund": refund,
            "lines": list(refund.lines.select_related("order_line").order_by("order_line_id")),
            "at_till": at_till,
            # The reward points the refunded items earned, taken back, and those they redeemed,
            # given back: the shopper's balance drops, and the e-mail says why.
            "points": _points_of_refund()(order, refund.pk),
            # Lazy, as provider_label is: render_email translates it in the order's language, not
            # in the language of the member of staff whose refund queued the e-mail.
            "refunded_to": gettext_lazy("at the till") if at_till else provider_label(refund.payment.variant),
        },
    )


@functools.cache
def _points_of_refund() -> Callable[[Order, int], dict | None]:
    return import_string(settings.O2O_REFUND_EMAIL_POINTS)
