"""Prices must be payable in the shop's currency: whole krónur in ISK (no minor unit), øre in NOK.

From now on the model refuses such a price (o2o_site.money.validate_price: admin, CSV import,
full_clean). Rows saved before, say 100.50 in an ISK shop, are rounded here half-up to the
currency's minor unit: that is the price every page, e-mail and the admin already showed the
shopper (the money filter rounds the same way), so no price anyone has seen changes, and the
product stays on sale. Refusing such products at checkout instead would take them off sale
without a word until someone edited them by hand; a shop charges the price on the shelf.
The currency is SHOP_CURRENCY at migration time; in a NOK shop every stored price (two decimals)
is already payable and nothing changes. Orders already placed keep the amounts they were placed at.
"""

from django.conf import settings
from django.db import migrations, models

import o2o_site.money


def round_prices_to_the_minor_unit(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    currency = settings.SHOP_CURRENCY
    unpayable = []
    for product in Product.objects.only("pk", "price").iterator(chunk_size=2000):
        rounded = o2o_site.money.round_to_minor_unit(product.price, currency)
        if rounded != product.price:
            product.price = rounded
            unpayable.append(product)
    Product.objects.bulk_update(unpayable, ["price"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_product_search_trigram_indexes"),
    ]

    operations = [
        migrations.RunPython(round_prices_to_the_minor_unit, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="product",
            name="price",
            field=models.DecimalField(
                decimal_places=2,
                max_digits=12,
                validators=[o2o_site.money.validate_price],
                verbose_name="price",
            ),
        ),
    ]
