"""Every change to a transfer: creating it, moving it through TRANSFER_TRANSITIONS, and the
stock and order changes each move makes (through stores.services and orders.services).

Stock, per move (the database constraints on StockLevel are the last guard):
- requested: the units are reserved at the source (stores.services.reserve_stock, all or nothing);
- picked: nothing moves; the source has put them aside;
- in transit: they leave the source (neither reserved nor on hand there) and are nowhere on a
  shelf: transfers.selectors.stock_reserved_for_transfers tells `check_integrity` where they are;
- received: they are on hand at the destination, reserved for the order waiting there, which is
  ready for pickup at once (the same "ready for pickup" e-mail as any other pickup);
- cancelled (only before it leaves): the units go back on sale at the source.

Each move locks the transfer's row, checks the table, and writes a TransferEvent (who, where,
from, to); a refused receipt (a second one, or at the wrong store) is written too, then raised.
"""

import datetime
import secrets
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import signed_in
from orders.models import (
    FULFILMENT_STATUSES_HOLDING_STOCK,
    Fulfilment,
    FulfilmentStatus,
    Order,
    OrderActivity,
    OrderStatus,
)
from orders.services import ORDER_NUMBER_ALPHABET, make_ready_to_collect, record_order_activity
from stores import services as stock
from stores.models import Store

from .models import (
    STATUSES_RESERVED_AT_SOURCE,
    Transfer,
    TransferEvent,
    TransferLine,
    TransferStatus,
)
from .selectors import transfer_arrival


class TransferError(Exception):
    """A transfer cannot be made or moved so; the message says why, for staff or the shopper."""


class NoRoute(TransferError):
    """Goods cannot be sent from the source to the destination (transfers.selectors)."""


class IllegalTransferMove(TransferError):
    def __init__(self, transfer: Transfer, to_status: TransferStatus, message: str):
        self.transfer, self.to_status = transfer, to_status
        super().__init__(message)


class OrderStillWaiting(TransferError):
    """A transfer whose order still waits for it is not cancelled on its own (the order is)."""


class WrongStore(TransferError):
    """Staff at one store acted on a transfer that belongs to another (received it elsewhere)."""


def _new_number() -> str:
    return "T" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(7))


def request_transfer(
    *,
    source: Store,
    destination: Store,
    quantities: dict[int, int],
    fulfilment: Fulfilment | None = None,
    by: User | None = None,
    now: datetime.datetime | None = None,
) -> Transfer:
    """Ask `source` to send `quantities` ({product id: units}) to the `destination` store, for the
    pickup `fulfilment` waiting there: the units are reserved at the source at once (all or
    nothing, rows locked as for an order), the expected date is the route's
    (transfers.selectors.transfer_arrival), and the transfer is requested. Inside the caller's
    transaction when there is one (checkout places the order and its transfer together).

    Raises NoRoute when goods cannot go from `source` to `destination`, ValueError for a count
    below 1 or nothing to send, stores.services.InsufficientStock (naming every short product)
    when the source has too few units for sale; nothing is changed then.
    """
    if not quantities or any(units < 1 for units in quantities.values()):
        raise ValueError("a transfer carries at least one unit of each of its products")
    expected = transfer_arrival(source, destination, now=now)
    if expected is None:
        raise NoRoute(
            _("Goods cannot be sent from %(source)s to %(destination)s.")
            % {"source": source.name, "destination": destination.name}
        )
    with transaction.atomic():
        stock.reserve_stock(store=source, quantities=quantities)
        transfer = _create_with_unique_number(
            source=source, destination=destination, fulfilment=fulfilment, expected_on=expected
        )
        TransferLine.objects.bulk_create(
            TransferLine(transfer=transfer, product_id=product_id, quantity=units)
            for product_id, units in sorted(quantities.items())
        )
        TransferEvent.objects.create(
            transfer=transfer, from_status="", to_status=TransferStatus.REQUESTED, at_store=source, actor=signed_in(by)
        )
    return transfer


def _create_with_unique_number(**fields) -> Transfer:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Transfer.objects.create(number=_new_number(), **fields)
        except IntegrityError:
            continue
    raise TransferError(_("We could not number the transfer. Please try again."))


def _quantities(transfer: Transfer) -> dict[int, int]:
    return dict(TransferLine.objects.filter(transfer=transfer).values_list("product_id", "quantity"))


def _locked(transfer: Transfer) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("source", "destination", "fulfilment__order")
        .get(pk=transfer.pk)
    )


def _refuse_move(locked: Transfer, to_status: TransferStatus) -> IllegalTransferMove:
    message = REFUSALS[to_status]() % {"number": locked.number, "status": TransferStatus(locked.status).label}
    return IllegalTransferMove(locked, to_status, message)


# Why a move is refused, per move asked for.
REFUSALS = {
    TransferStatus.PICKED: lambda: _("Transfer %(number)s is “%(status)s”: it cannot be picked now."),
    TransferStatus.IN_TRANSIT: lambda: _("Transfer %(number)s is “%(status)s”: it cannot be sent now."),
    TransferStatus.RECEIVED: lambda: _(
        "Transfer %(number)s is “%(status)s”: it cannot be received now (only a transfer on its way can)."
    ),
    TransferStatus.CANCELLED: lambda: _(
        "Transfer %(number)s is “%(status)s”: it cannot be cancelled now (a transfer on its way is received "
        "at its destination)."
    ),
}


def _record(locked, *, from_status, to_status, at_store, by, note="", refused=False) -> TransferEvent:
    return TransferEvent.objects.create(
        transfer=locked,
        from_status=from_status,
        to_status=to_status,
        at_store=at_store,
        actor=signed_in(by),
        note=note[:255],
        refused=refused,
    )


class _Refused(Exception):
    """A refused move, carried out of the transaction so its event is kept (see _move)."""

    def __init__(self, error: TransferError, *, locked: Transfer, to_status, at_store, by):
        self.error, self.locked, self.to_status, self.at_store, self.by = error, locked, to_status, at_store, by


def _check_store(locked: Transfer, *, at_store: Store, end: str, to_status: TransferStatus, by) -> None:
    """WrongStore (with its refused event) when `at_store` is not the transfer's `end`."""
    expected = getattr(locked, end)
    if at_store.pk == expected.pk:
        return
    message = _("Transfer %(number)s is handled at %(store)s, not at %(here)s.") % {
        "number": locked.number,
        "store": expected.name,
        "here": at_store.name,
    }
    raise _Refused(WrongStore(message), locked=locked, to_status=to_status, at_store=at_store, by=by)


def mark_picked(*, transfer: Transfer, at_store: Store, by: User | None = None) -> Transfer:
    """The source has put the units aside (no stock moves: they are reserved there already).
    Raises WrongStore unless `at_store` is the source, IllegalTransferMove unless requested."""
    return _move(transfer, to_status=TransferStatus.PICKED, at_store=at_store, end="source", by=by)


def send_transfer(*, transfer: Transfer, at_store: Store, by: User | None = None) -> Transfer:
    """The units leave the source (in transit): no longer reserved nor on hand there
    (stores.services.send_reserved_stock). Raises WrongStore unless `at_store` is the source,
    IllegalTransferMove unless requested or picked, StockError if the source's reservation is gone."""
    return _move(transfer, to_status=TransferStatus.IN_TRANSIT, at_store=at_store, end="source", by=by)


def receive_transfer(*, transfer: Transfer, at_store: Store, by: User | None = None) -> Transfer:
    """The units arrived at the destination (`at_store`): on hand there, reserved for the order
    waiting for them, which is ready for pickup at once, with its "ready for pickup" e-mail
    (orders.services.make_ready_to_collect). When that order was cancelled on the way (or the
    transfer serves none) they go on sale instead, and both timelines say so.

    Refused, with a refused event kept and nothing else changed: WrongStore when `at_store` is not
    the destination, IllegalTransferMove when it is not in transit (received twice, never sent).
    """
    return _move(transfer, to_status=TransferStatus.RECEIVED, at_store=at_store, end="destination", by=by)


def cancel_transfer(
    *, transfer: Transfer, at_store: Store | None = None, by: User | None = None, note: str = ""
) -> Transfer:
    """Cancel a transfer not yet sent: its units go back on sale at the source. A transfer in
    transit cannot be cancelled (IllegalTransferMove, with a refused event): it is received at its
    destination. `at_store` is where staff acted (None: the shop itself, e.g. its order was
    cancelled); it must be one of the transfer's ends (WrongStore)."""
    return _move(transfer, to_status=TransferStatus.CANCELLED, at_store=at_store, end=None, by=by, note=note)


def _move(transfer, *, to_status, at_store, end, by, note="") -> Transfer:
    """Lock, check, apply; a refusal is written after the rollback, in a transaction of its own,
    so both stores see who tried what, where and when (unless the caller's own transaction is
    rolled back too)."""
    try:
        with transaction.atomic():
            locked = _locked(transfer)
            if end is not None:
                _check_store(locked, at_store=at_store, end=end, to_status=to_status, by=by)
            elif at_store is not None and at_store.pk not in (locked.source_id, locked.destination_id):
                _check_store(locked, at_store=at_store, end="source", to_status=to_status, by=by)
            return _apply(locked, to_status=to_status, at_store=at_store, by=by, original=transfer, note=note)
    except _Refused as refused:
        with transaction.atomic():
            _record(
                refused.locked,
                from_status=refused.locked.status,
                to_status=refused.to_status,
                at_store=refused.at_store,
                by=refused.by,
                note=str(refused.error),
                refused=True,
            )
        raise refused.error from None


def _apply(locked, *, to_status, at_store, by, original, note="") -> Transfer:
    if not locked.can_move_to(to_status):
        raise _Refused(_refuse_move(locked, to_status), locked=locked, to_status=to_status, at_store=at_store, by=by)
    if to_status == TransferStatus.CANCELLED and _order_waits_for(locked):
        # Its order would wait for units that never come: cancelling the order cancels this.
        error = OrderStillWaiting(
            _("Transfer %(number)s is for order %(order)s, which still waits for it: cancel the order instead.")
            % {"number": locked.number, "order": locked.fulfilment.order.number}
        )
        raise _Refused(error, locked=locked, to_status=to_status, at_store=at_store, by=by)
    from_status = locked.status
    now = timezone.now()
    quantities = _quantities(locked)
    if to_status == TransferStatus.IN_TRANSIT:
        stock.send_reserved_stock(store=locked.source, quantities=quantities)
        locked.sent_at = now
    elif to_status == TransferStatus.CANCELLED:
        stock.release_stock(store=locked.source, quantities=quantities)
    elif to_status == TransferStatus.RECEIVED:
        locked.received_at = now
        note = _receive(locked, quantities=quantities, by=by) or note
    locked.status = to_status
    locked.save(update_fields=["status", "sent_at", "received_at"])
    _record(locked, from_status=from_status, to_status=to_status, at_store=at_store, by=by, note=note)
    if locked.fulfilment_id and to_status in (TransferStatus.IN_TRANSIT, TransferStatus.CANCELLED):
        _tell_the_order(locked, to_status=to_status, by=by)
    original.status, original.sent_at, original.received_at = locked.status, locked.sent_at, locked.received_at
    return locked


def _order_waits_for(locked: Transfer) -> bool:
    return locked.fulfilment_id is not None and locked.fulfilment.status in FULFILMENT_STATUSES_HOLDING_STOCK


def _receive(locked: Transfer, *, quantities: dict[int, int], by) -> str:
    """Put the units on hand at the destination; reserved and the order made ready when an order
    still waits for them. Returns the event's note (empty when all went to the order)."""
    fulfilment = (
        Fulfilment.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(pk=locked.fulfilment_id)
        .first()
        if locked.fulfilment_id
        else None
    )
    waiting = fulfilment is not None and fulfilment.status in (FulfilmentStatus.PENDING, FulfilmentStatus.READY)
    stock.receive_transferred_stock(store=locked.destination, quantities=quantities, reserve=waiting)
    if not waiting:
        if fulfilment is None:
            return _("Received; the units are on sale here.")
        note = _("Received after order %(number)s was cancelled; the units are on sale here.") % {
            "number": fulfilment.order.number
        }
        record_order_activity(
            order=fulfilment.order,
            fulfilment=fulfilment,
            kind=OrderActivity.TRANSFER,
            by=by,
            note=partial(_order_note, "received_unwanted", locked),
        )
        return note
    order = Order.objects.select_for_update().get(pk=fulfilment.order_id)
    record_order_activity(
        order=order,
        fulfilment=fulfilment,
        kind=OrderActivity.TRANSFER,
        by=by,
        note=partial(_order_note, "received", locked),
    )
    # The order may be collected once nothing else of it is still on its way (another transfer).
    others = Transfer.objects.filter(fulfilment=fulfilment).on_the_way().exclude(pk=locked.pk)
    if order.status == OrderStatus.PLACED and not others.exists():
        make_ready_to_collect(order=order, fulfilment=fulfilment, by=by)
    return ""


def _order_note(what: str, transfer: Transfer) -> str:
    """The order's timeline note for a transfer's move, in the order's language (called by
    orders.services.note_in_order_language under it)."""
    names = {"source": transfer.source.name, "destination": transfer.destination.name, "number": transfer.number}
    notes = {
        "sent": _("Sent from %(source)s to %(destination)s (transfer %(number)s)."),
        "received": _("Arrived at %(destination)s from %(source)s (transfer %(number)s)."),
        "cancelled": _("The transfer from %(source)s was cancelled (transfer %(number)s)."),
        "received_unwanted": _(
            "Arrived at %(destination)s after the order was cancelled; put on sale (transfer %(number)s)."
        ),
    }
    return notes[what] % names


def _tell_the_order(locked: Transfer, *, to_status, by) -> None:
    fulfilment = Fulfilment.objects.select_related("order").get(pk=locked.fulfilment_id)
    what = "sent" if to_status == TransferStatus.IN_TRANSIT else "cancelled"
    record_order_activity(
        order=fulfilment.order,
        fulfilment=fulfilment,
        kind=OrderActivity.TRANSFER,
        by=by,
        note=partial(_order_note, what, locked),
    )


def cancel_transfers_of_order(*, order_id: int, by: User | None = None) -> list[Transfer]:
    """The order was cancelled (orders.signals.order_cancelled, after commit): its transfers not
    yet sent are cancelled, their units back on sale at the source; those on their way are left
    to be received (their units then go on sale at the destination). Returns those cancelled."""
    cancelled = []
    for transfer in Transfer.objects.filter(
        fulfilment__order_id=order_id, status__in=STATUSES_RESERVED_AT_SOURCE
    ).order_by("pk"):
        try:
            cancelled.append(cancel_transfer(transfer=transfer, by=by, note=_("The order it was for was cancelled.")))
        except IllegalTransferMove:
            continue  # sent meanwhile: it is received at the destination
    return cancelled
