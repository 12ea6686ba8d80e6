"""Every existing order gets its one fulfilment: its lines in full, its method, its store as the
stock location, its status (placed → pending, ready → ready, collected → fulfilled, cancelled →
cancelled), hand-over time and staff; its pickup code, slot, vehicle and collector become the
fulfilment's Pickup; its events and its curbside visit are re-pointed at the fulfilment.
Notifications and pickup-code attempts stay with the order. Reversible: going back copies the
pickup details onto the order again (after orders 0005 is reversed) and removes the fulfilments.

Tested by pickup/tests/test_fulfilment_migration.py.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery

FULFILMENT_STATUS_OF_ORDER = {
    "placed": "pending",
    "ready_for_pickup": "ready",
    "collected": "fulfilled",
    "cancelled": "cancelled",
}
BATCH = 1000


def carry_orders_over(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderLine = apps.get_model("orders", "OrderLine")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    Fulfilment = apps.get_model("orders", "Fulfilment")
    FulfilmentLine = apps.get_model("orders", "FulfilmentLine")
    Pickup = apps.get_model("pickup", "Pickup")
    CurbsideVisit = apps.get_model("pickup", "CurbsideVisit")

    pending = Order.objects.filter(fulfilments__isnull=True).order_by("pk")
    while True:
        orders = list(pending[:BATCH])
        if not orders:
            break
        fulfilments = Fulfilment.objects.bulk_create(
            Fulfilment(
                order_id=order.pk,
                method=order.fulfilment,
                stock_location_id=order.store_id,
                status=FULFILMENT_STATUS_OF_ORDER[order.status],
                fulfilled_at=order.collected_at,
                fulfilled_by_id=order.collected_by_id,
            )
            for order in orders
        )
        fulfilment_of = {fulfilment.order_id: fulfilment.pk for fulfilment in fulfilments}
        FulfilmentLine.objects.bulk_create(
            FulfilmentLine(fulfilment_id=fulfilment_of[line.order_id], order_line_id=line.pk, quantity=line.quantity)
            for line in OrderLine.objects.filter(order_id__in=list(fulfilment_of)).order_by("pk")
        )
        Pickup.objects.bulk_create(
            Pickup(
                fulfilment_id=fulfilment_of[order.pk],
                code=order.pickup_code,
                slot_start=order.pickup_slot_start,
                slot_end=order.pickup_slot_end,
                vehicle_description=order.vehicle_description,
                collector_name=order.collector_name,
            )
            for order in orders
        )
    # The fulfilment was placed with its order; every event and visit so far concerns it.
    first_fulfilment = Fulfilment.objects.filter(order_id=OuterRef("order_id")).order_by("pk").values("pk")[:1]
    Fulfilment.objects.update(
        created_at=Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("created_at")[:1])
    )
    OrderEvent.objects.filter(fulfilment__isnull=True).update(fulfilment_id=Subquery(first_fulfilment))
    CurbsideVisit.objects.filter(fulfilment__isnull=True).update(fulfilment_id=Subquery(first_fulfilment))


def carry_orders_back(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    Fulfilment = apps.get_model("orders", "Fulfilment")
    Pickup = apps.get_model("pickup", "Pickup")
    CurbsideVisit = apps.get_model("pickup", "CurbsideVisit")

    for pickup in Pickup.objects.select_related("fulfilment").order_by("pk").iterator(chunk_size=BATCH):
        fulfilment = pickup.fulfilment
        Order.objects.filter(pk=fulfilment.order_id).update(
            fulfilment=fulfilment.method,
            pickup_code=pickup.code,
            pickup_slot_start=pickup.slot_start,
            pickup_slot_end=pickup.slot_end,
            vehicle_description=pickup.vehicle_description,
            collector_name=pickup.collector_name,
            collected_at=fulfilment.fulfilled_at,
            collected_by_id=fulfilment.fulfilled_by_id,
        )
    OrderEvent.objects.update(fulfilment=None)
    CurbsideVisit.objects.update(fulfilment=None)
    Fulfilment.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pickup", "0006_pickups"),
        ("orders", "0004_fulfilments"),
    ]

    operations = [migrations.RunPython(carry_orders_over, carry_orders_back)]
