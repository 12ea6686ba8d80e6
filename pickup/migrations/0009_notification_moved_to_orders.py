"""The Notification model now lives in orders (orders 0006 took over its table and rows): it
leaves pickup's state only; no SQL runs here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_notification_outbox"),
        ("pickup", "0008_curbside_visit_per_fulfilment"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Notification")]),
    ]
