"""The returns' part of the shopper's order page (checkout's), declared in O2O_ORDER_PAGE_PANELS:
each return with what was refunded and when (and its receipt), and "Return items" while the
order has units that may still be brought back within the window.

One query for an order that was not collected or delivered (its returns), one more for one that
was (what was handed over, and when), and one for the returns' lines when it has returns."""

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from orders.models import Order, OrderStatus

from .policy import may_start_a_return
from .selectors import returns_of

# Orders the shopper has in hand: collected at a store, or delivered to the door.
HANDED_OVER = (OrderStatus.COLLECTED, OrderStatus.DELIVERED)


def order_returns_panel(request: HttpRequest, order: Order) -> SafeString:
    returns = returns_of(order)
    may_return = order.status in HANDED_OVER and may_start_a_return(order, returns)
    if not returns and not may_return:
        return SafeString("")
    return render_to_string(
        "returns/includes/order_returns.html",
        {"order": order, "returns": returns, "may_return": may_return},
        request=request,
    )
