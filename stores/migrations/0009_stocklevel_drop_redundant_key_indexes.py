# StockLevel's foreign keys lose their own indexes: each key leads a composite index already
# (store: stock_level_unique_store_product (store, product); product: stock_product_store_idx
# (product, store)), so the single-column ones were only written on every stock change.
#
# Only the two indexes are dropped. AlterField alone would also drop and re-add both foreign key
# constraints, re-checking every stock row under lock, to end with the same constraints.

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "stores_stocklevel_product_id_fce24e76": "product_id",
    "stores_stocklevel_store_id_01135d20": "store_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0012_product_weight"),
        ("stores", "0008_store_kind_warehouse"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="stocklevel",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stock_levels",
                        to="catalog.product",
                        verbose_name="product",
                    ),
                ),
                migrations.AlterField(
                    model_name="stocklevel",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stock_levels",
                        to="stores.store",
                        verbose_name="store",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "stores_stocklevel" ("{column}")',
                )
                for name, column in INDEXES.items()
            ],
        ),
    ]
