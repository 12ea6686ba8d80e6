"""Reconciling transfers (read-only), part of `manage.py check_integrity` (O2O_INTEGRITY_CHECKS).

The stock itself is reconciled by orders.integrity with this app's adjustments
(transfers.selectors.stock_reserved_for_transfers): units reserved at a source for a transfer not
yet sent, and units on their way that a store's open orders wait for. Here, the transfers agree
with their orders and their own record:
- a transfer not yet sent serves an order still waiting (else it holds units at its source for
  nobody: its order's cancellation was not followed through);
- an order ready for pickup (or collected) waits for no transfer still on its way;
- each transfer's status has its time (sent, received) and its last event says the same status.
Three queries whatever the number of transfers.
"""

from django.db.models import OuterRef, Subquery

from orders.models import FULFILMENT_STATUSES_HOLDING_STOCK, OrderStatus

from .models import STATUSES_ON_THE_WAY, STATUSES_RESERVED_AT_SOURCE, Transfer, TransferEvent, TransferStatus


def check_transfers(report) -> None:
    for number, order_number in (
        Transfer.objects.filter(status__in=STATUSES_RESERVED_AT_SOURCE, fulfilment__isnull=False)
        .exclude(fulfilment__status__in=FULFILMENT_STATUSES_HOLDING_STOCK)
        .values_list("number", "fulfilment__order__number")
        .order_by("number")
    ):
        report.problems.append(
            f"transfers: {number} still reserves units at its source for order {order_number}, which waits no more"
        )
    for number, order_number in (
        Transfer.objects.filter(status__in=STATUSES_ON_THE_WAY)
        .filter(fulfilment__order__status__in=(OrderStatus.READY_FOR_PICKUP, OrderStatus.COLLECTED))
        .values_list("number", "fulfilment__order__number")
        .order_by("number")
    ):
        report.problems.append(f"transfers: order {order_number} is ready but transfer {number} is still on its way")
    last_event = TransferEvent.objects.filter(transfer=OuterRef("pk"), refused=False).order_by("-created_at", "-pk")
    for number, status, sent_at, received_at, last in (
        Transfer.objects.annotate(last=Subquery(last_event.values("to_status")[:1]))
        .values_list("number", "status", "sent_at", "received_at", "last")
        .order_by("number")
    ):
        if last != status:
            report.problems.append(f"transfers: {number} is {status} but its last event says {last}")
        if status in (TransferStatus.IN_TRANSIT, TransferStatus.RECEIVED) and sent_at is None:
            report.problems.append(f"transfers: {number} is {status} without a sending time")
        if (status == TransferStatus.RECEIVED) != (received_at is not None):
            report.problems.append(f"transfers: {number} is {status} but its receiving time says otherwise")
