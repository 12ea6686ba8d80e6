"""The rows every placing writes by o2o_site.rows.insert (an order's lines, fulfilment, their
lines and event; a delivery) are the rows the ORM's bulk_create and create() write: every field
read back the same, in the same types, each instance given its key and marked saved."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from delivery.models import Delivery
from o2o_site.rows import insert
from orders.models import Fulfilment, FulfilmentLine, FulfilmentMethod, OrderEvent, OrderLine, OrderStatus
from orders.tests.factories import place_order
from pickup.models import Pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


def _read(model, pk):
    return {
        field.attname: getattr(model.objects.get(pk=pk), field.attname)
        for field in model._meta.concrete_fields
        if not field.primary_key
    }


def _same_rows(make, *, apart=()):
    """make() gives fresh unsaved instances; written by insert and by the ORM, read back alike
    (but the fields named `apart`, which make() gives each call its own of)."""
    ours, orms = make(), make()
    assert insert(ours) is ours
    type(orms[0]).objects.bulk_create(orms)
    for mine, theirs in zip(ours, orms, strict=True):
        assert mine.pk is not None and mine.pk != theirs.pk
        assert not mine._state.adding and mine._state.db == "default"
        read_mine, read_theirs = _read(type(mine), mine.pk), _read(type(theirs), theirs.pk)
        for name in apart:
            assert read_mine.pop(name) == getattr(mine, name) and read_theirs.pop(name) == getattr(theirs, name)
        for name in ("created_at",):
            if name in read_mine:
                assert abs(read_mine.pop(name) - read_theirs.pop(name)) < datetime.timedelta(minutes=1)
        assert read_mine == read_theirs
        assert [type(value) for value in read_mine.values()] == [type(value) for value in read_theirs.values()]
    return ours


def test_an_orders_rows_written_by_insert_are_the_orms():
    # given an order of a sweater, its fulfilment, and a member of staff
    store = StoreFactory()
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"))
    StockLevelFactory(store=store, product=sweater, on_hand=5)
    order = place_order(store=store, products_and_quantities=[(sweater, 2)])
    fulfilment = order.fulfilments.get()
    staff = UserFactory()

    # then lines (a product's, a fee's with a discount), a fulfilment, its lines and an event are
    # written as the ORM writes them
    lines = _same_rows(
        lambda: [
            OrderLine(
                order=order,
                product=sweater,
                product_name="Hekla lopapeysa",
                sku=sweater.sku,
                unit_price=Decimal("24990.00"),
                quantity=2,
                line_total=Decimal("49980"),
                vat_rate=Decimal("24.00"),
                vat_amount=Decimal("9673.55"),
            ),
            OrderLine(
                order=order,
                product=None,
                product_name="Delivery",
                sku="DELIVERY",
                unit_price=Decimal("990"),
                quantity=1,
                discount=Decimal("99.5"),
                line_total=Decimal("890.5"),
                vat_rate=Decimal("24"),
                vat_amount=Decimal("172.35"),
            ),
        ]
    )
    (part,) = _same_rows(
        lambda: [Fulfilment(order=order, method=FulfilmentMethod.LOCAL_DELIVERY, stock_location=store)]
    )
    parts = iter((part, Fulfilment.objects.create(order=order, stock_location=store)))

    def fulfilment_lines():
        into = next(parts)
        return [FulfilmentLine(fulfilment=into, order_line=line, quantity=line.quantity) for line in lines]

    _same_rows(fulfilment_lines, apart=("fulfilment_id",))
    _same_rows(
        lambda: [
            OrderEvent(order=order, fulfilment=fulfilment, from_status="", to_status=OrderStatus.PLACED),
            OrderEvent(
                order=order, fulfilment=None, from_status=OrderStatus.PLACED, to_status="", actor=staff, note="Ó"
            ),
        ]
    )
    assert insert([]) == []


def test_a_delivery_written_by_insert_is_the_orms():
    # given two delivery fulfilments of an order
    store = StoreFactory()
    sweater = ProductFactory(price=Decimal("24990"))
    StockLevelFactory(store=store, product=sweater, on_hand=5)
    order = place_order(store=store, products_and_quantities=[(sweater, 1)])
    fulfilments = iter(
        Fulfilment.objects.create(order=order, method=FulfilmentMethod.LOCAL_DELIVERY, stock_location=store)
        for _ in range(2)
    )
    starts = timezone.now().replace(microsecond=0) + datetime.timedelta(days=1)

    # then a delivery (its key given: the fulfilment's) is written as the ORM's create() writes it
    def delivery():
        return [
            Delivery(
                fulfilment=next(fulfilments),
                store=store,
                zone_id=None,
                zone_name="Miðbær",
                fee=Decimal("990"),
                window_start=starts,
                window_end=starts + datetime.timedelta(hours=2),
                street="Bergstaðastræti 12",
                postcode="101",
                city="Reykjavík",
                country="IS",
                phone="+354 555 1234",
                latitude=Decimal("64.1458"),
                longitude=Decimal(str(-21.929)),
            )
        ]

    (written,) = _same_rows(delivery)
    assert written.pk == written.fulfilment_id


def test_a_pickup_written_by_insert_is_the_orms():
    # given two pickup fulfilments of an order
    store = StoreFactory()
    sweater = ProductFactory(price=Decimal("24990"))
    StockLevelFactory(store=store, product=sweater, on_hand=5)
    order = place_order(store=store, products_and_quantities=[(sweater, 1)])
    fulfilments = iter(
        Fulfilment.objects.create(order=order, method=FulfilmentMethod.CURBSIDE, stock_location=store) for _ in range(2)
    )
    starts = timezone.now().replace(microsecond=0) + datetime.timedelta(hours=3)

    # then a pickup (its key given: the fulfilment's) is written as the ORM's create() writes it
    def pickup():
        return [
            Pickup(
                fulfilment=next(fulfilments),
                store_id=store.pk,
                code="ABC123",
                slot_start=starts,
                slot_end=starts + datetime.timedelta(minutes=15),
                vehicle_description="Rauður Yaris",
                collector_name="Jón",
            )
        ]

    (written,) = _same_rows(pickup)
    assert written.pk == written.fulfilment_id
