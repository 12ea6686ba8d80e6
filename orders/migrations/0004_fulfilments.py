# An order has one or more fulfilments (method, stock location, lines, status, timeline) and
# records its channel; the pickup details move to pickup.Pickup (pickup 0006-0008, orders 0005).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

STATUS_CHOICES = [
    ("placed", "Placed"),
    ("ready_for_pickup", "Ready for pickup"),
    ("collected", "Collected"),
    ("cancelled", "Cancelled"),
    ("pending", "Pending"),
    ("ready", "Ready"),
    ("fulfilled", "Fulfilled"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_curbside_slots_collector"),
        ("stores", "0003_store_slug_not_a_page"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="channel",
            field=models.CharField(
                choices=[("web", "Web shop"), ("in_store", "In store")],
                default="web",
                max_length=16,
                verbose_name="channel",
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="store",
            field=models.ForeignKey(
                help_text="The store the order is attributed to.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="stores.store",
                verbose_name="store",
            ),
        ),
        migrations.CreateModel(
            name="Fulfilment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "method",
                    models.CharField(
                        choices=[("in_store", "Pickup in store"), ("curbside", "Curbside pickup")],
                        default="in_store",
                        max_length=16,
                        verbose_name="method",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("ready", "Ready"),
                            ("fulfilled", "Fulfilled"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="pending",
                        editable=False,
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="placed at")),
                (
                    "fulfilled_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="fulfilled at"),
                ),
                (
                    "fulfilled_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="handed over by",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="fulfilments",
                        to="orders.order",
                        verbose_name="order",
                    ),
                ),
                (
                    "stock_location",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="fulfilments",
                        to="stores.store",
                        verbose_name="stock location",
                    ),
                ),
            ],
            options={
                "verbose_name": "fulfilment",
                "verbose_name_plural": "fulfilments",
                "ordering": ["pk"],
                "indexes": [
                    models.Index(fields=["stock_location", "status"], name="fulfilment_location_status_idx")
                ],
            },
        ),
        migrations.CreateModel(
            name="FulfilmentLine",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("quantity", models.PositiveIntegerField(verbose_name="quantity")),
                (
                    "fulfilment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="orders.fulfilment",
                        verbose_name="fulfilment",
                    ),
                ),
                (
                    "order_line",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="fulfilment_lines",
                        to="orders.orderline",
                        verbose_name="order line",
                    ),
                ),
            ],
            options={
                "verbose_name": "fulfilment line",
                "verbose_name_plural": "fulfilment lines",
                "ordering": ["pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("quantity__gte", 1)), name="fulfilment_line_quantity_positive"
                    ),
                    models.UniqueConstraint(
                        fields=("fulfilment", "order_line"), name="fulfilment_line_unique_per_line"
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="orderevent",
            name="fulfilment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="events",
                to="orders.fulfilment",
                verbose_name="fulfilment",
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="from_status",
            field=models.CharField(blank=True, choices=STATUS_CHOICES, max_length=20, verbose_name="from"),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="to_status",
            field=models.CharField(choices=STATUS_CHOICES, max_length=20, verbose_name="to"),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("status", "Status change"),
                    ("on_the_way", "On the way"),
                    ("arrived", "Checked in at the store"),
                    ("collector_changed", "Collector changed"),
                    ("reminded", "Pickup reminder sent"),
                    ("fulfilment_status", "Fulfilment status change"),
                ],
                default="status",
                max_length=20,
                verbose_name="what",
            ),
        ),
    ]
