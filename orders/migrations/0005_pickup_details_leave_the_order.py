# The pickup details now live in pickup.Pickup and orders.Fulfilment (copied by pickup 0007).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_fulfilments"),
        ("pickup", "0007_orders_carried_over"),
    ]

    operations = [
        # A default only so that going back can add the column to a table with rows (pickup 0007
        # then copies the codes back).
        migrations.AlterField(
            model_name="order",
            name="pickup_code",
            field=models.CharField(default="", editable=False, max_length=12, verbose_name="pickup code"),
        ),
        migrations.RemoveConstraint(model_name="order", name="order_slot_ends_after_start"),
        migrations.RemoveIndex(model_name="order", name="order_store_slot_idx"),
        migrations.RemoveField(model_name="order", name="collected_at"),
        migrations.RemoveField(model_name="order", name="collected_by"),
        migrations.RemoveField(model_name="order", name="collector_name"),
        migrations.RemoveField(model_name="order", name="fulfilment"),
        migrations.RemoveField(model_name="order", name="pickup_code"),
        migrations.RemoveField(model_name="order", name="pickup_slot_end"),
        migrations.RemoveField(model_name="order", name="pickup_slot_start"),
        migrations.RemoveField(model_name="order", name="vehicle_description"),
    ]
