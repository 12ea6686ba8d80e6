"""The receipt e-mail: sent once per order through the outbox (NotificationKind.RECEIPT, declared
in O2O_NOTIFICATION_EMAILS) when payment.receipts.issue_receipt issues the order's receipt, in the
order's language, with the receipt itself and the link to its printable page."""

from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

from orders.emails import render_email
from orders.models import Order

from .receipts import receipt_context, receipts_with_lines


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
