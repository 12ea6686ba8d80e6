"""orders 0007/0008: lines placed before VAT existed get their rate and VAT from their product's
class and their store's country (standard when the product is gone)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from stores.tests.factories import StoreFactory

BEFORE = [("orders", "0006_notification_outbox"), ("catalog", "0005_product_vat_class")]
AFTER = [("orders", "0008_order_line_vat_required")]


@pytest.fixture
def executor(transactional_db):
    executor = MigrationExecutor(connection)
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(executor, targets):
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def test_existing_lines_get_the_vat_of_their_class_and_country(executor):
    # given orders in Reykjavík (ISK) and Oslo placed before lines had VAT
    old = migrate(executor, BEFORE)
    Category, Product = old.get_model("catalog", "Category"), old.get_model("catalog", "Product")
    Order, OrderLine = old.get_model("orders", "Order"), old.get_model("orders", "OrderLine")
    reykjavik, oslo = StoreFactory(country="IS"), StoreFactory(country="NO", time_zone="Europe/Oslo")
    food = Category.objects.create(name="Food", slug="food")
    wool = Product.objects.create(category=food, name="Wool", slug="wool", sku="W-1", price=Decimal("4990"))
    coffee = Product.objects.create(
        category=food, name="Coffee", slug="coffee", sku="C-1", price=Decimal("1290"), vat_class="reduced"
    )
    gone = Product.objects.create(category=food, name="Gone", slug="gone", sku="G-1", price=Decimal("1000"))

    def order(number, store, currency, lines):
        placed = Order.objects.create(
            number=number,
            contact_name="Anna",
            contact_email="anna@example.com",
            contact_phone="+354 555 1234",
            store_id=store.pk,
            currency=currency,
            total=sum(price * quantity for _product, price, quantity in lines),
        )
        for product, price, quantity in lines:
            OrderLine.objects.create(
                order=placed,
                product=product,
                product_name="x",
                sku="x",
                unit_price=price,
                quantity=quantity,
                line_total=price * quantity,
            )

    order(
        "IS1", reykjavik, "ISK", [(wool, Decimal("4990"), 2), (coffee, Decimal("1290"), 1), (gone, Decimal("1000"), 1)]
    )
    order("NO1", oslo, "NOK", [(coffee, Decimal("89.90"), 2)])
    gone.delete()

    # when the shop migrates
    new = migrate(executor, AFTER)

    # then every line has the rate of its class in its store's country, VAT rounded per line
    lines = new.get_model("orders", "OrderLine").objects.select_related("order").order_by("pk")
    assert [(line.order.number, line.vat_rate, line.vat_amount) for line in lines] == [
        ("IS1", Decimal("24.00"), Decimal("1932.00")),
        ("IS1", Decimal("11.00"), Decimal("128.00")),
        ("IS1", Decimal("24.00"), Decimal("194.00")),  # product deleted: standard
        ("NO1", Decimal("15.00"), Decimal("23.45")),
    ]
