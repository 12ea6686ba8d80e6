"""Reads of a placed order that combine the apps below checkout (coupons, rewards)."""

from decimal import Decimal

from coupons.models import Redemption, RedemptionStatus
from orders.models import Order
from rewards.services import redeemed_on


def order_discounts(order: Order) -> dict | None:
    """What the order's lines come to before their discounts, and what the discounts came from:
    its coupon (the code in the one form the shop made it, CouponCode.display, as the checkout
    and the till print it, and what it took off) and the points redeemed with it. The order
    page and the order's e-mails both show it (O2O_ORDER_EMAIL_DISCOUNTS), so they agree. No
    query for an order without a discount whose lines are read already; two for one with."""
    if not any(line.discount for line in order.lines.all()):
        return None
    redemption = Redemption.objects.filter(order=order, status=RedemptionStatus.REDEEMED).select_related("code").first()
    points = redeemed_on(order)
    return {
        # What the lines come to before the discounts: the rows beneath add up to the total.
        "before_discounts": sum((line.line_total + line.discount for line in order.lines.all()), Decimal("0")),
        "coupon_code": redemption.code.display if redemption else "",
        "coupon_amount": redemption.discount if redemption else None,
        "points": points or None,
    }
