"""Order lines snapshot their VAT rate and VAT amount (issue 10).

Lines placed before this migration get them here, as create_order now does: the rate of the
product's VAT class (standard when the product is gone) in the country of the order's store, from
settings.VAT_RATES as they are when the migration runs, and the VAT inside the line's total
rounded to the currency's minor unit. A store in a country without rates gets 0 %.
"""

from decimal import Decimal

from django.conf import settings
from django.db import migrations, models

from o2o_site.vat import vat_included

BATCH = 2000


def snapshot_vat(apps, schema_editor):
    OrderLine = apps.get_model("orders", "OrderLine")
    lines = (
        OrderLine.objects.filter(vat_rate__isnull=True)
        .select_related("order__store", "product")
        .order_by("pk")
    )
    batch = []
    for line in lines.iterator(chunk_size=BATCH):
        vat_class = line.product.vat_class if line.product is not None else "standard"
        rates = settings.VAT_RATES.get(line.order.store.country.upper(), {})
        rate = Decimal(rates.get(vat_class, rates.get("standard", 0)))
        line.vat_rate = rate
        line.vat_amount = vat_included(line.line_total, rate=rate, currency=line.order.currency)
        batch.append(line)
        if len(batch) >= BATCH:
            OrderLine.objects.bulk_update(batch, ["vat_rate", "vat_amount"])
            batch = []
    OrderLine.objects.bulk_update(batch, ["vat_rate", "vat_amount"])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_product_vat_class"),
        ("orders", "0006_notification_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderline",
            name="vat_rate",
            field=models.DecimalField(decimal_places=2, max_digits=5, null=True, verbose_name="VAT rate (%)"),
        ),
        migrations.AddField(
            model_name="orderline",
            name="vat_amount",
            field=models.DecimalField(decimal_places=2, max_digits=12, null=True, verbose_name="VAT"),
        ),
        migrations.RunPython(snapshot_vat, migrations.RunPython.noop, elidable=True),
    ]
