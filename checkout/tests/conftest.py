"""Fixtures of the split-order tests (test_split_order*.py), shared by their modules."""

import datetime
from decimal import Decimal

import pytest
from payments.core import PROVIDER_CACHE

from catalog.tests.factories import ProductFactory
from delivery.tests.factories import DeliveryZoneFactory, evening_windows
from payment.tests.factories import DUMMY
from pickup.tests.factories import PickupSettingsFactory
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory


@pytest.fixture
def split_payment_provider(settings):
    """Online payment with the Dummy provider (a split order is paid online)."""
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    settings.SHOP_PAYMENT_OPTIONS = "both"
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


@pytest.fixture
def split_world():
    """Kringlan has the sweater and the mittens, not the boots; Laugavegur delivers the boots to
    101 in the evening (fee ISK 990); the warehouse ships them."""
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík")
    kringlan = StoreFactory(name="Kringlan", slug="kringlan")
    PickupSettingsFactory(store=kringlan)
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    DeliveryZoneFactory(store=laugavegur, name="Miðbær", postcodes="101-108", fee=Decimal("990"), lead_time_minutes=30)
    evening_windows(laugavegur, capacity=2, starts=datetime.time(20), ends=datetime.time(22), cutoff=datetime.time(20))
    sweater = ProductFactory(name="Hekla lopapeysa", sku="HEKLA-1", price=Decimal("24990"), weight_grams=900)
    mittens = ProductFactory(name="Lopi mittens", sku="LOPI-1", price=Decimal("3990"), weight_grams=150)
    boots = ProductFactory(name="Gúmmístígvél", sku="BOOT-1", price=Decimal("12990"), weight_grams=1500)
    StockLevelFactory(store=kringlan, product=sweater, on_hand=3)
    StockLevelFactory(store=kringlan, product=mittens, on_hand=3)
    StockLevelFactory(store=laugavegur, product=boots, on_hand=1)
    return {"kringlan": kringlan, "laugavegur": laugavegur, "sweater": sweater, "mittens": mittens, "boots": boots}
