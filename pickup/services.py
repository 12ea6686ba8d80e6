"""Pickup: a pickup's details, getting an order ready, telling the shopper, and handing it over."""

import datetime
import hmac
import secrets
from collections.abc import Callable, Collection
from functools import partial

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.services import signed_in
from o2o_site.rows import insert
from orders.models import (
    Fulfilment,
    FulfilmentMethod,
    FulfilmentStatus,
    NotificationKind,
    Order,
    OrderActivity,
    OrderStatus,
)
from orders.notifications.outbox import notify
from orders.selectors import Readiness, readiness_of, units_on_the_way
from orders.services import (
    IllegalTransition,
    NotReady,
    OrderError,
    hand_over_fulfilment,
    make_ready_to_collect,
    mark_fulfilment_lines_ready,
    record_order_activity,
    split_ready_part,
    transition_fulfilment,
    transition_part,
)
from stores.models import Store

from . import curbside
from .models import Pickup, PickupCodeAttempt
from .selectors import pickup_of

# Brute-force limits for pickup codes (6 random digits: a million possibilities).
MAX_FAILURES_PER_ORDER = 5
MAX_FAILURES_PER_USER = 20
USER_FAILURE_WINDOW = datetime.timedelta(hours=1)
PICKUP_CODE_DIGITS = 6


class WrongPickupCode(Exception):
    pass


class PickupCodeLocked(WrongPickupCode):
    """Too many wrong codes: the order (or the member of staff) may not collect for now."""


def new_pickup_code() -> str:
    return f"{secrets.randbelow(10**PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


def create_pickup(
    *,
    fulfilment: Fulfilment,
    slot_start: datetime.datetime | None = None,
    slot_end: datetime.datetime | None = None,
    vehicle_description: str = "",
    collector_name: str = "",
) -> Pickup:
    """The pickup details of a new pickup fulfilment, with a fresh random pickup code, collected at
    the fulfilment's stock location; inside the caller's transaction
    (checkout.services.place_pickup_order). A vehicle is kept for curbside pickups only. Written in
    SQL not compiled each time (o2o_site.rows.insert): a placing writes it under the slot's lock."""
    (pickup,) = insert(
        [
            Pickup(
                fulfilment=fulfilment,
                store_id=fulfilment.stock_location_id,
                code=new_pickup_code(),
                slot_start=slot_start,
                slot_end=slot_end,
                vehicle_description=vehicle_description if fulfilment.method == FulfilmentMethod.CURBSIDE else "",
                collector_name=collector_name,
            )
        ]
    )
    return pickup


class CollectorLocked(OrderError):
    pass


def set_collector(*, order: Order, name: str, by: User | None = None) -> Pickup:
    """Name who will collect the order (blank: the shopper). Allowed until the order is closed."""
    name = " ".join((name or "").split())[:150]
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if not locked.is_open:
            raise CollectorLocked(
                _("Order %(number)s is “%(status)s”: who collects it can no longer be changed.")
                % {"number": locked.number, "status": OrderStatus(locked.status).label}
            )
        pickup = (
            Pickup.objects.select_for_update(of=("self",)).select_related("fulfilment").get(fulfilment__order=locked)
        )
        if pickup.collector_name == name:
            return pickup
        pickup.collector_name = name
        pickup.save(update_fields=["collector_name"])
        record_order_activity(
            order=locked,
            fulfilment=pickup.fulfilment,
            kind=OrderActivity.COLLECTOR_CHANGED,
            by=by,
            note=lambda: (
                _("%(name)s will collect the order.") % {"name": name}
                if name
                else _("The shopper will collect the order themselves.")
            ),
        )
    return pickup


def mark_ready_for_pickup(*, order: Order, by: User | None = None) -> Order:
    """The store has put the order aside: record it and queue the shopper's e-mail after commit.
    Only an order to be picked up (a delivery is packed and sent out by the delivery app)."""
    with transaction.atomic():
        pickup = pickup_of(order)
        if pickup is None:
            raise IllegalTransition(order, OrderStatus.READY_FOR_PICKUP)
        _refuse_while_on_the_way(pickup.fulfilment)
        # Every line is ready now, as if each had been marked (the order page and readiness say so).
        return make_ready_to_collect(order=order, fulfilment=pickup.fulfilment, by=by)


class StillOnTheWay(NotReady):
    """Some of the order's units are still on their way to the store (a transfer)."""


def _refuse_while_on_the_way(fulfilment: Fulfilment) -> None:
    """StillOnTheWay when units of `fulfilment` have not reached its store yet (orders.selectors.
    units_on_the_way): they are got ready when the transfer bringing them is received."""
    if units_on_the_way([fulfilment.pk]):
        raise StillOnTheWay(
            _("Some items of this order are still on their way to the store; it is ready once they are received.")
        )


def mark_lines_ready(
    *, order: Order, order_line_ids: Collection[int], by: User | None = None, now: datetime.datetime | None = None
) -> Readiness:
    """Staff have put some lines of a placed pickup order aside. When that makes every item
    ready, the order is ready for pickup (mark_ready_for_pickup, its e-mail); otherwise the
    shopper gets "2 of 3 items are ready" (a PARTLY_READY e-mail, one per change: its reference is
    the count, and marking lines already ready changes nothing and sends nothing) and may collect
    the ready part now (collect_order). Under the order's row lock, like collecting, so the two
    never interleave. Raises IllegalTransition for an order not placed (or not a pickup), NotReady
    for lines it does not wait for."""
    if not order_line_ids:
        raise NotReady(_("Choose at least one item that is ready."))
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        pickup = pickup_of(locked)
        if (
            pickup is None
            or locked.status != OrderStatus.PLACED
            or pickup.fulfilment.status != FulfilmentStatus.PENDING
        ):
            raise IllegalTransition(locked, OrderStatus.READY_FOR_PICKUP)
        _refuse_while_on_the_way(pickup.fulfilment)
        newly = mark_fulfilment_lines_ready(
            fulfilment=pickup.fulfilment, order_line_ids=order_line_ids, at=now or timezone.now()
        )
        readiness = readiness_of(locked)
        if not newly:
            return readiness
        if readiness.complete and pickup.fulfilment.is_open:
            mark_ready_for_pickup(order=locked, by=by)
        else:
            record_order_activity(
                order=locked,
                fulfilment=pickup.fulfilment,
                kind=OrderActivity.LINES_READY,
                by=by,
                note=lambda: (
                    _("Ready: %(lines)s. %(ready)s of %(total)s items are ready.")
                    % {
                        "lines": ", ".join(f"{line.quantity} × {line.order_line.product_name}" for line in newly),
                        "ready": readiness.ready,
                        "total": readiness.total,
                    }
                ),
            )
            notify(order=locked, kind=NotificationKind.PARTLY_READY, reference=f"{readiness.ready}/{readiness.total}")
    order.status = locked.status
    return readiness


def pickup_code_matches(order: Order, code: str) -> bool:
    pickup = pickup_of(order)
    return pickup is not None and hmac.compare_digest(pickup.code.encode(), (code or "").strip().encode())


class HandOverRefused(Exception):
    """The caller's `settle` step refused the hand-over (say, the payment could not be taken):
    nothing was handed over; the error it raised is `reason`."""

    def __init__(self, reason: Exception):
        self.reason = reason
        super().__init__(str(reason))


def collect_order(
    *,
    order: Order,
    code: str,
    by: User | None,
    ip_address: str | None = None,
    now: datetime.datetime | None = None,
    quantities: dict[int, int] | None = None,
    settle: Callable[[Order, Fulfilment], object] | None = None,
) -> Order:
    """Hand the order over: the code must match; the units handed over leave the store's stock.

    `quantities` ({order line id: units}) hands over part of the order; None hands over all of
    it. Units not handed over go back on sale and the timeline says which
    (orders.services.hand_over_fulfilment). A placed order with some lines ready (mark_lines_ready)
    hands over only those (_collect_ready_part): the rest stays reserved, the order placed.
    `settle(order, fulfilment handed over)`, when given, runs last in the
    hand-over's transaction, once the order is collected: a higher layer takes the payment there
    (checkout.handover). If it raises, nothing is handed over and HandOverRefused carries its error.

    Every code typed is recorded (PickupCodeAttempt), and guessing is bounded: after
    MAX_FAILURES_PER_ORDER wrong codes the order cannot be collected until a manager resets its
    lock, and after MAX_FAILURES_PER_USER wrong codes within USER_FAILURE_WINDOW a member of
    staff cannot collect any order until the window has passed. Attempts on one order are
    serialised by locking its row, so parallel guesses cannot slip past the limit. A curbside
    order's visit is closed in the same transaction, wherever it is handed over.
    """
    failure = None
    with transaction.atomic():
        _lock_order_row(order)
        failure = _attempt_code(order=order, code=code, by=by, ip_address=ip_address)
        if failure is None:
            pickup = (
                Pickup.objects.select_related("fulfilment__stock_location", "fulfilment__order")
                .filter(fulfilment__order=order)
                .order_by("pk")
                .first()
            )
            try:
                with transaction.atomic():
                    order.status = Order.objects.values_list("status", flat=True).get(pk=order.pk)
                    if order.status == OrderStatus.PLACED and readiness_of(order).partly:
                        collected, fulfilment = _collect_ready_part(
                            order=order, pickup=pickup, quantities=quantities, by=by, at=now or timezone.now()
                        )
                    else:
                        collected = transition_part(
                            fulfilment=pickup.fulfilment,
                            to_status=OrderStatus.COLLECTED,
                            by=by,
                            # Who handed over is the event's actor; to whom is worth keeping too.
                            note=lambda: _("Handed over to %(name)s.") % {"name": pickup.collector},
                        )
                        fulfilment = pickup.fulfilment
                        fulfilment.order = collected
                        hand_over_fulfilment(
                            fulfilment=fulfilment, quantities=quantities, by=by, at=now or timezone.now()
                        )
                        curbside.record_hand_over(pickup=pickup, by=by, now=fulfilment.fulfilled_at)
                    if settle is not None:
                        try:
                            settle(collected, fulfilment)
                        except Exception as error:  # re-raised below, after the savepoint rolled back
                            raise HandOverRefused(error) from error
            except (IllegalTransition, OrderError, HandOverRefused) as error:
                failure = error
                order.status = Order.objects.values_list("status", flat=True).get(pk=order.pk)
    # Raised after the block, so the attempt is committed even though the hand-over failed.
    if failure is not None:
        raise failure
    return collected


def check_pickup_code(*, order: Order, code: str, by: User | None, ip_address: str | None = None) -> None:
    """Check `code` for `order` without handing anything over (a hand-over refused for something
    else, say a till receipt not typed yet, still says at once whether the code is right).
    Recorded and bounded as collect_order's attempts are; raises WrongPickupCode or
    PickupCodeLocked, after the attempt is committed."""
    with transaction.atomic():
        _lock_order_row(order)
        failure = _attempt_code(order=order, code=code, by=by, ip_address=ip_address)
    if failure is not None:
        raise failure


def _attempt_code(*, order: Order, code: str, by: User | None, ip_address: str | None) -> WrongPickupCode | None:
    """Record one code typed for `order` (its row locked by the caller); the refusal, or None when
    it matches."""
    attempt = partial(PickupCodeAttempt.objects.create, order=order, user=signed_in(by), ip_address=ip_address or None)
    locked = pickup_lock_reason(order=order, user=by)
    if locked:
        attempt(succeeded=False, refused_as_locked=True)
        return PickupCodeLocked(locked)
    if not pickup_code_matches(order, code):
        attempt(succeeded=False)
        return WrongPickupCode(_wrong_code_message(order))
    attempt(succeeded=True)
    return None


def _collect_ready_part(
    *, order: Order, pickup: Pickup, quantities: dict[int, int] | None, by: User | None, at: datetime.datetime
) -> tuple[Order, Fulfilment]:
    """Hand over the lines of a placed order that are ready (those of `quantities`, when given,
    with its units), while the rest stays reserved in the pickup's fulfilment for later: the
    ready lines become a fulfilment of their own, handed over at once. The order stays placed,
    its code and pickup unchanged. `quantities` may not name units of a line not ready."""
    if quantities is not None:
        waiting = {pk for pk, units in quantities.items() if units} - set(readiness_of(order).ready_line_ids)
        if waiting:
            raise NotReady(_("Only the items that are ready can be handed over now; the others are not ready yet."))
    part = split_ready_part(
        fulfilment=pickup.fulfilment, order_line_ids=None if quantities is None else set(quantities)
    )
    transition_fulfilment(
        fulfilment=part,
        to_status=FulfilmentStatus.FULFILLED,
        by=by,
        note=lambda: _("Ready items handed over to %(name)s.") % {"name": pickup.collector},
    )
    part.order = order
    if quantities is not None:
        carried = set(part.lines.values_list("order_line_id", flat=True))
        quantities = {pk: units for pk, units in quantities.items() if pk in carried}
    hand_over_fulfilment(fulfilment=part, quantities=quantities, by=by, at=at)
    record_order_activity(
        order=order,
        fulfilment=part,
        kind=OrderActivity.READY_PART_COLLECTED,
        by=by,
        note=lambda: _("The ready items were collected; the rest stays reserved until it is ready."),
    )
    return order, part


def _lock_order_row(order):
    list(Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True))


def failed_code_attempts(*, order: Order) -> int:
    """Wrong codes typed for `order` since its lock was last reset."""
    return PickupCodeAttempt.objects.filter(order=order).failures_counting_towards_lock().count()


def pickup_lock_reason(*, order: Order, user: User | None) -> str:
    """Why the order cannot be collected by `user` right now because of wrong codes ("" if it can)."""
    if order_is_code_locked(order=order):
        return _(
            "Order %(number)s is locked after %(count)s wrong pickup codes. A manager must reset the lock "
            "before it can be handed over; check the shopper's ID and order page."
        ) % {"number": order.number, "count": MAX_FAILURES_PER_ORDER}
    staff = signed_in(user)
    if staff is not None:
        since = timezone.now() - USER_FAILURE_WINDOW
        recent = PickupCodeAttempt.objects.filter(
            user=staff, succeeded=False, refused_as_locked=False, at__gte=since
        ).count()
        if recent >= MAX_FAILURES_PER_USER:
            return _(
                "You typed %(count)s wrong pickup codes within an hour, so you cannot hand over orders for "
                "a while. Ask another member of staff or a manager."
            ) % {"count": MAX_FAILURES_PER_USER}
    return ""


def _wrong_code_message(order):
    left = MAX_FAILURES_PER_ORDER - failed_code_attempts(order=order)
    if left <= 0:
        return _("The pickup code does not match this order. The order is now locked until a manager resets it.")
    return ngettext(
        "The pickup code does not match this order. %(left)s try left before the order is locked.",
        "The pickup code does not match this order. %(left)s tries left before the order is locked.",
        left,
    ) % {"left": left}


def order_is_code_locked(*, order: Order) -> bool:
    """Whether wrong codes lock the order itself (not just the member of staff typing them)."""
    return failed_code_attempts(order=order) >= MAX_FAILURES_PER_ORDER


def can_reset_pickup_code_lock(*, order: Order, user: User | None) -> bool:
    """A superuser, or a manager of the order's store (the "Store managers" group carries the
    permission; a staff account without it cannot)."""
    if user is None or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return (
        user.has_perm("pickup.reset_pickup_code_lock")
        and Store.objects.managed_by(user).filter(pk=order.store_id).exists()
    )


def reset_pickup_code_lock(*, order: Order, by: User) -> int:
    """Let the order be collected again after wrong codes; the attempts stay on record, cleared.

    Returns how many failed attempts were cleared. A reset that clears any is written on the
    order's timeline (who, when, how many), for the store's audit; the shopper's page leaves it out.
    """
    if not can_reset_pickup_code_lock(order=order, user=by):
        raise PermissionDenied(
            _("You may not reset the pickup-code lock of order %(number)s.") % {"number": order.number}
        )
    with transaction.atomic():
        _lock_order_row(order)
        cleared = (
            PickupCodeAttempt.objects.filter(order=order)
            .failures_counting_towards_lock()
            .update(cleared_at=timezone.now(), cleared_by=by)
        )
        if cleared:
            record_order_activity(
                order=order,
                kind=OrderActivity.PICKUP_LOCK_RESET,
                by=by,
                note=lambda: (
                    ngettext(
                        "%(count)s wrong pickup code cleared; the order can be handed over again.",
                        "%(count)s wrong pickup codes cleared; the order can be handed over again.",
                        cleared,
                    )
                    % {"count": cleared}
                ),
            )
        return cleared


def hand_over_at_curb(
    *,
    order: Order,
    code: str,
    by: User | None,
    ip_address: str | None = None,
    now: datetime.datetime | None = None,
    quantities: dict[int, int] | None = None,
    settle: Callable[[Order, Fulfilment], object] | None = None,
) -> Order:
    """Staff bring the order to the car: collect_order checks the code (with its attempt limits),
    hands over all or `quantities` of it, runs `settle` and closes the curbside visit
    (curbside.record_hand_over). Returns the collected order. Raises what collect_order raises."""
    return collect_order(
        order=order, code=code, by=by, ip_address=ip_address, now=now, quantities=quantities, settle=settle
    )
