import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from catalog.tests.factories import ProductFactory
from stores import services as stock_services
from stores.models import StockLevel
from stores.services import (
    InsufficientStock,
    Shortfall,
    StockError,
    consume_reserved_stock,
    record_opening_stock,
    release_stock,
    reserve_stock,
    set_on_hand,
)
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


def counts(level):
    level.refresh_from_db()
    return level.on_hand, level.reserved


@pytest.fixture
def store():
    return StoreFactory(name="Laugavegur")


def test_reserving_holds_units_without_taking_them_off_the_shelf(store):
    # given 5 sweaters and 3 hats on hand, 1 hat already held for someone else
    sweaters = StockLevelFactory(store=store, on_hand=5)
    hats = StockLevelFactory(store=store, on_hand=3, reserved=1)

    # when a shopper reserves 2 sweaters and 2 hats
    reserve_stock(store=store, quantities={sweaters.product_id: 2, hats.product_id: 2})

    # then both are held, still on hand, and nothing is left to sell of the hats
    assert counts(sweaters) == (5, 2)
    assert counts(hats) == (3, 3)
    assert StockLevel.objects.at_store(store).available().get() == sweaters


def test_a_reservation_is_all_or_nothing_and_names_every_short_line(store):
    # given plenty of mittens, 1 scarf, 2 reserved of 2 socks, and a sweater the store never stocked
    mittens = StockLevelFactory(store=store, on_hand=10)
    scarves = StockLevelFactory(store=store, on_hand=1)
    socks = StockLevelFactory(store=store, on_hand=2, reserved=2)
    sweater = ProductFactory()

    # when a shopper asks for 2 of each
    quantities = {mittens.product_id: 2, scarves.product_id: 2, socks.product_id: 2, sweater.pk: 2}
    with pytest.raises(InsufficientStock) as raised:
        reserve_stock(store=store, quantities=quantities)

    # then every short line is reported at once, and not even the mittens were reserved
    assert sorted(raised.value.shortfalls, key=lambda short: short.product_id) == [
        Shortfall(product_id=scarves.product_id, requested=2, available=1),
        Shortfall(product_id=socks.product_id, requested=2, available=0),
        Shortfall(product_id=sweater.pk, requested=2, available=0),
    ]
    assert counts(mittens) == (10, 0)
    assert counts(scarves) == (1, 0)
    assert counts(socks) == (2, 2)
    assert not StockLevel.objects.filter(product=sweater).exists()


def test_a_reservation_writes_every_line_in_one_statement(store):
    # given three products in stock
    levels = [StockLevelFactory(store=store, on_hand=4) for _ in range(3)]

    # when a shopper reserves 1, 2 and 3 of them
    with CaptureQueriesContext(connection) as captured:
        reserve_stock(store=store, quantities={level.product_id: n for n, level in enumerate(levels, 1)})

    # then each is held, written by one UPDATE after the rows were locked
    assert [counts(level) for level in levels] == [(4, 1), (4, 2), (4, 3)]
    assert [query["sql"].split()[0] for query in captured.captured_queries] == ["SELECT", "UPDATE"]


def test_a_reservation_never_oversells_even_when_its_check_was_wrong(store, monkeypatch):
    # given 1 sweater and 5 hats, and the locked rows read as if 5 sweaters were on hand (a check
    # gone wrong: the update itself still holds each row to its units)
    sweaters = StockLevelFactory(store=store, on_hand=1)
    hats = StockLevelFactory(store=store, on_hand=5)
    locked_levels = stock_services._locked_levels

    def misread(**kwargs):
        levels = locked_levels(**kwargs)
        levels[sweaters.product_id].on_hand = 5
        return levels

    monkeypatch.setattr(stock_services, "_locked_levels", misread)

    # when a shopper asks for 2 of each
    with pytest.raises(StockError), transaction.atomic():
        reserve_stock(store=store, quantities={sweaters.product_id: 2, hats.product_id: 2})

    # then it fails as a whole: nothing is reserved, not even the hats
    assert counts(sweaters) == (1, 0)
    assert counts(hats) == (5, 0)


def test_stock_at_another_store_does_not_count(store):
    # given the sweaters are in Oslo, not at Laugavegur
    oslo = StoreFactory(name="Karl Johans gate", city="Oslo", country="NO")
    in_oslo = StockLevelFactory(store=oslo, on_hand=10)

    # when a shopper reserves them at Laugavegur
    with pytest.raises(InsufficientStock):
        reserve_stock(store=store, quantities={in_oslo.product_id: 1})

    # then Oslo's stock is untouched
    assert counts(in_oslo) == (10, 0)


@pytest.mark.parametrize("units", [0, -1])
def test_a_reservation_needs_whole_positive_quantities(store, units):
    level = StockLevelFactory(store=store, on_hand=5)

    with pytest.raises(ValueError):
        reserve_stock(store=store, quantities={level.product_id: units})

    assert counts(level) == (5, 0)


def test_releasing_gives_reserved_units_back_to_sale(store):
    # given 3 of 5 reserved for an order
    level = StockLevelFactory(store=store, on_hand=5, reserved=3)

    # when the order is cancelled and its 3 units released
    release_stock(store=store, quantities={level.product_id: 3})

    # then all 5 can be sold again
    assert counts(level) == (5, 0)


def test_releasing_more_than_is_reserved_changes_nothing(store):
    # given one line with 2 reserved and one with 1 reserved
    enough = StockLevelFactory(store=store, on_hand=5, reserved=2)
    too_few = StockLevelFactory(store=store, on_hand=5, reserved=1)

    # when 2 of each are released
    with pytest.raises(StockError):
        release_stock(store=store, quantities={enough.product_id: 2, too_few.product_id: 2})

    # then neither line moved
    assert counts(enough) == (5, 2)
    assert counts(too_few) == (5, 1)


def test_consuming_a_reservation_takes_the_units_off_the_shelf(store):
    # given 2 of 5 reserved for an order being collected
    level = StockLevelFactory(store=store, on_hand=5, reserved=2)

    # when the shopper walks out with them
    consume_reserved_stock(store=store, quantities={level.product_id: 2})

    # then they are neither reserved nor on hand; the other 3 are still for sale
    assert counts(level) == (3, 0)


def test_units_that_were_not_reserved_cannot_be_consumed(store):
    level = StockLevelFactory(store=store, on_hand=5, reserved=1)

    with pytest.raises(StockError):
        consume_reserved_stock(store=store, quantities={level.product_id: 2})

    assert counts(level) == (5, 1)


def test_a_stock_count_is_recorded_and_creates_the_row_when_needed(store):
    # given a product the store has never counted, and one it has
    new_product = ProductFactory()
    counted = StockLevelFactory(store=store, on_hand=4, reserved=2)

    # when staff count 7 of the new one and 9 of the other
    created = set_on_hand(store=store, product=new_product, on_hand=7)
    set_on_hand(store=store, product=counted.product, on_hand=9)

    # then both counts are stored; reservations are unchanged
    assert counts(created) == (7, 0)
    assert counts(counted) == (9, 2)


def test_a_stock_count_below_what_is_reserved_is_refused(store):
    # given 3 units reserved for open orders
    level = StockLevelFactory(store=store, on_hand=5, reserved=3)

    # when staff count only 2
    with pytest.raises(StockError, match="3 units are reserved"):
        set_on_hand(store=store, product=level.product, on_hand=2)

    # then the count stays as it was
    assert counts(level) == (5, 3)


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("en", "1 unit is reserved for open orders"),
        ("nb", "1 enhet er reservert for åpne bestillinger"),
        ("is", "Frátekið fyrir opnar pantanir: 1 stk."),
    ],
)
def test_one_reserved_unit_is_told_in_the_singular(store, language, refusal):
    # given a single unit reserved
    level = StockLevelFactory(store=store, on_hand=1, reserved=1)

    # when staff reading the admin in `language` count none
    with translation.override(language), pytest.raises(StockError) as refused:
        set_on_hand(store=store, product=level.product, on_hand=0)

    # then the refusal speaks of one unit, not "1 units"
    assert refusal in str(refused.value)


def test_a_negative_stock_count_is_refused(store):
    level = StockLevelFactory(store=store, on_hand=5)

    with pytest.raises(StockError):
        set_on_hand(store=store, product=level.product, on_hand=-1)

    assert counts(level) == (5, 0)


def test_opening_stock_is_recorded_only_where_there_is_no_count_yet(store):
    # given one product already counted (and partly reserved) and two new ones
    counted = StockLevelFactory(store=store, on_hand=4, reserved=1)
    first, second = ProductFactory(), ProductFactory()

    # when the opening delivery is recorded for all three
    recorded = record_opening_stock(store=store, counts={counted.product_id: 50, first.pk: 6, second.pk: 0})

    # then the two new counts are stored and the existing one is left alone
    assert recorded == 2
    assert counts(counted) == (4, 1)
    assert dict(StockLevel.objects.filter(product__in=[first, second]).values_list("product_id", "on_hand")) == {
        first.pk: 6,
        second.pk: 0,
    }


def test_opening_stock_with_a_negative_count_records_nothing(store):
    first, second = ProductFactory(), ProductFactory()

    with pytest.raises(StockError):
        record_opening_stock(store=store, counts={first.pk: 3, second.pk: -2})

    assert not StockLevel.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"on_hand": -1},
        {"reserved": -1},
        {"reserved": F("on_hand") + 1},
    ],
    ids=["negative on hand", "negative reserved", "more reserved than on hand"],
)
def test_the_database_refuses_impossible_counts_even_past_the_services(store, change):
    # given a stock row with 2 of 5 reserved
    level = StockLevelFactory(store=store, on_hand=5, reserved=2)

    # when code writes an impossible count straight to the table
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=level.pk).update(**change)

    # then the row is unchanged
    assert counts(level) == (5, 2)


def test_there_is_one_stock_row_per_store_and_product(store):
    level = StockLevelFactory(store=store, on_hand=5)

    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(store=store, product=level.product, on_hand=1)


def test_a_store_cannot_take_the_address_of_another_page_of_the_shop():
    # /stores/choose/ is where shoppers pick their store: a store with that slug could never be opened
    store = StoreFactory.build(slug="choose")

    with pytest.raises(ValidationError) as refused:
        store.full_clean(exclude=["managers"])

    assert "address of another page" in str(refused.value.message_dict["slug"])


@pytest.mark.parametrize(
    "change",
    [reserve_stock, release_stock, consume_reserved_stock],
    ids=["reserve", "release", "consume"],
)
def test_every_stock_change_locks_its_rows_at_once_in_primary_key_order(require_postgres, store, change):
    # given three products whose stock rows were created in the opposite order of the products
    # (django-oscar locked line by line in basket order, and two baskets deadlocked)
    products = ProductFactory.create_batch(3)
    levels = [StockLevelFactory(store=store, product=product, on_hand=9, reserved=3) for product in reversed(products)]
    assert [level.pk for level in levels] == sorted(level.pk for level in levels)
    cart = {products[1].pk: 1, products[0].pk: 1, products[2].pk: 1}

    # when
    with CaptureQueriesContext(connection) as captured:
        change(store=store, quantities=cart)

    # then one SELECT … FOR UPDATE took every row, ordered by primary key, whatever the cart's order
    locks = [query["sql"] for query in captured.captured_queries if "FOR UPDATE" in query["sql"]]
    assert len(locks) == 1
    assert re.search(r'ORDER BY "stores_stocklevel"\."id" ASC\s+FOR UPDATE', locks[0])
