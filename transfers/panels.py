"""The transfers' part of the shopper's order page (checkout's), declared in
O2O_ORDER_PAGE_PANELS: for an order sent to its store from another location, where the goods are
("on its way to Kringlan from Smáralind, expected Thursday 3 December", "arrived at Kringlan").
One query (the order's transfers with their stores)."""

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from orders.models import Order

from .selectors import transfers_of_order


def order_transfer_panel(request: HttpRequest, order: Order) -> SafeString:
    transfers = transfers_of_order(order)
    if not transfers:
        return SafeString("")
    return render_to_string(
        "transfers/includes/order_transfers.html", {"order": order, "transfers": transfers}, request=request
    )
