from decimal import Decimal

import pytest
from payments.core import PROVIDER_CACHE

from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from stores.tests.factories import StockLevelFactory, StoreFactory

from .vipps_standin import VippsStandIn

DUMMY = ("payments.dummy.DummyProvider", {"capture": False})


@pytest.fixture(autouse=True)
def payment_variants(settings):
    """The Dummy provider, as `make run` has it; django-payments keeps one provider per variant
    name for the whole process, so each test starts with none."""
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    PROVIDER_CACHE.clear()
    yield settings.PAYMENT_VARIANTS
    PROVIDER_CACHE.clear()


@pytest.fixture
def order(db):
    """Anna's order for one sweater (ISK 24,990) and two pairs of mittens (ISK 3,990 each)."""
    store = StoreFactory(name="Laugavegur")
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"))
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("3990"))
    StockLevelFactory(store=store, product=sweater, on_hand=5)
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    return place_order(store=store, products_and_quantities=[(sweater, 1), (mittens, 2)])


@pytest.fixture
def vipps(settings, payment_variants):
    """The Vipps stand-in, running, and the shop's "vipps" variant pointed at it."""
    standin = VippsStandIn(
        client_id="test-client",
        client_secret="test-secret",
        subscription_key="test-subscription",
        msn="123456",
        webhook_secret="test-webhook-secret",
    ).start()
    payment_variants["vipps"] = (
        "payment.vipps.VippsProvider",
        {
            "client_id": "test-client",
            "client_secret": "test-secret",
            "subscription_key": "test-subscription",
            "merchant_serial_number": "123456",
            "webhook_secret": "test-webhook-secret",
            "api_url": standin.url,
            "timeout": 5,
        },
    )
    PROVIDER_CACHE.clear()
    yield standin
    standin.stop()


@pytest.fixture
def nok_order(settings, db):
    """An order in an Oslo store, in kroner: Vipps takes NOK."""
    settings.SHOP_CURRENCY = "NOK"
    store = StoreFactory(name="Grünerløkka", country="NO", city="Oslo", time_zone="Europe/Oslo")
    sweater = ProductFactory(name="Kofte", price=Decimal("1299.50"))
    StockLevelFactory(store=store, product=sweater, on_hand=5)
    return place_order(store=store, products_and_quantities=[(sweater, 2)])
