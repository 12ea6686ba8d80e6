"""A Reykjavík shop for transfer tests: Kringlan lacks the shopper's size, Smáralind has it."""

from decimal import Decimal

from catalog.tests.factories import ProductFactory
from checkout.services import ConfirmedCheckout, place_transfer_order
from orders.services import Contact
from stores.tests.factories import StockLevelFactory, StoreFactory


def reykjavik_shop(*, units_at_smaralind: int = 3):
    kringlan = StoreFactory(name="Kringlan", slug="kringlan")
    smaralind = StoreFactory(name="Smáralind", slug="smaralind", postcode="201", city="Kópavogur")
    boots = ProductFactory(name="Rain boots, size 38", sku="BOOT-38", price=Decimal("12990"))
    StockLevelFactory(store=smaralind, product=boots, on_hand=units_at_smaralind)
    return kringlan, smaralind, boots


def order_by_transfer(*, destination, product, quantity=1, source=None, email="anna@example.com", **extra):
    """A real order sent to `destination` by transfer, through the checkout service."""
    return place_transfer_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={product.pk: quantity},
            store=destination,
            contact=Contact(name="Anna Jónsdóttir", email=email, phone="+354 555 1234"),
            **extra,
        ),
        source=source,
    )
