from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from api.models import ApiChannel, ChannelKind
from api.services import create_api_key
from catalog.tests.factories import CategoryFactory, ProductFactory, sizes
from delivery.selectors import forget_directory
from delivery.tests.factories import DeliveryZoneFactory, evening_windows
from o2o_site.cache import stamps
from stores.models import SpecialOpeningHours
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory


@pytest.fixture(autouse=True)
def _fresh_directories():
    forget_directory()
    yield
    forget_directory()


def stores_changed_now():
    """A new stores stamp at once (stores.services.stores_changed waits for a commit a test never makes)."""
    cache.delete(stamps.STORES)


@pytest.fixture
def world():
    """Two Reykjavík stores and one in Oslo; a kiosk channel with the Reykjavík ones, an app
    channel with Oslo only. Mittens (no variants) and a sweater in sizes S and M."""
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík")
    PostcodeLocationFactory(
        country="IS", postcode="600", place_name="Akureyri", latitude=Decimal("65.6835"), longitude=Decimal("-18.1002")
    )
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    kringlan = StoreFactory(
        name="Kringlan", slug="kringlan", latitude=Decimal("64.130000"), longitude=Decimal("-21.894000")
    )
    oslo = StoreFactory(
        name="Grünerløkka",
        slug="grunerlokka",
        city="Oslo",
        country="NO",
        postcode="0550",
        time_zone="Europe/Oslo",
        latitude=Decimal("59.922"),
        longitude=Decimal("10.758"),
    )
    # Kringlan is closed today (a holiday): the store finder must say so.
    SpecialOpeningHours.objects.create(store=kringlan, date=timezone.now().date(), reason="Holiday")
    knitwear = CategoryFactory(name="Knitwear", slug="knitwear")
    mittens = ProductFactory(
        name="Lopi mittens", slug="lopi-mittens", sku="MIT-1", price=Decimal("4990"), category=knitwear
    )
    sweater = ProductFactory(
        name="Lopi sweater", slug="lopi-sweater", sku="SWE", price=Decimal("24990"), category=knitwear
    )
    small, medium = sizes("S", "M")
    sweater_s = ProductFactory(
        parent=sweater, name="Lopi sweater S", sku="SWE-S", price=Decimal("24990"), category=knitwear
    )
    sweater_m = ProductFactory(
        parent=sweater, name="Lopi sweater M", sku="SWE-M", price=Decimal("24990"), category=knitwear
    )
    sweater_s.attribute_values.add(small)
    sweater_m.attribute_values.add(medium)
    StockLevelFactory(store=laugavegur, product=mittens, on_hand=5)
    StockLevelFactory(store=kringlan, product=mittens, on_hand=2, reserved=2)
    StockLevelFactory(store=laugavegur, product=sweater_s, on_hand=3)
    StockLevelFactory(store=kringlan, product=sweater_m, on_hand=4)
    StockLevelFactory(store=oslo, product=mittens, on_hand=9)
    DeliveryZoneFactory(store=laugavegur, name="Miðbær", postcodes="101-108", fee=Decimal("990"))
    evening_windows(laugavegur)
    DeliveryZoneFactory(store=oslo, name="Oslo", postcodes="0150-0599", fee=Decimal("99"))
    kiosk = ApiChannel.objects.create(name="Kiosks", kind=ChannelKind.KIOSK, requests_per_minute=1000)
    kiosk.stores.set([laugavegur, kringlan])
    app = ApiChannel.objects.create(name="Oslo app", kind=ChannelKind.APP, requests_per_minute=1000)
    app.stores.set([oslo])
    _kiosk_key, kiosk_raw = create_api_key(channel=kiosk, name="Kiosk by the door")
    _app_key, app_raw = create_api_key(channel=app, name="App")
    return {
        "laugavegur": laugavegur,
        "kringlan": kringlan,
        "oslo": oslo,
        "mittens": mittens,
        "sweater": sweater,
        "sweater_s": sweater_s,
        "sweater_m": sweater_m,
        "kiosk": kiosk,
        "app": app,
        "kiosk_key": kiosk_raw,
        "app_key": app_raw,
    }


@pytest.fixture
def kiosk_client(client, world):
    client.defaults["HTTP_X_API_KEY"] = world["kiosk_key"]
    return client


@pytest.fixture
def app_client(client, world):
    client.defaults["HTTP_X_API_KEY"] = world["app_key"]
    return client
