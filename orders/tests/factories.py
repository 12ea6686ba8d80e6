from checkout.services import ConfirmedCheckout, place_pickup_order
from orders.services import Contact


def place_order(*, store, products_and_quantities, customer=None, email="anna@example.com", **extra):
    """A real order, placed through the checkout service (stock must be there).

    `extra` goes to ConfirmedCheckout as it is (pickup_slot, collector_name, fulfilment…)."""
    return place_pickup_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={product.pk: quantity for product, quantity in products_and_quantities},
            store=store,
            contact=Contact(name="Anna Jónsdóttir", email=email, phone="+354 555 1234"),
            customer=customer,
            **extra,
        )
    )
