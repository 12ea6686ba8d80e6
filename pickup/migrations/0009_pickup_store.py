# A pickup names the store the shopper collects at (today its fulfilment's stock location), so a
# store's booked slots are counted on one index, (store, slot_start), as on the order before.

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def pickups_at_their_stock_location(apps, schema_editor):
    Pickup = apps.get_model("pickup", "Pickup")
    Fulfilment = apps.get_model("orders", "Fulfilment")
    Pickup.objects.filter(store__isnull=True).update(
        store_id=Subquery(Fulfilment.objects.filter(pk=OuterRef("fulfilment_id")).values("stock_location_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("pickup", "0008_curbside_visit_per_fulfilment"),
        ("stores", "0003_store_slug_not_a_page"),
    ]

    operations = [
        migrations.AddField(
            model_name="pickup",
            name="store",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="stores.store",
                verbose_name="pickup store",
            ),
        ),
        migrations.RunPython(pickups_at_their_stock_location, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="pickup",
            name="store",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="stores.store",
                verbose_name="pickup store",
            ),
        ),
        migrations.RemoveIndex(model_name="pickup", name="pickup_slot_start_idx"),
        migrations.AddIndex(
            model_name="pickup",
            index=models.Index(fields=["store", "slot_start"], name="pickup_store_slot_idx"),
        ),
    ]
