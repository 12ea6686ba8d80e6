"""The seeded shops stay valid: every price the demo and the benchmark seed is payable in the shop's
currency (whole krónur in ISK, kroner and øre in NOK), as the admin and the import require."""

import random
from decimal import Decimal

import pytest

from bench.seed import Size, seed
from catalog.models import Product
from demo import data
from o2o_site.money import is_representable
from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("country", "currency"), sorted(data.COUNTRY_CURRENCIES.items()))
def test_every_demo_price_is_payable_in_its_countrys_currency(country, currency):
    # given the demo catalogue / when priced for the country / then no price has a part the currency lacks
    prices = [product.price_in(currency) for product in data.generate_products()]
    assert prices
    assert [price for price in prices if not is_representable(price, currency)] == []


def test_the_benchmark_seeds_products_that_pass_the_models_checks(require_postgres, settings):
    # given an Icelandic shop seeded for the benchmark, small
    settings.SHOP_CURRENCY = "ISK"
    seed(Size(products=60, categories=5, stores=2, past_orders=10), rng=random.Random(7))

    # then every product is valid as the admin would check it, and every order's lines sum to its total
    for product in Product.objects.all():
        product.full_clean()
    for order in Order.objects.prefetch_related("lines"):
        assert sum((line.line_total for line in order.lines.all()), Decimal("0")) == order.total
