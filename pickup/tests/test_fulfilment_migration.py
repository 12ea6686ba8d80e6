"""The move to fulfilments (orders 0004-0005, pickup 0006-0009) carries every order over.

At the state before the move the demo shop is seeded (seed_demo writes stores, the catalogue,
stock, pickup settings and logins, whose tables the move leaves alone), then orders in every state
are added through the historical models (today's order code writes today's tables): in store and
curbside, with slots, collectors, check-ins, hand-overs, events, notifications and pickup-code
attempts. The database is migrated forward and every row is compared with what it was; then it is
migrated back and the orders hold their pickup details again.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from demo import services as demo_services
from demo.services import seed_demo

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("orders", "0003_curbside_slots_collector"), ("pickup", "0005_curbside_instructions_per_language")]
FULFILMENT_STATUS = {
    "placed": "pending",
    "ready_for_pickup": "ready",
    "collected": "fulfilled",
    "cancelled": "cancelled",
}
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _notification_model(apps):
    # The outbox may live in orders or in pickup depending on which migrations have run.
    for app in ("orders", "pickup"):
        try:
            return apps.get_model(app, "Notification")
        except LookupError:
            continue
    raise LookupError("Notification")


# Fulfilment apps built on the order core came after BEFORE: their tables are not there yet, so the
# demo is seeded without them (demo.services seeds each app's rows in a function of its own).
LATER_SEEDS = ("_seed_delivery", "_seed_shipping_rates")


@pytest.fixture
def old_shop(monkeypatch):
    """The old schema with a shop in it; the schema is brought back to the latest afterwards."""
    for name in LATER_SEEDS:
        monkeypatch.setattr(demo_services, name, lambda *args, **kwargs: None)
    apps = _migrate(BEFORE)
    try:
        yield apps, _seed(apps)
    finally:
        _migrate(_latest())


def _seed(apps):
    User = apps.get_model("accounts", "User")
    Store = apps.get_model("stores", "Store")
    Product = apps.get_model("catalog", "Product")
    Order = apps.get_model("orders", "Order")
    OrderLine = apps.get_model("orders", "OrderLine")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    CurbsideVisit = apps.get_model("pickup", "CurbsideVisit")
    PickupCodeAttempt = apps.get_model("pickup", "PickupCodeAttempt")
    Notification = _notification_model(apps)

    seed_demo()
    clerk = User.objects.create(username="migration-clerk", is_staff=True)
    stores = list(Store.objects.filter(time_zone="Atlantic/Reykjavik").order_by("pk")[:2])
    products = list(Product.objects.order_by("pk")[:3])
    # state, method, store, slot, collector, vehicle, visit state
    shapes = [
        ("placed", "in_store", 0, True, "", "", None),
        ("placed", "curbside", 1, True, "Sigga", "Red Yaris", None),
        ("ready_for_pickup", "in_store", 0, False, "Björn", "", None),
        ("ready_for_pickup", "curbside", 0, True, "", "Blue Golf", "arrived"),
        ("ready_for_pickup", "curbside", 1, True, "", "Green Volvo", "on_the_way"),
        ("collected", "in_store", 0, True, "", "", None),
        ("collected", "curbside", 1, True, "Kári", "White Tesla", "handed_over"),
        ("cancelled", "in_store", 1, False, "", "", None),
        ("cancelled", "curbside", 0, True, "", "Black Saab", None),
    ]
    numbers = []
    for n, (status, method, store_index, with_slot, collector, vehicle, visit_state) in enumerate(shapes):
        slot_start = NOW + datetime.timedelta(days=1, hours=n) if with_slot else None
        order = Order.objects.create(
            number=f"ORDER{n:03d}",
            contact_name=f"Shopper {n}",
            contact_email=f"shopper{n}@example.com",
            contact_phone="+354 555 1234",
            store=stores[store_index],
            status=status,
            currency="ISK",
            total=Decimal("0"),
            pickup_code=f"{n:06d}",
            language="is",
            fulfilment=method,
            vehicle_description=vehicle,
            collector_name=collector,
            pickup_slot_start=slot_start,
            pickup_slot_end=slot_start + datetime.timedelta(minutes=30) if slot_start else None,
            collected_at=NOW + datetime.timedelta(hours=n) if status == "collected" else None,
            collected_by=clerk if status == "collected" else None,
        )
        Order.objects.filter(pk=order.pk).update(created_at=NOW - datetime.timedelta(days=n))
        for k, product in enumerate(products[: 1 + n % 3]):
            OrderLine.objects.create(
                order=order,
                product=product if k != 2 else None,  # a line whose product was deleted since
                product_name=product.name,
                sku=product.sku,
                unit_price=product.price,
                quantity=1 + k,
                line_total=product.price * (1 + k),
            )
        path = {"placed": ["placed"], "ready_for_pickup": ["placed", "ready_for_pickup"]}.get(
            status, ["placed", "ready_for_pickup", status] if status == "collected" else ["placed", status]
        )
        previous = ""
        for to_status in path:
            OrderEvent.objects.create(order=order, from_status=previous, to_status=to_status, actor=clerk, note="")
            previous = to_status
        if collector:
            OrderEvent.objects.create(
                order=order, kind="collector_changed", from_status=status, to_status=status, note=f"{collector} will"
            )
        if visit_state:
            CurbsideVisit.objects.create(
                order=order,
                state=visit_state,
                on_the_way_at=NOW,
                eta=NOW + datetime.timedelta(minutes=10),
                arrived_at=NOW + datetime.timedelta(minutes=12) if visit_state != "on_the_way" else None,
                bay=2 if visit_state != "on_the_way" else None,
                vehicle=vehicle,
                handed_over_at=NOW + datetime.timedelta(minutes=15) if visit_state == "handed_over" else None,
                handed_over_by=clerk if visit_state == "handed_over" else None,
                wait_seconds=180 if visit_state == "handed_over" else None,
            )
            OrderEvent.objects.create(order=order, kind="arrived", from_status=status, to_status=status, note="bay 2")
        if status in ("ready_for_pickup", "collected"):
            Notification.objects.create(order=order, kind="ready_for_pickup", recipient=order.contact_email)
        if status == "cancelled":
            Notification.objects.create(
                order=order, kind="order_expired", recipient=order.contact_email, status="sent", sent_at=NOW
            )
        if n == 2:
            PickupCodeAttempt.objects.create(order=order, user=clerk, succeeded=False, at=NOW)
        numbers.append(order.number)
    return numbers


def _snapshot(apps):
    """Everything the move must keep, as plain values, by order number."""
    Order = apps.get_model("orders", "Order")
    OrderLine = apps.get_model("orders", "OrderLine")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    PickupCodeAttempt = apps.get_model("pickup", "PickupCodeAttempt")
    Notification = _notification_model(apps)
    return {
        "orders": sorted(
            Order.objects.values_list(
                "number", "status", "store_id", "contact_email", "created_at", "total", "language", "customer_id"
            )
        ),
        "lines": sorted(
            OrderLine.objects.values_list("order__number", "pk", "product_id", "product_name", "quantity", "line_total")
        ),
        "events": sorted(
            OrderEvent.objects.values_list(
                "order__number", "pk", "kind", "from_status", "to_status", "actor_id", "note", "created_at"
            )
        ),
        "notifications": sorted(
            Notification.objects.values_list("order__number", "kind", "status", "recipient", "sent_at")
        ),
        "attempts": sorted(PickupCodeAttempt.objects.values_list("order__number", "user_id", "succeeded", "at")),
        "shop": [
            apps.get_model(*name).objects.count()
            for name in (
                ("stores", "Store"),
                ("catalog", "Product"),
                ("stores", "StockLevel"),
                ("pickup", "PickupSettings"),
            )
        ],
    }


VISIT_FIELDS = ("state", "on_the_way_at", "eta", "arrived_at", "bay", "vehicle", "handed_over_at", "handed_over_by_id")


def test_every_order_line_event_code_slot_check_in_and_notification_is_carried_over(old_shop):
    # given the shop before the move, with orders in every state
    apps, numbers = old_shop
    before = _snapshot(apps)
    Order = apps.get_model("orders", "Order")
    old_orders = {order.number: order for order in Order.objects.all()}
    old_visits = {
        visit.order.number: tuple(getattr(visit, field) for field in VISIT_FIELDS)
        for visit in apps.get_model("pickup", "CurbsideVisit").objects.select_related("order")
    }
    assert {order.status for order in old_orders.values()} == set(FULFILMENT_STATUS)
    assert min(before["shop"]) > 0  # the demo shop: stores, products, stock, pickup settings

    # when the database is migrated to the latest state
    apps = _migrate(_latest())

    # then orders, lines, events, notifications and code attempts are all still there, unchanged
    # (but for the expiry e-mail, now the "order cancelled" one: orders 0006)
    renamed = {"order_expired": "order_cancelled"}
    moved = sorted((number, renamed.get(kind, kind), *rest) for number, kind, *rest in before["notifications"])
    assert _snapshot(apps) == {**before, "notifications": moved}
    Fulfilment = apps.get_model("orders", "Fulfilment")
    FulfilmentLine = apps.get_model("orders", "FulfilmentLine")
    OrderLine = apps.get_model("orders", "OrderLine")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    # and every order has one fulfilment with its method, store, status, hand-over and pickup details
    fulfilments = Fulfilment.objects.select_related("order", "pickup").order_by("order__number")
    assert [fulfilment.order.number for fulfilment in fulfilments] == sorted(numbers)
    for fulfilment in fulfilments:
        old = old_orders[fulfilment.order.number]
        assert fulfilment.order.channel == "web"
        assert (fulfilment.method, fulfilment.stock_location_id, fulfilment.status) == (
            old.fulfilment,
            old.store_id,
            FULFILMENT_STATUS[old.status],
        )
        assert (fulfilment.fulfilled_at, fulfilment.fulfilled_by_id) == (old.collected_at, old.collected_by_id)
        assert fulfilment.created_at == fulfilment.order.created_at
        pickup = fulfilment.pickup
        assert pickup.store_id == old.store_id
        assert (pickup.code, pickup.slot_start, pickup.slot_end, pickup.vehicle_description, pickup.collector_name) == (
            old.pickup_code,
            old.pickup_slot_start,
            old.pickup_slot_end,
            old.vehicle_description,
            old.collector_name,
        )
        # its lines are every line of the order, in full
        assert sorted(
            FulfilmentLine.objects.filter(fulfilment=fulfilment).values_list("order_line_id", "quantity")
        ) == (sorted(OrderLine.objects.filter(order=fulfilment.order).values_list("pk", "quantity")))
        # and the order's timeline is the fulfilment's
        assert set(OrderEvent.objects.filter(order=fulfilment.order).values_list("fulfilment_id", flat=True)) == {
            fulfilment.pk
        }
    # and each check-in belongs to its order's fulfilment, as it was
    visits = apps.get_model("pickup", "CurbsideVisit").objects.select_related("fulfilment__order")
    assert {
        visit.fulfilment.order.number: tuple(getattr(visit, field) for field in VISIT_FIELDS) for visit in visits
    } == old_visits

    # when the move is undone
    apps = _migrate(BEFORE)

    # then the orders hold their pickup details again
    for order in apps.get_model("orders", "Order").objects.all():
        old = old_orders[order.number]
        for field in (
            "fulfilment",
            "pickup_code",
            "pickup_slot_start",
            "pickup_slot_end",
            "vehicle_description",
            "collector_name",
            "collected_at",
            "collected_by_id",
        ):
            assert getattr(order, field) == getattr(old, field), field
    visits = apps.get_model("pickup", "CurbsideVisit").objects.select_related("order")
    assert {visit.order.number: tuple(getattr(visit, field) for field in VISIT_FIELDS) for visit in visits} == (
        old_visits
    )
    assert _snapshot(apps) == before
