"""Order lines keep the VAT rate and amount of the day they were placed, by the selling store's country."""

from decimal import Decimal

import pytest

from catalog.models import VatClass
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


def stocked(store, **product):
    item = ProductFactory(**product)
    StockLevelFactory(store=store, product=item, on_hand=10)
    return item


def test_an_icelandic_store_sells_at_icelandic_rates_per_class():
    # given a Reykjavík store with wool (standard) and liquorice (food: reduced)
    store = StoreFactory(country="IS")
    sweater = stocked(store, price=Decimal("4990"), vat_class=VatClass.STANDARD)
    liquorice = stocked(store, price=Decimal("1290"), vat_class=VatClass.REDUCED)

    # when an order is placed
    order = place_order(store=store, products_and_quantities=[(sweater, 2), (liquorice, 3)])

    # then each line keeps its rate and the VAT in its total, in whole krónur
    lines = {line.sku: line for line in order.lines.all()}
    assert (lines[sweater.sku].vat_rate, lines[sweater.sku].vat_amount) == (Decimal(24), Decimal("1932"))
    assert (lines[liquorice.sku].vat_rate, lines[liquorice.sku].vat_amount) == (Decimal(11), Decimal("384"))
    assert order.total == Decimal("13850")


def test_a_norwegian_store_sells_at_norwegian_rates_in_ore(settings):
    # given a Norwegian shop (NOK) and an Oslo store
    settings.SHOP_CURRENCY = "NOK"
    store = StoreFactory(country="NO", time_zone="Europe/Oslo")
    blanket = stocked(store, price=Decimal("1299.90"), vat_class=VatClass.STANDARD)
    coffee = stocked(store, price=Decimal("89.90"), vat_class=VatClass.REDUCED)

    order = place_order(store=store, products_and_quantities=[(blanket, 1), (coffee, 2)])

    lines = {line.sku: line for line in order.lines.all()}
    assert (lines[blanket.sku].vat_rate, lines[blanket.sku].vat_amount) == (Decimal(25), Decimal("259.98"))
    assert (lines[coffee.sku].vat_rate, lines[coffee.sku].vat_amount) == (Decimal(15), Decimal("23.45"))


def test_the_same_product_carries_the_rate_of_the_country_it_is_sold_in():
    coffee_is, coffee_no = StoreFactory(country="IS"), StoreFactory(country="NO")
    coffee = stocked(coffee_is, price=Decimal("1990"), vat_class=VatClass.REDUCED)
    StockLevelFactory(store=coffee_no, product=coffee, on_hand=10)

    in_iceland = place_order(store=coffee_is, products_and_quantities=[(coffee, 1)]).lines.get()
    in_norway = place_order(store=coffee_no, products_and_quantities=[(coffee, 1)]).lines.get()

    assert (in_iceland.vat_rate, in_norway.vat_rate) == (Decimal(11), Decimal(15))


def test_a_placed_order_keeps_its_vat_when_the_class_or_the_rate_changes_later(settings):
    # given an order placed at the standard rate
    store = StoreFactory(country="IS")
    mittens = stocked(store, price=Decimal("4990"))
    order = place_order(store=store, products_and_quantities=[(mittens, 1)])

    # when the product is reclassed and the rates change
    mittens.vat_class = VatClass.REDUCED
    mittens.save()
    settings.VAT_RATES = {"IS": {"standard": Decimal(25), "reduced": Decimal(12)}, "NO": settings.VAT_RATES["NO"]}

    # then the order's line is as it was placed
    line = order.lines.get()
    assert (line.vat_rate, line.vat_amount) == (Decimal(24), Decimal("966"))
    # and a new order uses the new rate
    assert place_order(store=store, products_and_quantities=[(mittens, 1)]).lines.get().vat_rate == Decimal(12)
