"""Every order line has its VAT rate and amount (0007 filled them in): required from now on, and
the VAT stays within the line's total. A separate migration, so PostgreSQL alters the table in a
transaction of its own, after the rows were updated."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_order_line_vat"),
    ]

    operations = [
        migrations.AlterField(
            model_name="orderline",
            name="vat_rate",
            field=models.DecimalField(decimal_places=2, max_digits=5, verbose_name="VAT rate (%)"),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="vat_amount",
            field=models.DecimalField(decimal_places=2, max_digits=12, verbose_name="VAT"),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("vat_amount__gte", 0),
                    ("vat_amount__lte", models.F("line_total")),
                    ("vat_rate__gte", 0),
                    ("vat_rate__lt", 100),
                ),
                name="order_line_vat_within_total",
            ),
        ),
    ]
