"""Shipping an order from a warehouse: its shipment when it is placed, and the carrier's tracking
number when it leaves (the units leave the warehouse's stock, the shopper gets the "shipped"
e-mail with the number, once)."""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import signed_in
from orders.models import Fulfilment, FulfilmentMethod, FulfilmentStatus, NotificationKind, Order, OrderStatus
from orders.notifications.outbox import notify
from orders.services import IllegalTransition, OrderError, hand_over_fulfilment, transition_fulfilment, transition_part

from .models import Shipment
from .selectors import ShippingQuote

# Carriers' numbers: letters, digits and dashes (Pósturinn "RR123456785IS", Posten "70712345678901234").
TRACKING_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9-]{3,39}")


class ShippingRefused(OrderError):
    """The shipment cannot be recorded as sent; the message says why, for staff."""


@dataclass(frozen=True)
class ShippingAddress:
    name: str
    address: str
    postcode: str
    city: str
    country: str


def create_shipment(*, fulfilment: Fulfilment, address: ShippingAddress, quote: ShippingQuote) -> Shipment:
    """The shipment of a new shipping fulfilment, with the address and the weight and fee it was
    quoted at; inside the caller's transaction (the checkout that placed the order)."""
    if fulfilment.method != FulfilmentMethod.SHIPPING:
        raise ValueError(f"fulfilment {fulfilment.pk} is not shipped")
    return Shipment.objects.create(
        fulfilment=fulfilment,
        name=address.name,
        address=address.address,
        postcode=quote.postcode,
        city=address.city,
        country=quote.country,
        weight_grams=quote.weight_grams,
        fee=quote.fee,
    )


def clean_tracking_number(value: str) -> str:
    """The number as carriers print it (spaces dropped, capitals); ShippingRefused if it is not one."""
    number = "".join((value or "").split()).upper()
    if not number:
        raise ShippingRefused(_("Enter the carrier's tracking number."))
    if not TRACKING_NUMBER.fullmatch(number):
        raise ShippingRefused(
            _("“%(number)s” is not a tracking number: 4 to 40 letters, digits and dashes.") % {"number": number}
        )
    return number


def mark_shipped(
    *,
    shipment: Shipment,
    carrier: str,
    tracking_number: str,
    by: User | None,
    now: datetime.datetime | None = None,
    settle: Callable[[Order, Fulfilment], object] | None = None,
) -> Shipment:
    """The parcel left the warehouse with `carrier`: its units leave the warehouse's stock, the
    order is shipped, and the shopper gets the "shipped" e-mail with the tracking number (through
    the outbox, once). Under the order's row lock, so two members of staff cannot ship it twice:
    the second gets IllegalTransition. Raises ShippingRefused for a missing or malformed number.
    `settle(order, fulfilment)`, when given, runs last in the transaction (checkout.handover.ship
    takes the payment there); if it raises, nothing is shipped."""
    number = clean_tracking_number(tracking_number)
    carrier = " ".join((carrier or "").split())
    if not carrier:
        raise ShippingRefused(_("Enter the carrier, e.g. Pósturinn or Posten."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=shipment.fulfilment.order_id)
        locked = Shipment.objects.select_for_update(of=("self",)).select_related("fulfilment").get(pk=shipment.pk)
        fulfilment = locked.fulfilment
        fulfilment.order = order
        # The order, or the shipped part of a split order, must still be waiting to leave.
        if order.status != OrderStatus.PLACED or fulfilment.status != FulfilmentStatus.PENDING:
            raise IllegalTransition(order, OrderStatus.SHIPPED)
        # Packed, then shipped: the fulfilment goes pending → ready → fulfilled, as the table says.
        transition_fulfilment(fulfilment=fulfilment, to_status=FulfilmentStatus.READY, by=by)
        shipped = transition_part(
            fulfilment=fulfilment,
            to_status=OrderStatus.SHIPPED,
            by=by,
            note=lambda: (
                _("Shipped with %(carrier)s, tracking number %(number)s.") % {"carrier": carrier, "number": number}
            ),
        )
        fulfilment.order = shipped
        hand_over_fulfilment(fulfilment=fulfilment, quantities=None, by=by, at=now or timezone.now())
        locked.carrier = carrier
        locked.tracking_number = number
        locked.shipped_at = fulfilment.fulfilled_at
        locked.shipped_by = signed_in(by)
        locked.save(update_fields=["carrier", "tracking_number", "shipped_at", "shipped_by"])
        notify(order=shipped, kind=NotificationKind.SHIPPED)
        if settle is not None:
            settle(shipped, fulfilment)
    shipment.__dict__.update({k: getattr(locked, k) for k in ("carrier", "tracking_number", "shipped_at")})
    return locked
