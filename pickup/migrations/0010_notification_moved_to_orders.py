"""The Notification model now lives in orders (orders 0006 took over its table and rows): it
leaves pickup's state only; no SQL runs here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_notification_outbox"),
        ("pickup", "0009_pickup_store"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Notification")]),
    ]
