# Pickup details per fulfilment (code, slot, vehicle, collector); curbside visits gain their
# fulfilment, filled by 0007 and made the primary key by 0008.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pickup", "0005_curbside_instructions_per_language"),
        ("orders", "0004_fulfilments"),
    ]

    operations = [
        migrations.CreateModel(
            name="Pickup",
            fields=[
                (
                    "fulfilment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="pickup",
                        serialize=False,
                        to="orders.fulfilment",
                        verbose_name="fulfilment",
                    ),
                ),
                ("code", models.CharField(editable=False, max_length=12, verbose_name="pickup code")),
                (
                    "slot_start",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="pickup slot"),
                ),
                (
                    "slot_end",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="pickup slot ends"),
                ),
                (
                    "vehicle_description",
                    models.CharField(
                        blank=True,
                        help_text="For curbside pickup, e.g. “red Toyota Yaris, AB-123”.",
                        max_length=120,
                        verbose_name="vehicle",
                    ),
                ),
                (
                    "collector_name",
                    models.CharField(blank=True, max_length=150, verbose_name="collected by (name)"),
                ),
            ],
            options={
                "verbose_name": "pickup",
                "verbose_name_plural": "pickups",
                "indexes": [models.Index(fields=["slot_start"], name="pickup_slot_start_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("slot_start__isnull", True), ("slot_end__gt", models.F("slot_start")), _connector="OR"
                        ),
                        name="pickup_slot_ends_after_start",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="curbsidevisit",
            name="fulfilment",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="curbside_visit",
                to="orders.fulfilment",
                verbose_name="fulfilment",
            ),
        ),
    ]
