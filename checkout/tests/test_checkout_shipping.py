"""Ship to home in the checkout (issue 11): when no store delivers the cart to the address, the
delivery checkout offers shipping from a warehouse with its fee; placing it reserves at the
warehouse, adds the fee and sends the shopper to pay; bad input says what is wrong and keeps
what was typed."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from catalog.tests.factories import ProductFactory
from checkout.cart import SESSION_KEY
from coupons.models import CouponKind
from coupons.tests.factories import CouponCodeFactory, CouponFactory
from delivery.tests.factories import DeliveryZoneFactory
from orders.models import FulfilmentMethod, Order
from shipping.models import Shipment, ShippingRate
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

AKUREYRI = {
    "street": "Hafnarstræti 5",
    "postcode": "600",
    "city": "Akureyri",
    "country": "IS",
    "phone": "+354 555 1234",
}


@pytest.fixture(autouse=True)
def providers(settings):
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


@pytest.fixture
def world(client):
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík")
    PostcodeLocationFactory(
        country="IS", postcode="600", place_name="Akureyri", latitude=Decimal("65.6835"), longitude=Decimal("-18.1002")
    )
    store = StoreFactory(name="Laugavegur")
    DeliveryZoneFactory(store=store, name="Miðbær", postcodes="101-108", fee=Decimal("990"))
    warehouse = StoreFactory(name="Vöruhús", kind="warehouse", offers_pickup=False, accepts_returns=False)
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"), weight_grams=900)
    StockLevelFactory(store=store, product=sweater, on_hand=3)
    StockLevelFactory(store=warehouse, product=sweater, on_hand=10)
    ShippingRate.objects.create(country="IS", postcode_from=300, postcode_to=999, max_weight_grams=5000, fee=1490)
    session = client.session
    session[SESSION_KEY] = {str(sweater.pk): 2}
    session.save()
    return {"store": store, "warehouse": warehouse, "sweater": sweater}


def find(client, **address):
    return client.post(reverse("checkout:delivery"), {**AKUREYRI, **address, "action": "find"})


def hidden(html, name):
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def ship(client, html, **extra):
    return client.post(
        reverse("checkout:delivery"),
        {
            **AKUREYRI,
            "action": "ship",
            "checkout_token": hidden(html, "checkout_token"),
            "shipping_fee": hidden(html, "shipping_fee"),
            "shipping_payment": "dummy",
            "name": "Anna Jónsdóttir",
            "email": "anna@example.com",
            **extra,
        },
    )


def test_no_store_delivers_there_so_the_warehouse_ships_it(client, world):
    # when Anna in Akureyri, which no store's van reaches, asks for delivery
    html = find(client).content.decode()

    # then shipping from the warehouse is offered with its fee, named once
    assert 'data-testid="shipping-option"' in html
    assert 'data-testid="shipping-fee">ISK\u00a01,490<' in html
    assert html.count("ISK\u00a01,490") == 1
    # and why no store delivers is a notice leading to it, not an error on the postcode
    assert 'id="id_postcode_error"' not in html
    assert 'data-testid="no-delivery-notice">No store delivers to 600 Akureyri yet.' in html

    # when she ships it
    response = ship(client, html)

    # then the order is the warehouse's, reserved there, with the fee, and she goes to pay
    order = Order.objects.get()
    assert response.status_code == 302 and "/payments/" in response["Location"]
    assert order.store == world["warehouse"]
    assert order.total == Decimal("24990") * 2 + Decimal("1490")
    assert order.fulfilments.get().method == FulfilmentMethod.SHIPPING
    shipment = Shipment.objects.get()
    assert (shipment.name, shipment.address, shipment.postcode, shipment.city) == (
        "Anna Jónsdóttir",
        "Hafnarstræti 5",
        "600",
        "Akureyri",
    )
    assert StockLevel.objects.get(store=world["warehouse"]).reserved == 2
    assert StockLevel.objects.get(store=world["store"]).reserved == 0


def test_a_free_delivery_coupon_is_shown_on_the_shipping_fee(client, world):
    CouponCodeFactory(code="FRITT", coupon=CouponFactory(kind=CouponKind.FREE_DELIVERY, value=0))

    html = find(client, coupon_code="FRITT").content.decode()

    assert "<del>Shipping ISK\u00a01,490</del> Free shipping" in html
    assert "Coupon FRITT accepted: ISK\u00a01,490 off." in html


@pytest.mark.parametrize(("language", "fee"), [("is", "1.490\u00a0kr."), ("nb", "1\u00a0490\u00a0ISK")])
def test_the_shipping_fee_is_written_once_in_every_language(client, world, language, fee):
    response = client.post(reverse("checkout:delivery"), {**AKUREYRI, "action": "find"}, HTTP_ACCEPT_LANGUAGE=language)

    panel = re.search(r'data-testid="shipping-option">(.*?)</fieldset>', response.content.decode(), re.S).group(1)
    assert panel.count(fee) == 1
    assert "kr.." not in panel


def test_where_a_store_delivers_no_shipping_is_offered(client, world):
    html = find(client, postcode="101", city="Reykjavík").content.decode()

    assert 'data-testid="delivery-option"' in html
    assert 'data-testid="shipping-option"' not in html


def test_a_cart_no_warehouse_can_ship_says_why(client, world):
    StockLevel.objects.filter(store=world["warehouse"]).update(on_hand=1)

    html = find(client).content.decode()

    assert 'data-testid="shipping-option"' not in html
    assert "None of our warehouses has everything in your cart to ship right now." in html


def test_missing_details_are_named_and_what_was_typed_is_kept(client, world):
    html = find(client).content.decode()

    response = ship(client, html, name="", email="anna@")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter your name, so the store knows whose order it is." in page
    assert "Enter an e-mail address such as anna@example.com." in page
    assert 'value="anna@"' in page and 'value="Hafnarstræti 5"' in page
    assert not Order.objects.exists()


def test_a_fee_changed_meanwhile_is_named_and_nothing_is_placed(client, world):
    html = find(client).content.decode()
    ShippingRate.objects.update(fee=1990)

    response = ship(client, html)

    page = response.content.decode()
    assert "The shipping fee is now ISK\u00a01,990 (it was ISK\u00a01,490)." in page
    assert not Order.objects.exists()
    assert StockLevel.objects.get(store=world["warehouse"]).reserved == 0
