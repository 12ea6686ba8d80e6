"""Curbside pickup: the signed check-in link, "On my way", "I'm here" and the hand-over at the car.

A curbside shopper gets a check-in link in the ready e-mail (signed with a TimestampSigner and its
own salt, bound to the order's number, valid while the order can still be collected). From it
they say they are on the way (with an ETA) and then that they have arrived (bay, vehicle). Staff
see them in the curbside queue (pickup.views) and hand the order over with the shopper's pickup
code through pickup.services.collect_order, the same service as at the counter; the visit then
records how long the shopper waited.

Every step writes an OrderEvent naming the fulfilment (orders.services.record_order_activity),
which the shopper's timeline and the admin's audit read. A shopper's visit is one row per
fulfilment (its primary key; the check-in belongs to the fulfilment, the link names the order),
and each step locks the order row, so tapping twice changes nothing twice.
"""

import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.services import signed_in
from orders.models import Order, OrderActivity, OrderStatus
from orders.services import record_order_activity

from .models import CurbsideState, CurbsideVisit, Pickup, PickupSettings
from .selectors import pickup_of, with_pickups

CHECK_IN_SALT = "pickup.curbside-check-in"
# The link outlives the order by a day: after that the order is cancelled anyway (pickup.reminders).
LINK_GRACE = datetime.timedelta(days=1)
MAX_ETA_MINUTES = 180


class CheckInLinkInvalid(Exception):
    """Forged, mangled, or signed for another order."""


class CheckInLinkExpired(Exception):
    pass


class CheckInRefused(Exception):
    """A shopper-facing reason why the step cannot be taken now."""


def _signer():
    return signing.TimestampSigner(salt=CHECK_IN_SALT)


def check_in_signature(order: Order) -> str:
    """The signed part of the check-in URL (timestamp and signature; the number is in the path)."""
    return _signer().sign(order.number).split(":", 1)[1]


def check_in_path(order: Order) -> str:
    return reverse("pickup:check_in", kwargs={"number": order.number, "signature": check_in_signature(order)})


def check_in_link(order: Order) -> str:
    return settings.SITE_URL.rstrip("/") + check_in_path(order)


def link_max_age(order: Order) -> datetime.timedelta:
    return datetime.timedelta(days=PickupSettings.for_store(order.store).expire_after_days) + LINK_GRACE


def is_curbside(order: Order) -> bool:
    pickup = pickup_of(order)
    return pickup is not None and pickup.is_curbside


def order_for_check_in(*, number: str, signature: str) -> Order:
    """The curbside order a check-in link was signed for.

    Raises CheckInLinkInvalid (forged, another order's signature, not a curbside order: one answer
    for all, nothing to learn by probing) or CheckInLinkExpired.
    """
    signed = f"{number}:{signature}"
    try:
        _signer().unsign(signed)  # signature check first, before any database lookup
    except signing.BadSignature as error:
        raise CheckInLinkInvalid from error
    order = (
        with_pickups(Order.objects.select_related("store", "store__pickup_settings"))
        .prefetch_related("lines")
        .filter(number=number)
        .first()
    )
    if order is None or not is_curbside(order):
        raise CheckInLinkInvalid
    try:
        _signer().unsign(signed, max_age=link_max_age(order))
    except signing.SignatureExpired as error:
        raise CheckInLinkExpired from error
    return order


def visit_of(order: Order) -> CurbsideVisit | None:
    """The curbside visit of the order's pickup (None: not checked in, or not curbside)."""
    pickup = pickup_of(order)
    if pickup is None:
        return None
    try:
        return pickup.fulfilment.curbside_visit
    except CurbsideVisit.DoesNotExist:
        return None


def _locked_ready_order(order):
    locked = Order.objects.select_for_update(of=("self",)).select_related("store").get(pk=order.pk)
    if locked.status != OrderStatus.READY_FOR_PICKUP:
        if locked.status == OrderStatus.PLACED:
            raise CheckInRefused(_("Your order is not ready yet. We will e-mail you as soon as it is."))
        raise CheckInRefused(
            _("Order %(number)s is “%(status)s”: there is nothing to pick up.")
            % {"number": locked.number, "status": OrderStatus(locked.status).label}
        )
    return locked


def announce_on_the_way(*, order: Order, eta_minutes: int, now: datetime.datetime | None = None) -> CurbsideVisit:
    """The shopper is coming and expects to arrive in `eta_minutes`. Ignored once they have arrived."""
    if not 0 <= eta_minutes <= MAX_ETA_MINUTES:
        raise CheckInRefused(_("Enter your arrival time in minutes, from 0 to %(max)s.") % {"max": MAX_ETA_MINUTES})
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_ready_order(order)
        pickup = _pickup(locked)
        visit, created = CurbsideVisit.objects.get_or_create(
            fulfilment=pickup.fulfilment, defaults={"state": CurbsideState.ON_THE_WAY, "on_the_way_at": now}
        )
        if visit.state != CurbsideState.ON_THE_WAY:
            return visit  # already at the curb (or handed over): nothing to announce
        visit.eta = now + datetime.timedelta(minutes=eta_minutes)
        visit.on_the_way_at = visit.on_the_way_at or now
        visit.save(update_fields=["eta", "on_the_way_at"])
        record_order_activity(
            order=locked,
            fulfilment=pickup.fulfilment,
            kind=OrderActivity.ON_THE_WAY,
            note=lambda: (
                ngettext("Expected in %(minutes)s minute.", "Expected in %(minutes)s minutes.", eta_minutes)
                % {"minutes": eta_minutes}
            ),
        )
    return visit


def check_in(
    *, order: Order, bay: int | None = None, vehicle: str = "", now: datetime.datetime | None = None
) -> CurbsideVisit:
    """ "I'm here": the shopper waits at the curb. Checking in again only updates bay and vehicle."""
    now = now or timezone.now()
    vehicle = " ".join((vehicle or "").split())[:120]
    rules = PickupSettings.for_store(order.store)
    if bay is not None and rules.curbside_bays and not 1 <= bay <= rules.curbside_bays:
        raise CheckInRefused(
            _("Bays are numbered 1 to %(bays)s. Check the sign by your parking spot.") % {"bays": rules.curbside_bays}
        )
    with transaction.atomic():
        locked = _locked_ready_order(order)
        pickup = _pickup(locked)
        visit, _created = CurbsideVisit.objects.get_or_create(
            fulfilment=pickup.fulfilment, defaults={"state": CurbsideState.ARRIVED}
        )
        vehicle = vehicle or visit.vehicle or pickup.vehicle_description
        if visit.state == CurbsideState.ARRIVED and visit.arrived_at is not None:
            if (visit.bay, visit.vehicle) != (bay, vehicle):
                visit.bay, visit.vehicle = bay, vehicle
                visit.save(update_fields=["bay", "vehicle"])
            return visit
        visit.state = CurbsideState.ARRIVED
        visit.arrived_at = now
        visit.bay, visit.vehicle = bay, vehicle
        visit.save(update_fields=["state", "arrived_at", "bay", "vehicle"])
        record_order_activity(
            order=locked,
            fulfilment=pickup.fulfilment,
            kind=OrderActivity.ARRIVED,
            note=lambda: (
                _("Waiting at %(where)s%(vehicle)s.")
                % {
                    "where": _("bay %(bay)s") % {"bay": bay} if bay else _("the pickup spots"),
                    "vehicle": f" ({vehicle})" if vehicle else "",
                }
            ),
        )
    return visit


def _pickup(locked_order: Order) -> Pickup:
    return Pickup.objects.select_related("fulfilment").filter(fulfilment__order=locked_order).order_by("pk").first()


def record_hand_over(*, pickup: Pickup, by: User | None, now: datetime.datetime) -> CurbsideVisit | None:
    """Close a curbside pickup's visit as it is collected, at the car or at the counter: when, by
    whom, and how long the shopper waited since checking in. Called inside the collect's
    transaction (pickup.services.collect_order), so a collected curbside order never stays in the
    queue as "arrived"."""
    if not pickup.is_curbside:
        return None
    visit, _created = CurbsideVisit.objects.select_for_update().get_or_create(
        fulfilment=pickup.fulfilment, defaults={"state": CurbsideState.HANDED_OVER}
    )
    visit.state = CurbsideState.HANDED_OVER
    visit.handed_over_at = now
    visit.handed_over_by = signed_in(by)
    if visit.arrived_at is not None:
        visit.wait_seconds = max(int((now - visit.arrived_at).total_seconds()), 0)
    visit.save(update_fields=["state", "handed_over_at", "handed_over_by", "wait_seconds"])
    return visit


def curbside_step(order: Order) -> str:
    """Where a curbside order is, for the shopper's page: placed, ready, on_the_way, arrived,
    handed_over or cancelled."""
    if order.status == OrderStatus.CANCELLED:
        return "cancelled"
    if order.status == OrderStatus.COLLECTED:
        return "handed_over"
    if order.status == OrderStatus.PLACED:
        return "placed"
    visit = visit_of(order)
    if visit is None:
        return "ready"
    return visit.state
