"""The checkout's reads written in SQL of their own (orders.selectors) read what the ORM's
queries read: the stores a page lists (stores_to_offer: stores_able_to_supply's, in the same
order, with the same pickup settings), the products an order places (for_sale_with_units_at)
and the store it places them at (store_to_place_at).
"""

from decimal import Decimal

import pytest
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from orders.selectors import (
    for_sale_with_units_at,
    store_ids_holding,
    store_to_place_at,
    stores_able_to_supply,
    stores_to_offer,
)
from pickup.models import PickupSettings
from pickup.tests.factories import PickupSettingsFactory
from stores.models import StockLevel, Store, StoreKind
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

COLUMNS = [field.attname for field in PickupSettings._meta.concrete_fields]


def settings_of(store):
    try:
        settings = store.pickup_settings
    except PickupSettings.DoesNotExist:
        return None
    return {name: getattr(settings, name) for name in COLUMNS}


@pytest.fixture
def mittens_and_hats():
    mittens, hat = ProductFactory(), ProductFactory()

    def store(units, **fields):
        made = StoreFactory(**fields)
        for product, count in zip((mittens, hat), units, strict=True):
            if count is not None:
                StockLevelFactory(store=made, product=product, on_hand=count + 1, reserved=1)
        return made

    # Reykjavík's stores; Akureyri's far north; one in Oslo; the ones left out; two run pickup their own way
    mine = store((5, 5), name="Smáralind", latitude=Decimal("64.101"), longitude=Decimal("-21.884"))
    store((5, 5), name="Kringlan", latitude=Decimal("64.130"), longitude=Decimal("-21.894"))
    store((5, 5), name="Laugavegur", latitude=Decimal("64.145"), longitude=Decimal("-21.929"))
    akureyri = store((2, 1), name="Glerártorg", city="Akureyri", latitude=Decimal("65.68"))
    PickupSettingsFactory(store=akureyri, offers_curbside=False, orders_per_slot=2)
    store((9, 9), name="Aker Brygge", city="Oslo", country="NO", time_zone="Europe/Oslo", latitude=Decimal("59.91"))
    store((1, 1), name="Hafnarfjörður", latitude=Decimal("64.067"), longitude=Decimal("-21.95"))
    store((5, None), name="Selfoss", latitude=Decimal("63.93"), longitude=Decimal("-21.0"))
    store((9, 9), name="Closed", is_active=False)
    store((9, 9), name="No pickup", offers_pickup=False)
    store((9, 9), name="Warehouse", kind=StoreKind.WAREHOUSE, offers_pickup=False, accepts_returns=False)
    PickupSettingsFactory(store=mine, offers_curbside=True, slot_minutes=15)
    return mittens, hat, mine


@pytest.mark.parametrize("units", [(1, 1), (2, 1), (1, None), (3, 3), (None, 1)])
@pytest.mark.parametrize("near_mine", [False, True])
@pytest.mark.parametrize("limit", [1, 3, 6])
def test_the_same_stores_in_the_same_order_as_the_orms(mittens_and_hats, units, near_mine, limit):
    mittens, hat, mine = mittens_and_hats
    quantities = {product.pk: count for product, count in zip((mittens, hat), units, strict=True) if count}
    near = mine if near_mine else None

    expected = list(stores_able_to_supply(quantities, near=near, limit=limit))
    found = stores_to_offer(quantities, near=near, limit=limit)

    assert found == expected
    for ours, orms in zip(found, expected, strict=True):
        assert {f.attname: getattr(ours, f.attname) for f in ours._meta.concrete_fields} == {
            f.attname: getattr(orms, f.attname) for f in orms._meta.concrete_fields
        }
        assert settings_of(ours) == settings_of(orms)
        assert list(ours.opening_hours.all()) == list(orms.opening_hours.all())


def test_two_queries_and_the_stores_as_they_read(mittens_and_hats, django_assert_num_queries):
    mittens, hat, mine = mittens_and_hats

    with django_assert_num_queries(2):
        found = stores_to_offer({mittens.pk: 1, hat.pk: 1}, near=mine, limit=6)
        hours = [list(store.opening_hours.all()) for store in found]
        # with settings of their own, or none (the defaults)
        with_own = [store for store in found if settings_of(store) is not None]
        assert [store.name for store in with_own] == ["Smáralind", "Glerártorg"]
        assert all(store.pickup_settings.store is store for store in with_own)
        curbside = [PickupSettings.for_store(store).offers_curbside for store in found]

    assert found[0] == mine and curbside[0] and not any(curbside[1:])
    assert [store.name for store in found] == ["Smáralind", "Kringlan", "Hafnarfjörður", "Laugavegur", "Glerártorg"]
    assert all(len(week) == 7 for week in hours)
    assert found[0].latitude == Decimal("64.101000") and found[0].is_active is True


def test_no_lines_no_stores_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert stores_to_offer({}, limit=6) == []


def the_orms_products_with_units(store, product_ids):
    units = StockLevel.objects.filter(store=store, product=OuterRef("pk")).values(
        available=F("on_hand") - F("reserved")
    )[:1]
    return Product.objects.for_sale().annotate(units_here=Coalesce(Subquery(units), 0)).in_bulk(list(product_ids))


def test_the_products_for_sale_with_their_units_are_the_orms(django_assert_num_queries):
    # given products on sale, one withdrawn, variants of a product on sale and of one withdrawn,
    # one with none at the store, one with none at all, one all reserved
    store, elsewhere = StoreFactory(), StoreFactory()
    sweater = ProductFactory(name="Sweater", price=Decimal("19990.00"))
    withdrawn = ProductFactory(is_active=False)
    small = ProductFactory(parent=sweater, name="Sweater S")
    gone = ProductFactory(parent=withdrawn)
    withdrawn_variant = ProductFactory(parent=sweater, is_active=False)
    elsewhere_only, nowhere, all_held = ProductFactory(), ProductFactory(), ProductFactory()
    for product, on_hand, reserved in [(sweater, 5, 2), (small, 3, 0), (gone, 9, 0), (all_held, 2, 2)]:
        StockLevelFactory(store=store, product=product, on_hand=on_hand, reserved=reserved)
    StockLevelFactory(store=elsewhere, product=elsewhere_only, on_hand=7)
    ids = [p.pk for p in (sweater, withdrawn, small, gone, withdrawn_variant, elsewhere_only, nowhere, all_held)]

    # when the placing reads them
    with django_assert_num_queries(1):
        found = for_sale_with_units_at(store, [*ids, sweater.pk, 0])

    # then the same products, with the same fields and units, as the ORM reads
    expected = the_orms_products_with_units(store, ids)
    on_sale = (sweater, small, elsewhere_only, nowhere, all_held)
    assert sorted(found) == sorted(expected) == sorted(p.pk for p in on_sale)
    for pk, product in found.items():
        fields = [field.attname for field in Product._meta.concrete_fields]
        assert [getattr(product, name) for name in fields] == [getattr(expected[pk], name) for name in fields]
        assert product.units_here == expected[pk].units_here
        assert product.name == expected[pk].name
    assert [found[p.pk].units_here for p in on_sale] == [3, 3, 0, 0, 0]
    assert for_sale_with_units_at(store, []) == {}


def test_the_store_to_place_at_is_the_orms(mittens_and_hats, django_assert_num_queries):
    # given stores with pickup settings of their own (Smáralind: curbside, 15 minutes; Glerártorg)
    # and without (the rest)
    for store in Store.objects.all():
        read = Store.objects.select_related("pickup_settings").get(pk=store.pk)

        # when a placing reads it again
        with django_assert_num_queries(1):
            placing = store_to_place_at(store.pk)

        # then every field of it and of its pickup settings is the ORM's, in the same types
        store_columns = [field.attname for field in Store._meta.concrete_fields]
        assert [getattr(placing, name) for name in store_columns] == [getattr(read, name) for name in store_columns]
        assert [type(getattr(placing, name)) for name in store_columns] == [
            type(getattr(read, name)) for name in store_columns
        ]
        with django_assert_num_queries(0):
            assert settings_of(placing) == settings_of(read)


def test_a_store_that_is_gone_is_not_found():
    with pytest.raises(Store.DoesNotExist):
        store_to_place_at(0)


def the_orms_stores_holding(quantities, among):
    enough = Q()
    for product_id, units in quantities.items():
        enough |= Q(product_id=product_id, on_hand__gte=F("reserved") + units)
    return set(
        StockLevel.objects.filter(enough, store_id__in=among)
        .values("store_id")
        .annotate(lines_in_stock=Count("pk"))
        .filter(lines_in_stock__gte=len(quantities))
        .values_list("store_id", flat=True)
    )


@pytest.mark.parametrize("units", [(1, 1), (2, 1), (1, None), (3, 3), (None, 1), (6, 6), (5, 2)])
def test_the_stores_holding_a_cart_are_the_orms(mittens_and_hats, units, django_assert_num_queries):
    mittens, hat, _mine = mittens_and_hats
    quantities = {product.pk: count for product, count in zip((mittens, hat), units, strict=True) if count}
    among = list(Store.objects.values_list("pk", flat=True))

    for stores in (among, among[:3], among[-2:]):
        with django_assert_num_queries(1):
            found = store_ids_holding(quantities, among=stores)
        assert found == the_orms_stores_holding(quantities, stores)
    assert store_ids_holding({}, among=among) == store_ids_holding(quantities, among=[]) == set()
