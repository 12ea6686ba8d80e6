"""orders 0006 / pickup 0010: the notification outbox moves from pickup to orders, every row kept.

Migrates the test database back to before the move, writes orders and notifications the way the
shop did then (every kind and state, a manager group with the notification permission), migrates
forward and checks that every row, id and field is still there, the expiry e-mail became the
"order cancelled" one with reason "not collected", and the permission followed the model.
"""

import datetime

import pytest
from django.apps import apps as current_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from stores.tests.factories import StoreFactory

BEFORE = [("orders", "0005_pickup_details_leave_the_order"), ("pickup", "0009_pickup_store")]
AFTER = [("orders", "0006_notification_outbox"), ("pickup", "0010_notification_moved_to_orders")]
FIELDS = (
    "id",
    "order_id",
    "kind",
    "status",
    "recipient",
    "attempts",
    "last_error",
    "created_at",
    "sent_at",
    "dispatched_at",
    "claim_token",
    "claimed_at",
    "send_started_at",
)


@pytest.fixture
def executor(transactional_db):
    executor = MigrationExecutor(connection)
    yield executor
    # Back to the latest schema, whatever happened, for the tests after this one.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(executor, targets):
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def test_moving_the_outbox_to_orders_keeps_every_notification(executor):
    # given the shop as it was before the move
    old = migrate(executor, BEFORE)
    Order, Notification = old.get_model("orders", "Order"), old.get_model("pickup", "Notification")
    store = StoreFactory(name="Laugavegur")
    now = timezone.now().replace(microsecond=0)

    def order(number, status):
        return Order.objects.create(
            number=number,
            contact_name="Anna",
            contact_email=f"{number.lower()}@example.com",
            contact_phone="+354 555 1234",
            store_id=store.pk,
            status=status,
            currency="ISK",
            total=4990,
            language="is",
        )

    ready, collected = order("READY1", "ready_for_pickup"), order("COLLECT1", "collected")
    expired, by_store = order("EXPIRED1", "cancelled"), order("STORE1", "cancelled")
    rows = [
        Notification.objects.create(
            order_id=ready.pk,
            kind="ready_for_pickup",
            status="sent",
            recipient="a@example.com",
            attempts=1,
            sent_at=now,
            dispatched_at=now,
        ),
        Notification.objects.create(
            order_id=ready.pk,
            kind="pickup_reminder",
            status="sending",
            recipient="a@example.com",
            attempts=2,
            claim_token="task-1",
            claimed_at=now,
            send_started_at=now,
            last_error="SMTP 451: try again",
        ),
        Notification.objects.create(
            order_id=collected.pk,
            kind="ready_for_pickup",
            status="unconfirmed",
            recipient="c@example.com",
            attempts=3,
            send_started_at=now - datetime.timedelta(minutes=5),
            last_error="may or may not have arrived",
        ),
        Notification.objects.create(
            order_id=expired.pk,
            kind="order_expired",
            status="failed",
            recipient="e@example.com",
            attempts=6,
            last_error="SMTP 550",
        ),
        Notification.objects.create(order_id=expired.pk, kind="ready_for_pickup", status="pending", recipient="e@x.is"),
    ]
    before = {row.pk: tuple(getattr(row, field) for field in FIELDS) for row in Notification.objects.all()}
    assert len(before) == len(rows)
    # a manager group holding the permission to see notifications, as the shop gives store managers
    # (a database of that time has no orders.notification content type; the test database does)
    ContentType = old.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="orders", model="notification").delete()
    Permission, Group = old.get_model("auth", "Permission"), old.get_model("auth", "Group")
    content_type, _created = ContentType.objects.get_or_create(app_label="pickup", model="notification")
    view, _created = Permission.objects.get_or_create(
        content_type=content_type, codename="view_notification", defaults={"name": "Can view notification"}
    )
    group = Group.objects.create(name="Managers before the move")
    group.permissions.add(view)

    # when the migrations run
    new = migrate(executor, AFTER)

    # then every notification is in orders, with its id and every field; the expiry e-mail is now
    # the "order cancelled" one, and nothing else changed
    Moved = new.get_model("orders", "Notification")
    assert Moved._meta.db_table == "orders_notification"
    after = {row.pk: tuple(getattr(row, field) for field in FIELDS) for row in Moved.objects.all()}
    kind = FIELDS.index("kind")
    expected = {
        pk: values[:kind]
        + ("order_cancelled" if values[kind] == "order_expired" else values[kind],)
        + values[kind + 1 :]
        for pk, values in before.items()
    }
    assert after == expected
    assert "pickup_notification" not in connection.introspection.table_names()
    # and the cancelled orders carry their reason: not collected when the expiry e-mail was written
    Order = new.get_model("orders", "Order")
    assert dict(Order.objects.values_list("number", "cancel_reason")) == {
        "READY1": "",
        "COLLECT1": "",
        "EXPIRED1": "not_collected",
        "STORE1": "store",
    }
    # and the permission (the same row) now belongs to orders.notification, still held by the group
    ContentType = new.get_model("contenttypes", "ContentType")
    moved_type = ContentType.objects.get(app_label="orders", model="notification")
    assert moved_type.pk == content_type.pk
    assert not ContentType.objects.filter(app_label="pickup", model="notification").exists()
    Group = new.get_model("auth", "Group")
    assert list(Group.objects.get(pk=group.pk).permissions.values_list("pk", "content_type_id", "codename")) == [
        (view.pk, moved_type.pk, "view_notification")
    ]
    # and the shop's own model reads the moved rows
    assert current_apps.get_model("orders", "Notification").objects.count() == len(rows)
    assert by_store.pk in Order.objects.filter(cancel_reason="store").values_list("pk", flat=True)


def test_the_move_can_be_undone_without_losing_rows(executor):
    # given a notification written after the move, of a kind that existed before
    migrate(executor, BEFORE)
    new = migrate(executor, AFTER)
    store = StoreFactory(name="Laugavegur")
    Order, Notification = new.get_model("orders", "Order"), new.get_model("orders", "Notification")
    order = Order.objects.create(
        number="UNDO1",
        contact_name="A",
        contact_email="a@example.com",
        contact_phone="1",
        store_id=store.pk,
        status="cancelled",
        cancel_reason="not_collected",
        currency="ISK",
        total=1,
        language="en",
    )
    notification = Notification.objects.create(order_id=order.pk, kind="order_cancelled", recipient="a@example.com")

    # when the migrations are reversed
    old = migrate(executor, BEFORE)

    # then the row is back in pickup's table, as the expiry e-mail it was
    assert list(old.get_model("pickup", "Notification").objects.values_list("pk", "kind")) == [
        (notification.pk, "order_expired")
    ]
