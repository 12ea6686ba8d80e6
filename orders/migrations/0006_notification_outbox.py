"""The notification outbox moves from pickup to orders, keeping every row; orders get a cancel
reason; the expiry e-mail becomes the "order cancelled" e-mail with reason "not collected".

- The Notification model is created in orders' state over the existing table (no SQL), then the
  table is renamed pickup_notification → orders_notification (AlterModelTable). Its rows, ids,
  constraint and index (named explicitly) stay as they are. pickup 0010 drops the model from
  pickup's state, again without SQL.
- Its content type is renamed to orders.notification, so the permissions already given for it
  (the store managers' group) and the admin's history follow the model.
- Kind "order_expired" rows become "order_cancelled"; cancelled orders get their reason: not
  collected when the expiry e-mail was written for them, else cancelled by the store (the only
  other way there was to cancel).
"""

import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    # A database that never had orders.notification (every one before this migration): the
    # content type, and with it the permissions and the groups holding them, becomes orders'.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="orders", model="notification").exists():
        ContentType.objects.filter(app_label="pickup", model="notification").update(app_label="orders")


# Going back leaves the content type where it is: the older code's post_migrate creates
# pickup.notification and its permissions again, and the managers' group is given them then.


def expired_becomes_cancelled(apps, schema_editor):
    Notification = apps.get_model("orders", "Notification")
    Order = apps.get_model("orders", "Order")
    expired = Notification.objects.filter(kind="order_expired")
    Order.objects.filter(status="cancelled", pk__in=expired.values("order_id")).update(cancel_reason="not_collected")
    Order.objects.filter(status="cancelled", cancel_reason="").update(cancel_reason="store")
    expired.update(kind="order_cancelled")


def cancelled_becomes_expired(apps, schema_editor):
    Notification = apps.get_model("orders", "Notification")
    Notification.objects.filter(kind="order_cancelled", order__cancel_reason="not_collected").update(
        kind="order_expired"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0005_pickup_details_leave_the_order"),
        ("pickup", "0008_curbside_visit_per_fulfilment"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("order_received", "Order received"),
                                    ("ready_for_pickup", "Ready for pickup"),
                                    ("pickup_reminder", "Pickup reminder"),
                                    ("order_cancelled", "Order cancelled"),
                                ],
                                max_length=32,
                                verbose_name="kind",
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("sending", "Sending"),
                                    ("sent", "Sent"),
                                    ("failed", "Failed"),
                                    ("unconfirmed", "Unconfirmed (check and resend)"),
                                ],
                                default="pending",
                                max_length=16,
                                verbose_name="status",
                            ),
                        ),
                        ("recipient", models.EmailField(max_length=254, verbose_name="recipient")),
                        ("attempts", models.PositiveIntegerField(default=0, verbose_name="attempts")),
                        ("last_error", models.TextField(blank=True, verbose_name="last error")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="queued at")),
                        ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
                        (
                            "dispatched_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="queued for the worker at"),
                        ),
                        ("claim_token", models.CharField(blank=True, max_length=64, verbose_name="claimed by")),
                        ("claimed_at", models.DateTimeField(blank=True, null=True, verbose_name="claimed at")),
                        (
                            "send_started_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="handed to the mail server at"),
                        ),
                        (
                            "order",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="orders.order",
                                verbose_name="order",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "notification",
                        "verbose_name_plural": "notifications",
                        "ordering": ["created_at", "pk"],
                        "db_table": "pickup_notification",
                        "indexes": [models.Index(fields=["status", "dispatched_at"], name="notification_relay_idx")],
                        "constraints": [
                            models.UniqueConstraint(fields=("order", "kind"), name="notification_unique_per_order_kind")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="notification", table=None),
        migrations.RunPython(move_content_type, migrations.RunPython.noop),
        migrations.AddField(
            model_name="order",
            name="cancel_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("store", "Cancelled by the store"),
                    ("not_collected", "Not collected in time"),
                    ("shopper", "Cancelled by the shopper"),
                ],
                editable=False,
                max_length=16,
                verbose_name="cancelled because",
            ),
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
                    ("emailed", "E-mail sent"),
                ],
                default="status",
                max_length=20,
                verbose_name="what",
            ),
        ),
        migrations.RunPython(expired_becomes_cancelled, cancelled_becomes_expired),
    ]
