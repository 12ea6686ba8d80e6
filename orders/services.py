"""Placing orders and moving them through their states. Views and admin actions call these."""

import datetime
import secrets
import string
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import Product
from o2o_site.money import round_to_minor_unit
from stores import services as stock
from stores.models import Store

from .models import (
    ORDER_TRANSITIONS,
    CancelReason,
    Fulfilment,
    NotificationKind,
    Order,
    OrderActivity,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from .notifications.outbox import notify

# No 0/O or 1/I: order numbers are read aloud at the counter.
ORDER_NUMBER_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1I")
PICKUP_CODE_DIGITS = 6


class OrderError(Exception):
    """A shopper-facing reason why an order cannot be placed."""


class AlreadyPlaced(Exception):
    """The same checkout was placed by another request first; `order` is the order it placed."""

    def __init__(self, order: Order):
        self.order = order


class IllegalTransition(Exception):
    def __init__(self, order, to_status):
        self.order, self.to_status = order, to_status
        super().__init__(f"order {order.number} cannot go from {order.status} to {to_status}")


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str


def new_order_number() -> str:
    return "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(8))


def new_pickup_code() -> str:
    return f"{secrets.randbelow(10**PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


@dataclass(frozen=True)
class LineSpec:
    """One line as the catalog priced it when the order is placed (a snapshot kept on the line)."""

    product: Product
    quantity: int

    @property
    def unit_price(self) -> Decimal:
        """The price as shown: in the shop currency's minor unit, what the line is charged from."""
        return round_to_minor_unit(self.product.price, settings.SHOP_CURRENCY)


def create_order(
    *,
    lines: list[LineSpec],
    store: Store,
    contact: Contact,
    customer: User | None = None,
    language: str = "en",
    checkout_token: str | None = None,
    fulfilment: str = Fulfilment.IN_STORE,
    vehicle_description: str = "",
    collector_name: str = "",
    pickup_slot_start: datetime.datetime | None = None,
    pickup_slot_end: datetime.datetime | None = None,
) -> Order:
    """Write a placed order with its lines and its first event; to be called inside the caller's
    transaction, after the caller reserved the stock (checkout.services.place_pickup_order does).

    Unit prices are the products' prices now, never the shopper's. Raises AlreadyPlaced when
    another request already placed an order with the same `checkout_token` (the caller rolls back
    and hands that order to the shopper), OrderError when no unique number could be drawn.
    """
    order_lines = [
        OrderLine(
            product=line.product,
            product_name=line.product.name,
            sku=line.product.sku,
            unit_price=line.unit_price,
            quantity=line.quantity,
            line_total=line.unit_price * line.quantity,
        )
        for line in lines
    ]
    order = _create_order_with_unique_number(
        customer=customer if customer is not None and customer.is_authenticated else None,
        contact_name=contact.name,
        contact_email=contact.email,
        contact_phone=contact.phone,
        store=store,
        currency=settings.SHOP_CURRENCY,
        # The sum of the lines, each from the price as shown: what every page and e-mail shows adds up.
        total=sum((line.line_total for line in order_lines), Decimal("0")),
        pickup_code=new_pickup_code(),
        language=language,
        checkout_token=checkout_token,
        fulfilment=fulfilment,
        vehicle_description=vehicle_description if fulfilment == Fulfilment.CURBSIDE else "",
        collector_name=collector_name,
        pickup_slot_start=pickup_slot_start,
        pickup_slot_end=pickup_slot_end,
    )
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)
    OrderEvent.objects.create(order=order, from_status="", to_status=OrderStatus.PLACED, actor=order.customer)
    return order


def _create_order_with_unique_number(**fields):
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Order.objects.create(number=new_order_number(), **fields)
        except IntegrityError:
            # The same checkout page was submitted twice at once and the other request won:
            # roll this one back (its reservation too) and hand back the order it placed.
            token = fields.get("checkout_token")
            placed = Order.objects.filter(checkout_token=token).first() if token else None
            if placed is not None:
                raise AlreadyPlaced(placed) from None
    raise OrderError(_("We could not place your order. Please try again."))


def note_in_order_language(order, note) -> str:
    """The text of a history note. The shopper's order page shows notes as stored, so a note is
    written in the order's language whoever writes it (a worker, staff in the admin): callers pass
    it as a callable, `lambda: _("…")`, which is translated here under that language."""
    if callable(note):
        with translation.override(order.language):
            return note()
    return note


def transition_order(*, order, to_status, by=None, note="") -> Order:
    """Move `order` to `to_status` if the transition table allows it, and record the event.

    `note` is a string or a callable giving one (see note_in_order_language).

    The order row is locked so two members of staff acting at once cannot both move it.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if to_status not in ORDER_TRANSITIONS[OrderStatus(locked.status)]:
            raise IllegalTransition(locked, to_status)
        from_status = locked.status
        locked.status = to_status
        locked.save(update_fields=["status"])
        if to_status == OrderStatus.COLLECTED and not note:
            # Who handed over is the event's actor; to whom is worth keeping in the history too.
            def note():
                return _("Handed over to %(name)s.") % {"name": locked.collector}

        OrderEvent.objects.create(
            order=locked,
            from_status=from_status,
            to_status=to_status,
            actor=by if by is not None and by.is_authenticated else None,
            note=note_in_order_language(locked, note),
        )
    order.status = locked.status
    return locked


def line_quantities(order) -> dict[int, int]:
    quantities = {}
    for line in order.lines.all():
        if line.product_id is not None:
            quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
    return quantities


def cancel_order(*, order: Order, reason: CancelReason, by: User | None = None, note="") -> Order:
    """Cancel an open order, give its reserved units back to sale at the store, and e-mail the
    shopper why (every way of cancelling comes here, so the e-mail goes out for each, once).

    `reason` is kept on the order (its page and the e-mail say it); the history note is `note`
    (a string or a callable, see note_in_order_language), or else the reason itself.
    """
    reason = CancelReason(reason)
    with transaction.atomic():
        cancelled = transition_order(
            order=order, to_status=OrderStatus.CANCELLED, by=by, note=note or (lambda: str(reason.label))
        )
        cancelled.cancel_reason = reason
        cancelled.save(update_fields=["cancel_reason"])
        stock.release_stock(store=cancelled.store, quantities=line_quantities(cancelled))
        notify(order=cancelled, kind=NotificationKind.ORDER_CANCELLED)
    order.cancel_reason = reason
    return cancelled


def record_order_activity(*, order, kind, by=None, note="") -> OrderEvent:
    """Write an event that is not a status change (on the way, checked in, collector changed).

    The row carries the order's status at that moment as both from and to. `note` is a string or
    a callable giving one, written in the order's language (note_in_order_language).
    """
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        from_status=order.status,
        to_status=order.status,
        actor=by if by is not None and by.is_authenticated else None,
        note=note_in_order_language(order, note)[:255],
    )


class CollectorLocked(OrderError):
    pass


def set_collector(*, order, name: str, by=None) -> Order:
    """Name who will collect the order (blank: the shopper). Allowed until the order is closed."""
    name = " ".join((name or "").split())[:150]
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if not locked.is_open:
            raise CollectorLocked(
                _("Order %(number)s is “%(status)s”: who collects it can no longer be changed.")
                % {"number": locked.number, "status": OrderStatus(locked.status).label}
            )
        if locked.collector_name == name:
            return locked
        locked.collector_name = name
        locked.save(update_fields=["collector_name"])
        record_order_activity(
            order=locked,
            kind=OrderActivity.COLLECTOR_CHANGED,
            by=by,
            note=lambda: (
                _("%(name)s will collect the order.") % {"name": name}
                if name
                else _("The shopper will collect the order themselves.")
            ),
        )
    order.collector_name = locked.collector_name
    return locked
