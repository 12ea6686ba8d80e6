# A curbside visit is keyed by its fulfilment (the check-in belongs to it), no longer the order.

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def visits_back_to_orders(apps, schema_editor):
    CurbsideVisit = apps.get_model("pickup", "CurbsideVisit")
    Fulfilment = apps.get_model("orders", "Fulfilment")
    CurbsideVisit.objects.update(
        order_id=Subquery(Fulfilment.objects.filter(pk=OuterRef("fulfilment_id")).values("order_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("pickup", "0007_orders_carried_over"),
    ]

    # One step per change: PostgreSQL cannot drop NOT NULL from a column of the primary key, so
    # the order's key is dropped, then the column made nullable (so going back works), then the
    # fulfilment becomes the key; the order column goes last.
    operations = [
        migrations.AlterField(
            model_name="curbsidevisit",
            name="order",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="orders.order", verbose_name="order"
            ),
        ),
        migrations.AlterField(
            model_name="curbsidevisit",
            name="order",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="orders.order",
                verbose_name="order",
            ),
        ),
        migrations.AlterField(
            model_name="curbsidevisit",
            name="fulfilment",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="curbside_visit",
                to="orders.fulfilment",
                verbose_name="fulfilment",
            ),
        ),
        migrations.AlterField(
            model_name="curbsidevisit",
            name="fulfilment",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="curbside_visit",
                serialize=False,
                to="orders.fulfilment",
                verbose_name="fulfilment",
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, visits_back_to_orders),
        migrations.RemoveField(model_name="curbsidevisit", name="order"),
    ]
