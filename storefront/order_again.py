"""Ordering again from the order history: what an earlier order held goes back in the cart.

Here, at the top, because it composes two apps: the order's lines (orders) and the cart
(checkout). "Still sold" means the product is still on sale; whether my store has the units is
the cart's and the checkout's question, as for anything else put in the cart."""

from dataclasses import dataclass

from checkout.cart import Cart
from orders.models import Order, OrderLine


@dataclass(frozen=True)
class OrderAgain:
    added: list[OrderLine]
    not_sold: list[OrderLine]

    @property
    def added_units(self) -> int:
        return sum(line.quantity for line in self.added)


def put_order_in_cart(*, order: Order, cart: Cart) -> OrderAgain:
    """Add each line's quantity of a product still sold to what the cart holds: one query."""
    added, not_sold = [], []
    for line in order.lines.select_related("product__parent").order_by("pk"):
        if line.product is not None and line.product.is_for_sale:
            cart.set(line.product_id, cart.quantity_of(line.product_id) + line.quantity)
            added.append(line)
        else:
            not_sold.append(line)
    return OrderAgain(added=added, not_sold=not_sold)
