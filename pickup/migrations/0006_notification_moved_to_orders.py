"""The Notification model now lives in orders (orders 0004 took over its table and rows): it
leaves pickup's state only; no SQL runs here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_notification_outbox"),
        ("pickup", "0005_curbside_instructions_per_language"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Notification")]),
    ]
