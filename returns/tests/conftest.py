"""Anna's order, placed at Laugavegur, paid online with the Dummy provider and collected there;
Kringlan, another store, takes returns and is run by Sigga."""

import contextlib
from decimal import Decimal

import pytest
from payments import RedirectNeeded
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from checkout.handover import hand_over
from orders.tests.factories import place_order
from payment.models import Payment
from payment.services import Actor, payment_form
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

DUMMY = ("payments.dummy.DummyProvider", {"capture": False})
FLAKY = ("payment.tests.flaky_provider.FlakyProvider", {"capture": False})


@pytest.fixture(autouse=True)
def payment_variants(settings):
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY, "flaky": FLAKY}
    PROVIDER_CACHE.clear()
    yield settings.PAYMENT_VARIANTS
    PROVIDER_CACHE.clear()


@pytest.fixture
def pickup_store(db):
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def returns_store(db):
    return StoreFactory(name="Kringlan")


@pytest.fixture
def products(pickup_store, returns_store):
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"))
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("3990"))
    for product in (sweater, mittens):
        StockLevelFactory(store=pickup_store, product=product, on_hand=5)
    StockLevelFactory(store=returns_store, product=mittens, on_hand=2)
    return {"sweater": sweater, "mittens": mittens}


@pytest.fixture
def pickup_manager(pickup_store):
    return StoreManagerFactory(stores=[pickup_store])


@pytest.fixture
def sigga(returns_store):
    """The manager of Kringlan, not of the store the order was picked up at."""
    return StoreManagerFactory(stores=[returns_store], first_name="Sigga")


def pay_online(order, *, variant="dummy"):
    """The shopper completes the Dummy form of her order's payment attempt (with `variant`)."""
    payment = order.payments.get()
    if payment.variant != variant:
        Payment.objects.filter(pk=payment.pk).update(variant=variant)
        payment.refresh_from_db()
    with contextlib.suppress(RedirectNeeded):
        payment_form(
            payment=payment,
            data={"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"},
            by=Actor.shopper(),
        )
    payment.refresh_from_db()
    assert payment.status == "preauth"
    return payment


def collect(order, by, *, variant="dummy", till_receipt_number=""):
    """`order` paid (online with `variant`, or at the till) and handed over in full."""
    if not till_receipt_number:
        pay_online(order, variant=variant)
    mark_ready_for_pickup(order=order)
    hand_over(order=order, code=pickup_of(order).code, by=by, till_receipt_number=till_receipt_number)
    order.refresh_from_db()
    return order


@pytest.fixture
def order(pickup_store, products):
    """Anna's order, to pay online: a sweater (ISK 24,990) and two pairs of mittens (ISK 3,990 each)."""
    return place_order(
        store=pickup_store,
        products_and_quantities=[(products["sweater"], 1), (products["mittens"], 2)],
        payment="dummy",
    )


@pytest.fixture
def till_order(pickup_store, products):
    """The same order, to pay at pickup (at the till)."""
    return place_order(store=pickup_store, products_and_quantities=[(products["sweater"], 1), (products["mittens"], 2)])


@pytest.fixture
def collected(order, pickup_manager):
    """Anna's order paid online (ISK 32,970 captured at hand-over) and collected at Laugavegur."""
    return collect(order, pickup_manager)


def line_of(order, name):
    return order.lines.get(product_name=name)
