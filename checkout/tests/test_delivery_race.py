"""Delivery placings racing for a window's last places while pickup shoppers take the same stock
rows, on PostgreSQL, through checkout.services as the checkout pages call it.

A delivery placing reads and checks everything first, writes the order's rows before the window's
lock when no coupon or points are used (after the stock's when they are, as every checkout
takes the coupon's lock), then locks the window's day, the stock rows and writes the delivery.
Twelve delivery shoppers (half with a coupon) and six pickup shoppers at the same store, released
together by a barrier: exactly the window's 3 places are booked, the other 9 are told it is full
with nothing left behind, every pickup is placed, and the units reserved are the units ordered.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from catalog.tests.factories import ProductFactory
from checkout.services import (
    ConfirmedCheckout,
    ConfirmedLine,
    DeliveryChoice,
    place_delivery_order,
    place_pickup_order,
)
from coupons.tests.factories import CouponCodeFactory, CouponFactory
from delivery.models import Delivery
from delivery.selectors import delivery_options, forget_directory
from delivery.services import DeliveryAddress
from delivery.tests.factories import DeliveryZoneFactory, evening_windows
from orders.integrity import check_integrity
from orders.models import FulfilmentMethod, Order, OrderLine
from orders.services import Contact, LineSpec, OrderError
from pickup.tests.factories import PickupSettingsFactory
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

DELIVERY_SHOPPERS = 12
PICKUP_SHOPPERS = 6
PLACES = 3
ADDRESS = DeliveryAddress(
    street="Bergstaðastræti 12", postcode="101", city="Reykjavík", country="IS", phone="+354 555 1234"
)


def _line(product, units):
    return ConfirmedLine(
        product_id=product.pk,
        name=product.name,
        quantity=units,
        unit_price=LineSpec(product=product, quantity=units).unit_price,
    )


@pytest.mark.postgres
def test_delivery_shoppers_race_for_a_windows_last_places_beside_pickups_of_the_same_stock(
    require_postgres, transactional_db, split_payment_provider
):
    # given Laugavegur delivering to 101 in evening windows of 3 places, and taking pickups
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík")
    store = StoreFactory(name="Laugavegur")
    PickupSettingsFactory(store=store, orders_per_slot=50)
    DeliveryZoneFactory(store=store, name="Miðbær", postcodes="101-108", fee=Decimal("990"), lead_time_minutes=30)
    evening_windows(store, capacity=PLACES, starts=datetime.time(20), ends=datetime.time(22), cutoff=datetime.time(20))
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"))
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("3990"))
    StockLevelFactory(store=store, product=sweater, on_hand=100)
    StockLevelFactory(store=store, product=mittens, on_hand=100)
    code = CouponCodeFactory(coupon=CouponFactory(limit_total=1000), code="SUMAR")
    forget_directory()
    (option,) = delivery_options(postcode="101", country="IS").options
    window = option.earliest
    checkouts = [
        (
            place_delivery_order,
            ConfirmedCheckout(
                lines=(_line(sweater, 1), _line(mittens, 2)),
                store=store,
                contact=Contact(name=f"Shopper {index}", email=f"d{index}@example.com", phone=ADDRESS.phone),
                payment="dummy",
                checkout_token=f"delivery-{index}",
                coupon_code=code.code if index % 2 else "",
                delivery=DeliveryChoice(address=ADDRESS, window_start=window.starts_at, fee_shown=Decimal("990")),
            ),
        )
        for index in range(DELIVERY_SHOPPERS)
    ] + [
        (
            place_pickup_order,
            ConfirmedCheckout.at_current_prices(
                quantities={mittens.pk: 1, sweater.pk: 1},
                store=store,
                contact=Contact(name=f"Picker {index}", email=f"p{index}@example.com", phone=ADDRESS.phone),
                checkout_token=f"pickup-{index}",
                first_free_slot=True,
            ),
        )
        for index in range(PICKUP_SHOPPERS)
    ]
    barrier = threading.Barrier(len(checkouts), timeout=60)
    results = [None] * len(checkouts)

    def shopper(index):
        place, checkout = checkouts[index]
        try:
            barrier.wait()
            # when they all place their orders at once
            results[index] = place(checkout=checkout)
        except OrderError as refused:
            results[index] = refused
        except BaseException as error:  # reported in the main thread
            results[index] = error
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=shopper, args=(index,)) for index in range(len(checkouts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then the window's 3 places are booked, the other 9 told it is full, every pickup placed
    unexpected = [
        result for result in results if isinstance(result, BaseException) and not isinstance(result, OrderError)
    ]
    assert not unexpected, unexpected
    deliveries, pickups = results[:DELIVERY_SHOPPERS], results[DELIVERY_SHOPPERS:]
    refused = [result for result in deliveries if isinstance(result, OrderError)]
    assert len([result for result in deliveries if isinstance(result, Order)]) == PLACES
    assert len(refused) == DELIVERY_SHOPPERS - PLACES
    assert all("has just been fully booked" in str(refusal) for refusal in refused), refused
    assert all(isinstance(result, Order) for result in pickups), pickups
    # and nothing of the refused ones is left: orders, deliveries and units add up
    assert Delivery.objects.filter(window_start=window.starts_at).count() == PLACES
    assert Order.objects.filter(fulfilments__method=FulfilmentMethod.LOCAL_DELIVERY).count() == PLACES
    assert Order.objects.count() == PLACES + PICKUP_SHOPPERS
    for product, per_delivery in ((sweater, 1), (mittens, 2)):
        reserved = StockLevel.objects.get(store=store, product=product).reserved
        assert reserved == PLACES * per_delivery + PICKUP_SHOPPERS
        assert reserved == sum(OrderLine.objects.filter(product=product).values_list("quantity", flat=True))
    assert check_integrity().ok
