"""Every change to a payment goes through here, and each one writes a PaymentEvent.

A provider (django-payments' Dummy and Stripe, our Vipps) is only ever called with the payment's
row locked, inside `_recording`, which compares the payment before and after the call and writes
the event. Two callers at the same moment (a webhook and the shopper's return, a webhook
delivered twice, two members of staff) queue on the lock: the second finds the change already
made, and nothing is recorded twice.

Amounts are the shop's: a payment is created for its order's total in the order's currency, a
provider may change a payment's status but never its amount or currency (that is refused and
rolled back), and what was captured, released or refunded is counted here, not taken from a
callback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING
from urllib.error import URLError
from uuid import uuid4

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from payments import PaymentError, RedirectNeeded
from payments.core import provider_factory

from accounts.services import signed_in
from o2o_site.money import format_money
from o2o_site.rows import columns, from_row, width
from orders.models import Fulfilment, FulfilmentMethod, NotificationKind, Order, OrderLine, OrderStatus
from orders.notifications.outbox import notify
from orders.services import handed_over_by_line, mark_order_paid
from orders.signals import goods_refunded

from .models import (
    OPEN_PAYMENT_STATUSES,
    PAYMENT_TRANSITIONS,
    SUCCEEDED_PAYMENT_STATUSES,
    TILL_VARIANT,
    Payment,
    PaymentEvent,
    PaymentEventKind,
    PaymentEventSource,
    PaymentStatus,
    Refund,
    RefundLine,
    RefundReason,
    authorisation_validity,
)
from .signals import settlement_due
from .till import TILL_PROVIDER, clean_till_receipt_number

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse
    from payments.core import BasicProvider
    from payments.forms import PaymentForm

    from accounts.models import User

logger = logging.getLogger(__name__)


class PaymentRefused(Exception):
    """A change the shop does not make; nothing was changed."""


class IllegalPaymentTransition(PaymentRefused):
    def __init__(self, payment: Payment, to_status: str):
        self.payment = payment
        self.to_status = to_status
        super().__init__(f"payment {payment.pk}: {payment.status} → {to_status} is not allowed")


class TamperedPayment(PaymentRefused):
    """A provider or callback tried to change what the payment is for (its amount or currency)."""


class NothingToDo(PaymentRefused):
    pass


@dataclass(frozen=True)
class Actor:
    """Who or what moves a payment, written on its event row."""

    source: PaymentEventSource
    user: User | None = None
    note: str = ""

    @classmethod
    def shopper(cls, user: User | None = None) -> Actor:
        return cls(PaymentEventSource.SHOPPER, signed_in(user))

    @classmethod
    def returned(cls, user: User | None = None) -> Actor:
        """The shopper's browser back from the provider's page (3-D Secure, the Vipps app)."""
        return cls(PaymentEventSource.RETURN, signed_in(user))

    @classmethod
    def webhook(cls, variant: str) -> Actor:
        return cls(PaymentEventSource.WEBHOOK, note=f"webhook: {variant}")

    @classmethod
    def staff(cls, user: User | None) -> Actor:
        return cls(PaymentEventSource.STAFF, signed_in(user))

    @classmethod
    def shop(cls, note: str = "") -> Actor:
        return cls(PaymentEventSource.SHOP, note=note)


@dataclass(frozen=True)
class _Before:
    status: str
    total: Decimal
    currency: str
    captured: Decimal
    refunded: Decimal
    released: Decimal

    @classmethod
    def of(cls, payment: Payment) -> _Before:
        return cls(
            payment.status,
            payment.total,
            payment.currency,
            payment.captured_amount,
            payment.refunded_amount,
            payment.released_amount,
        )


def create_payment(*, order: Order, variant: str) -> Payment:
    """A new payment attempt for `order`, for exactly its total, with the provider `variant`."""
    provider_factory(variant)  # an unknown variant fails here, before a row is written
    return Payment.objects.create(
        order=order,
        # Given here, as django-payments would draw it (a version-4 UUID: 122 random bits), so
        # its save asks no query whether the token is taken already.
        token=str(uuid4()),
        variant=variant,
        total=order.total,
        currency=order.currency,
        description=str(_("Order %(number)s") % {"number": order.number}),
        billing_email=order.contact_email,
    )


def _provider(payment: Payment):
    """The provider that moves `payment`'s money: django-payments' for its variant, or, for a
    payment taken at the till, one that only records (payment.till)."""
    if payment.variant == TILL_VARIANT:
        return TILL_PROVIDER
    return provider_factory(payment.variant, payment)


def _lock(payment: Payment) -> Payment:
    """The payment's row locked, and its order's before it: every change to an order's payments,
    and every change of the order's status (orders.services), takes the order's lock first, so a
    payment authorised while its order's hold expires is decided one after the other. The payment
    is read again under its lock with its order, as select_related("order") reads them.

    Every payment page and callback runs these two statements, so they are written here, not
    compiled by the ORM each time (~1.5 ms; payment/tests/test_lock.py compares them)."""
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    lock_payment = " FOR UPDATE OF p" if connection.features.has_select_for_update_of else lock
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {quote(Order._meta.db_table)} WHERE id = %s{lock}", [payment.order_id])
        cursor.execute(
            f"SELECT {columns(Payment, 'p')}, {columns(Order, 'o')} FROM {quote(Payment._meta.db_table)} p "
            f"INNER JOIN {quote(Order._meta.db_table)} o ON p.order_id = o.id WHERE p.id = %s{lock_payment}",
            [payment.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Payment.DoesNotExist(f"payment {payment.pk} does not exist")
    locked = from_row(Payment, row[: width(Payment)])
    Payment.order.field.set_cached_value(locked, from_row(Order, row[width(Payment) :]))
    return locked


def _check_not_tampered(payment: Payment, before: _Before) -> None:
    order = payment.order
    if (
        payment.total != before.total
        or payment.currency != before.currency
        or payment.total != order.total
        or payment.currency != order.currency
    ):
        raise TamperedPayment(
            f"payment {payment.pk}: amount {payment.total} {payment.currency} is not the order's "
            f"{order.total} {order.currency}"
        )


def _record(
    payment: Payment,
    before: _Before,
    actor: Actor,
    *,
    kind: PaymentEventKind = PaymentEventKind.STATUS,
    amount: Decimal | None = None,
    provider_reference: str = "",
    note: str = "",
) -> PaymentEvent | None:
    """Check the change the provider made against the table, put the shop's amounts on it, save
    it and write its event. No change, no event."""
    _check_not_tampered(payment, before)
    if kind == PaymentEventKind.STATUS:
        # Providers report statuses; the amounts follow from them and are counted here only
        # (Dummy's return, for one, sets captured_amount on an authorisation). Charged at once
        # (Stripe Checkout, a Dummy "confirmed"): the whole total was taken.
        payment.captured_amount = before.captured
        payment.refunded_amount = before.refunded
        payment.released_amount = before.released
        if payment.status == PaymentStatus.CONFIRMED and before.status != PaymentStatus.CONFIRMED:
            payment.captured_amount = payment.total
    if payment.status != before.status:
        if payment.status not in PAYMENT_TRANSITIONS[PaymentStatus(before.status)]:
            raise IllegalPaymentTransition(payment, payment.status)
        if payment.status == PaymentStatus.PREAUTH:
            payment.authorisation_expires_at = timezone.now() + authorisation_validity(payment.variant)
    elif kind == PaymentEventKind.STATUS:
        payment.save()
        return None
    payment.save()
    if amount is None:
        amount = payment.captured_amount if payment.status == PaymentStatus.CONFIRMED else payment.total
    return PaymentEvent.objects.create(
        payment=payment,
        kind=kind,
        from_status=before.status,
        to_status=payment.status,
        amount=amount,
        currency=payment.currency,
        source=actor.source,
        actor=actor.user,
        provider_reference=provider_reference[:100],
        note=" · ".join(part for part in (actor.note, note) if part)[:255],
    )


def _call_provider(payment: Payment, actor: Actor, call):
    """Run `call(locked_payment)` with the payment locked and record what it changed.

    django-payments' providers answer "send the shopper there" by raising RedirectNeeded: that is
    an outcome, so the change is kept and the redirect raised after it is recorded. Any other
    exception (a gateway down, a refused tamper) rolls the whole change back.
    """
    redirect = None
    with transaction.atomic():
        locked = _lock(payment)
        before = _Before.of(locked)
        with Payment.changes_recorded():
            try:
                result = call(locked)
            except RedirectNeeded as needed:
                redirect, result = needed, None
        _check_shopper_may_change(locked, before, actor)
        event = _record(locked, before, actor, provider_reference=_last_reference(locked))
        # An authorisation that still sends the shopper elsewhere (a 3-D Secure check) is not a
        # payment yet: the order is placed when they come back verified, not before.
        checking = redirect is not None and str(redirect) != locked.get_success_url()
        newly_paid = event is not None and before.status in OPEN_PAYMENT_STATUSES
        verified = event is None and locked.order.status == OrderStatus.AWAITING_PAYMENT
        if locked.status in SUCCEEDED_PAYMENT_STATUSES and (newly_paid or verified) and not checking:
            _paid(locked)
    _refresh(payment, locked)
    if redirect is not None:
        raise redirect
    return result


class ShopperMayNotChange(IllegalPaymentTransition):
    """The shopper's browser (the payment page, the return from the provider) asked for a change
    only the shop or the provider's own webhook may make."""


def _check_shopper_may_change(payment: Payment, before: _Before, actor: Actor) -> None:
    """The shopper's side may finish a payment that is still open, and report a failed 3-D Secure
    check on an authorisation the order has not been placed with; nothing else. Capturing and
    refunding are the shop's (capture_payment, refund_payment), so a return URL opened by hand
    (`?verification_result=confirmed`) changes nothing. Raises ShopperMayNotChange."""
    if actor.source not in (PaymentEventSource.SHOPPER, PaymentEventSource.RETURN):
        return
    if payment.status == before.status or before.status in OPEN_PAYMENT_STATUSES:
        return
    failed_check = (
        before.status == PaymentStatus.PREAUTH
        and payment.status == PaymentStatus.REJECTED
        and payment.order.status == OrderStatus.AWAITING_PAYMENT
    )
    if not failed_check:
        raise ShopperMayNotChange(payment, payment.status)


def _paid(payment: Payment) -> None:
    """`payment` was just authorised (or charged), with its order's row locked (_lock). An order
    awaiting payment is placed now. An order cancelled meanwhile (its hold ended first, the
    shopper cancelled), or one another attempt already paid, must not keep the money: the
    payment is settled (released) once this is committed."""
    order = payment.order
    if order.status == OrderStatus.AWAITING_PAYMENT:
        # Locked here, under the order's lock, as placing the order would lock them: one query,
        # read for the note and moved by mark_order_paid as read.
        fulfilments = list(Fulfilment.objects.select_for_update().filter(order_id=order.pk).order_by("pk"))
        if payment.status == PaymentStatus.PREAUTH:
            methods = {fulfilment.method for fulfilment in fulfilments}
            note = partial(_authorised_note, payment.total, payment.currency, methods)
        else:
            note = partial(_charged_note, payment.total, payment.currency)
        mark_order_paid(order=order, note=note, fulfilments=fulfilments)
        return
    paid_before = (
        Payment.objects.filter(order=order, status__in=SUCCEEDED_PAYMENT_STATUSES).exclude(pk=payment.pk).exists()
    )
    if order.status == OrderStatus.CANCELLED or paid_before:
        logger.warning("payment %s paid order %s, which is %s: settling it", payment.pk, order.number, order.status)
        transaction.on_commit(partial(settlement_due.send, sender=Payment, order_id=order.pk), robust=True)


# Timeline notes, called by orders.services under the order's language (note_in_order_language).
def _authorised_note(total: Decimal, currency: str, methods: set[str]) -> str:
    """When the authorised amount is taken depends on how the goods reach the shopper (`methods`,
    the order's fulfilment methods): captured at the hand-over, the door or the dispatch."""
    amount = format_money(total, currency)
    if len(methods) > 1:  # a split order: each part is taken as it is handed over
        return gettext("Paid online: %(amount)s authorised, each part taken when it is handed over.") % {
            "amount": amount
        }
    if methods == {FulfilmentMethod.LOCAL_DELIVERY}:
        return gettext("Paid online: %(amount)s authorised, taken when the order is delivered.") % {"amount": amount}
    if methods == {FulfilmentMethod.SHIPPING}:
        return gettext("Paid online: %(amount)s authorised, taken when the order is shipped.") % {"amount": amount}
    return gettext("Paid online: %(amount)s authorised, taken when you pick up.") % {"amount": amount}


def _charged_note(total: Decimal, currency: str) -> str:
    return gettext("Paid online: %(amount)s charged.") % {"amount": format_money(total, currency)}


def _last_reference(payment: Payment) -> str:
    try:
        return str(payment.attrs.provider_reference)
    except AttributeError:
        return ""


def _refresh(payment: Payment, locked: Payment) -> None:
    for field in Payment._meta.concrete_fields:
        setattr(payment, field.attname, getattr(locked, field.attname))


def payment_form(*, payment: Payment, data: dict | None, by: Actor) -> PaymentForm:
    """The provider's payment form (the Dummy provider's), or RedirectNeeded to its payment page."""
    return _call_provider(payment, by, lambda locked: locked.get_form(data=data))


def process_provider_request(
    *, payment: Payment, request: HttpRequest, by: Actor, provider: BasicProvider | None = None
) -> HttpResponse:
    """A provider's callback or webhook for `payment` (django-payments' process_data)."""
    provider = provider or provider_factory(payment.variant, payment)
    return _call_provider(payment, by, lambda locked: provider.process_data(locked, request))


def capture_payment(*, payment: Payment, amount: Decimal, by: Actor, note: str = "") -> Payment:
    """Take `amount` of an authorisation (all of it or part; more parts may follow)."""
    with transaction.atomic():
        locked = _lock(payment)
        before = _Before.of(locked)
        if locked.status not in (PaymentStatus.PREAUTH, PaymentStatus.CONFIRMED):
            raise IllegalPaymentTransition(locked, PaymentStatus.CONFIRMED)
        if not Decimal("0") < amount <= locked.capturable_amount:
            raise NothingToDo(f"payment {locked.pk}: cannot capture {amount} of {locked.capturable_amount} left")
        provider = _provider(locked)
        with Payment.changes_recorded():
            provider.capture(locked, amount)
        locked.status = PaymentStatus.CONFIRMED
        locked.captured_amount = before.captured + amount
        _record(
            locked,
            before,
            by,
            kind=PaymentEventKind.CAPTURE,
            amount=amount,
            provider_reference=_last_reference(locked),
            note=note,
        )
    _refresh(payment, locked)
    return payment


def capture_and_release(
    *, payment: Payment, amount: Decimal, by: Actor, capture_note: str = "", release_note: str = ""
) -> Payment:
    """Take `amount` of an authorisation and let go of the rest, under one lock: what a hand-over
    does (checkout.handover). `amount` may be 0 (nothing handed over is worth money): all is let go.

    A capture the provider refuses raises and changes nothing. A release the provider then fails
    to make leaves the capture standing (the money was taken) and the rest authorised, to lapse
    or be released later; it is logged.
    """
    with transaction.atomic():
        locked = _lock(payment)
        if locked.status not in (PaymentStatus.PREAUTH, PaymentStatus.CONFIRMED):
            raise IllegalPaymentTransition(locked, PaymentStatus.CONFIRMED)
        if not Decimal("0") <= amount <= locked.capturable_amount:
            raise NothingToDo(f"payment {locked.pk}: cannot capture {amount} of {locked.capturable_amount} left")
        provider = _provider(locked)
        if amount > 0:
            before = _Before.of(locked)
            with Payment.changes_recorded():
                provider.capture(locked, amount)
            locked.status = PaymentStatus.CONFIRMED
            locked.captured_amount = before.captured + amount
            _record(
                locked,
                before,
                by,
                kind=PaymentEventKind.CAPTURE,
                amount=amount,
                provider_reference=_last_reference(locked),
                note=capture_note,
            )
        remaining = locked.capturable_amount
        if remaining > 0:
            before = _Before.of(locked)
            try:
                with transaction.atomic(), Payment.changes_recorded():
                    provider.release(locked)
            except (PaymentError, URLError, OSError) as error:
                logger.warning("payment %s: the rest could not be released, it will lapse: %s", locked.pk, error)
            else:
                _record_release(locked, before, by, amount=remaining, note=release_note)
    _refresh(payment, locked)
    return payment


def release_payment(*, payment: Payment, by: Actor, note: str = "") -> Payment:
    """Let go of what is left of an authorisation: all of it (the payment is cancelled) or, after
    a partial capture, the rest (the payment stays captured)."""
    with transaction.atomic():
        locked = _lock(payment)
        before = _Before.of(locked)
        if locked.status not in (PaymentStatus.PREAUTH, PaymentStatus.CONFIRMED):
            raise IllegalPaymentTransition(locked, PaymentStatus.CANCELLED)
        remaining = locked.capturable_amount
        if remaining <= 0:
            raise NothingToDo(f"payment {locked.pk}: nothing left to release")
        provider = _provider(locked)
        with Payment.changes_recorded():
            provider.release(locked)
        _record_release(locked, before, by, amount=remaining, note=note)
    _refresh(payment, locked)
    return payment


def _record_release(locked: Payment, before: _Before, by: Actor, *, amount: Decimal, note: str) -> None:
    """The provider let go of `amount` (all that was left): with nothing captured the payment is
    cancelled, after a capture it stays captured; either way an event records it."""
    locked.status = PaymentStatus.CANCELLED if before.captured == 0 else PaymentStatus.CONFIRMED
    locked.released_amount = before.released + amount
    _record(
        locked,
        before,
        by,
        kind=PaymentEventKind.RELEASE,
        amount=amount,
        provider_reference=_last_reference(locked),
        note=note,
    )


def refund_payment(*, payment: Payment, amount: Decimal, by: Actor, note: str = "") -> Payment:
    """Give back `amount` of what was captured; never more than was captured, however many
    refunds run at once (the row lock, and a database constraint behind it)."""
    with transaction.atomic():
        locked = _lock(payment)
        before = _Before.of(locked)
        if locked.status != PaymentStatus.CONFIRMED:
            raise IllegalPaymentTransition(locked, PaymentStatus.REFUNDED)
        if not Decimal("0") < amount <= locked.refundable_amount:
            raise NothingToDo(f"payment {locked.pk}: cannot refund {amount} of {locked.refundable_amount}")
        provider = _provider(locked)
        with Payment.changes_recorded():
            provider.refund(locked, amount)
        locked.refunded_amount = before.refunded + amount
        fully = locked.refunded_amount == locked.captured_amount and locked.capturable_amount == 0
        locked.status = PaymentStatus.REFUNDED if fully else PaymentStatus.CONFIRMED
        _record(
            locked,
            before,
            by,
            kind=PaymentEventKind.REFUND,
            amount=amount,
            provider_reference=_last_reference(locked),
            note=note,
        )
    _refresh(payment, locked)
    return payment


def cancel_payment(*, payment: Payment, by: Actor, note: str = "") -> Payment:
    """Abandon a payment the shopper has not completed (it stays cancelled; a new attempt is a new
    payment)."""
    with transaction.atomic():
        locked = _lock(payment)
        before = _Before.of(locked)
        if locked.status not in (PaymentStatus.WAITING, PaymentStatus.INPUT):
            raise IllegalPaymentTransition(locked, PaymentStatus.CANCELLED)
        provider = _provider(locked)
        with Payment.changes_recorded():
            provider.cancel(locked)
        locked.status = PaymentStatus.CANCELLED
        _record(locked, before, by, amount=locked.total, provider_reference=_last_reference(locked), note=note)
    _refresh(payment, locked)
    return payment


@dataclass(frozen=True)
class Settlement:
    """What settle_order_payments did: the events it wrote, and the payments it could not settle
    now (a provider error; the task retries them)."""

    events: tuple[PaymentEvent, ...]
    failed: tuple[tuple[int, str], ...]  # (payment id, error)


def settle_order_payments(*, order: Order, by: Actor | None = None) -> Settlement:
    """Settle what `order`'s payments still hold that the order no longer needs, each step a
    PaymentEvent through the services above:

    - a cancelled order keeps nothing: attempts still open are cancelled, authorisations voided
      (released) and money captured refunded;
    - an order that is not cancelled keeps its first successful payment; a second one that
      succeeded (two tabs paying at once) is voided or refunded, and attempts still open are
      cancelled.

    Safe to run again and at the same moment as anything else: each payment is decided under
    its locks (services re-check), and what is already settled is left alone. Provider errors
    are collected, not raised, so one failing payment does not hold back the others."""
    by = by or Actor.shop(note=gettext("order cancelled") if order.status == OrderStatus.CANCELLED else "")
    events, failed = [], []
    # A cancelled order whose ready part the shopper already took (line-level readiness) keeps the
    # money for those units: only the rest is released or refunded.
    keep = _value_kept(order) if order.status == OrderStatus.CANCELLED else Decimal("0")
    # A till payment is the till's record, settled at the till: never voided or refunded here.
    payments = list(Payment.objects.filter(order=order).exclude(variant=TILL_VARIANT).order_by("created", "pk"))
    keeper = None
    if order.status != OrderStatus.CANCELLED:
        keeper = next((p.pk for p in payments if p.status in SUCCEEDED_PAYMENT_STATUSES), None)
    for payment in payments:
        if payment.pk == keeper:
            continue
        try:
            settled = _settle(payment, by, keep=keep)
            events.extend(settled)
            keep = max(keep - payment.captured_amount + payment.refunded_amount, Decimal("0"))
        except (PaymentRefused, IllegalPaymentTransition):
            logger.info("payment %s: nothing left to settle", payment.pk)
        except Exception as error:  # noqa: BLE001 — a provider's failure: the task retries it
            logger.warning("payment %s: settling failed: %s", payment.pk, error)
            failed.append((payment.pk, f"{type(error).__name__}: {error}"))
    return Settlement(events=tuple(events), failed=tuple(failed))


def _value_kept(order: Order) -> Decimal:
    """What the units the shopper took (and did not get refunded) are worth."""
    taken = handed_over_by_line(order=order)
    if not taken:
        return Decimal("0")
    refunded = refunded_by_line(order=order)
    lines = OrderLine.objects.in_bulk(list(taken))
    return sum(
        (lines[pk].value_of(max(units - refunded.get(pk, 0), 0)) for pk, units in taken.items()),
        Decimal("0"),
    )


def _settle(payment: Payment, by: Actor, *, keep: Decimal = Decimal("0")) -> list[PaymentEvent]:
    """One payment settled, step by step; each step re-reads the payment under its lock. `keep`
    of what was captured stays captured (units the shopper took)."""
    done = []
    payment.refresh_from_db()
    if payment.status in OPEN_PAYMENT_STATUSES:
        cancel_payment(payment=payment, by=by)
        done.append(_last_event(payment))
    if payment.status in (PaymentStatus.PREAUTH, PaymentStatus.CONFIRMED) and payment.capturable_amount > 0:
        release_payment(payment=payment, by=by)
        done.append(_last_event(payment))
    if payment.status == PaymentStatus.CONFIRMED and payment.refundable_amount - keep > 0:
        refund_payment(payment=payment, amount=payment.refundable_amount - keep, by=by)
        done.append(_last_event(payment))
    return done


def _last_event(payment: Payment) -> PaymentEvent:
    return PaymentEvent.objects.filter(payment=payment).order_by("-pk").first()


def payments_to_settle() -> QuerySet[Payment]:
    """Payments of cancelled orders that still hold something (the beat sweep, for settlements
    whose task was lost): open attempts, authorisations, captures not yet refunded."""
    holding = Q(status__in=(*OPEN_PAYMENT_STATUSES, PaymentStatus.PREAUTH)) | Q(
        Q(status=PaymentStatus.CONFIRMED)
        & (Q(refunded_amount__lt=F("captured_amount")) | Q(total__gt=F("captured_amount") + F("released_amount")))
    )
    return Payment.objects.filter(holding, order__status=OrderStatus.CANCELLED)


# --- hand-over: the till, a failed capture ---------------------------------------------------------


class TillReceiptRefused(PaymentRefused):
    """The till's receipt number is missing, malformed or already recorded; `message` says which."""


def capturable_payment(*, order: Order) -> Payment | None:
    """The order's authorisation that still holds money to capture (the newest), or None."""
    for payment in Payment.objects.filter(order=order, status__in=(PaymentStatus.PREAUTH, PaymentStatus.CONFIRMED)):
        if payment.capturable_amount > 0 and payment.variant != TILL_VARIANT:
            return payment
    return None


def check_till_receipt_number(*, order: Order, number: str) -> str:
    """The till receipt number cleaned (payment.till.clean_till_receipt_number), refused when it
    is already recorded for another payment at the order's store (a number typed twice)."""
    try:
        number = clean_till_receipt_number(number)
    except ValidationError as error:
        raise TillReceiptRefused(error.messages[0]) from None
    used = (
        Payment.objects.filter(variant=TILL_VARIANT, till_receipt_number=number, order__store_id=order.store_id)
        .exclude(order=order)
        .values_list("order__number", flat=True)
        .first()
    )
    if used:
        raise TillReceiptRefused(
            gettext("Till receipt %(receipt)s is already recorded for order %(number)s.")
            % {"receipt": number, "number": used}
        )
    return number


def record_till_payment(*, order: Order, amount: Decimal, receipt_number: str, by: User | None) -> Payment:
    """Staff took `amount` for `order` at the store's till: a payment of variant "till", captured,
    with the till's receipt number (see payment.till for why a till payment is a Payment).

    Like every payment it is for the order's total: `amount` is captured and the rest of the total
    counts as released (it was not taken: units not handed over, or paid another way).
    """
    number = check_till_receipt_number(order=order, number=receipt_number)
    if not Decimal("0") < amount <= order.total:
        raise NothingToDo(f"order {order.number}: cannot take {amount} of {order.total} at the till")
    with transaction.atomic():
        payment = Payment.objects.create(
            order=order,
            variant=TILL_VARIANT,
            status=PaymentStatus.CONFIRMED,
            total=order.total,
            currency=order.currency,
            captured_amount=amount,
            released_amount=order.total - amount,
            till_receipt_number=number,
            description=str(_("Order %(number)s") % {"number": order.number}),
            billing_email=order.contact_email,
        )
        actor = Actor.staff(by)
        PaymentEvent.objects.create(
            payment=payment,
            kind=PaymentEventKind.TILL,
            from_status=PaymentStatus.WAITING,
            to_status=PaymentStatus.CONFIRMED,
            amount=amount,
            currency=payment.currency,
            source=actor.source,
            actor=actor.user,
            provider_reference=number,
        )
    return payment


def record_failed_capture(*, payment: Payment, amount: Decimal, error: str, by: Actor) -> PaymentEvent:
    """Write down a capture the provider refused or could not make (the capture itself was rolled
    back and the payment is as it was): staff and the audit see it, and the hand-over screen
    offers the till from then on."""
    return PaymentEvent.objects.create(
        payment=payment,
        kind=PaymentEventKind.CAPTURE_FAILED,
        from_status=payment.status,
        to_status=payment.status,
        amount=amount,
        currency=payment.currency,
        source=by.source,
        actor=by.user,
        note=" · ".join(part for part in (by.note, error) if part)[:255],
    )


def last_capture_failure(*, payment: Payment) -> PaymentEvent | None:
    """The failed capture since the payment last changed, if its latest event is one."""
    last = PaymentEvent.objects.filter(payment=payment).order_by("-created_at", "-pk").first()
    return last if last is not None and last.kind == PaymentEventKind.CAPTURE_FAILED else None


# --- refunds ----------------------------------------------------------------------------------------


class RefundRefused(PaymentRefused):
    """A refund the shop does not make, with a message for staff; nothing was changed."""


def refunded_by_line(*, order: Order, not_handed_over: bool = False) -> dict[int, int]:
    """Units of each order line refunded so far: of the units handed over, or (`not_handed_over`)
    of those the shopper did not take."""
    refunds = RefundLine.objects.filter(refund__order=order)
    if not_handed_over:
        refunds = refunds.filter(refund__reason=RefundReason.NOT_HANDED_OVER)
    else:
        refunds = refunds.exclude(refund__reason=RefundReason.NOT_HANDED_OVER)
    return dict(refunds.values("order_line").annotate(units=Sum("quantity")).values_list("order_line", "units"))


def units_given_back_otherwise(*, order: Order, refund_for: str = "") -> dict[int, int]:
    """Units of each order line the shopper got something back for other than a refund here: the
    callables of O2O_UNITS_GIVEN_BACK_OTHERWISE (the returns app: units taken back as store credit or
    in an exchange, or waiting for their return's refund). `refund_for` names what a refund is made
    for (a return's code): its own units are not counted against it. Refunding these units again
    would give the money back twice."""
    given_back: dict[int, int] = {}
    for path in settings.O2O_UNITS_GIVEN_BACK_OTHERWISE:
        for line_pk, units in import_string(path)(order=order, refund_for=refund_for).items():
            given_back[line_pk] = given_back.get(line_pk, 0) + units
    return given_back


def refundable_payment(*, order: Order) -> Payment | None:
    """The payment a refund of `order` gives money back from: the one with most money left to
    give back (an order is paid by one payment; a second one only after a failed capture, which
    took nothing)."""
    paid = [p for p in Payment.objects.filter(order=order, status=PaymentStatus.CONFIRMED) if p.refundable_amount > 0]
    return max(paid, key=lambda payment: (payment.refundable_amount, payment.pk), default=None)


def refund_order(
    *,
    order: Order,
    reason: RefundReason,
    by: User | None,
    lines: dict[int, int] | None = None,
    amount: Decimal | None = None,
    note: str = "",
    till_receipt_number: str = "",
    line_amounts: dict[int, Decimal] | None = None,
    refund_for: str = "",
) -> Refund:
    """Give money back for `order`: for `lines` ({order line id: units}, their value from the
    order's unit prices, or `line_amounts` {order line id: money} where a line is worth less, as a
    return's share of an order-level discount; never more) or for an `amount`, never both; with a
    reason (RefundReason; "other" needs a note). Lines worth more than is left to refund (an amount
    was refunded before, say as goodwill) are refunded with what is left. Each line's refunded units
    never exceed the units handed over less those given back otherwise (units_given_back_otherwise;
    `refund_for` names what this refund is for), and the money never exceeds what was captured: the
    order's row is locked first, so two members of staff refunding the same order at once are served
    one after the other and the second is measured against what the first gave back (a database
    constraint stands behind it). A till payment is refunded at the till: `till_receipt_number` is
    then the till's return receipt.

    Raises RefundRefused (a message for staff) and lets a provider's error through; either way
    nothing is changed.
    """
    if (lines is None) == (amount is None):
        raise RefundRefused(gettext("Refund either lines or an amount."))
    reason = RefundReason(reason)
    note = " ".join((note or "").split())[:255]
    if reason == RefundReason.OTHER and not note:
        raise RefundRefused(gettext("Say why in the note when the reason is “other”."))
    with transaction.atomic():
        locked_order = Order.objects.select_for_update().get(pk=order.pk)
        payment = refundable_payment(order=locked_order)
        if payment is None:
            raise RefundRefused(gettext("Nothing paid for this order is left to refund."))
        refund_lines = []
        if lines is not None:
            refund_lines = _refund_lines(
                locked_order,
                {pk: units for pk, units in lines.items() if units},
                reason,
                line_amounts or {},
                refund_for=refund_for,
            )
            amount = sum((line.amount for line in refund_lines), Decimal("0"))
            if amount > payment.refundable_amount > 0:
                # Money was given back already as an amount (a goodwill refund): these units are
                # refunded with what is left, never more than was paid.
                amount = _capped(refund_lines, payment.refundable_amount)
        if amount is None or amount <= 0:
            raise RefundRefused(gettext("Choose what to refund: at least one item, or an amount above zero."))
        if amount > payment.refundable_amount:
            raise RefundRefused(
                gettext("At most %(left)s can be refunded; %(asked)s is more.")
                % {"left": _money(payment.refundable_amount, order), "asked": _money(amount, order)}
            )
        number = ""
        if payment.variant == TILL_VARIANT:
            try:
                number = clean_till_receipt_number(till_receipt_number)
            except ValidationError as error:
                raise RefundRefused(
                    gettext("This order was paid at the till: refund it at the till and enter its receipt number.")
                    + " "
                    + error.messages[0]
                ) from None
        refund_payment(payment=payment, amount=amount, by=Actor.staff(by), note=note or str(reason.label))
        event = PaymentEvent.objects.filter(payment=payment, kind=PaymentEventKind.REFUND).order_by("-pk").first()
        if number:
            event.provider_reference = number
            event.save(update_fields=["provider_reference"])
        refund = Refund.objects.create(
            order=locked_order,
            payment=payment,
            event=event,
            amount=amount,
            reason=reason,
            note=note,
            till_receipt_number=number,
            created_by=signed_in(by),
        )
        for line in refund_lines:
            line.refund = refund
        RefundLine.objects.bulk_create(refund_lines)
        if not refund_for:
            # The shopper is told what was refunded and when the money arrives (a return's
            # refund is told by its return receipt): as Shopify's refund notification does.
            notify(order=locked_order, kind=NotificationKind.REFUND, reference=str(refund.pk))
        if refund_lines and reason != RefundReason.NOT_HANDED_OVER and not refund_for:
            # Units the shopper took (they earned, and may have redeemed, points) refunded without
            # a return: a return reversed its own units when it was received, units not handed
            # over never earned.
            goods_refunded.send(
                sender=Refund,
                order_id=locked_order.pk,
                units={line.order_line_id: line.quantity for line in refund_lines},
                by=signed_in(by),
                refund_id=refund.pk,
            )
    return refund


def _refund_lines(
    order: Order, units: dict[int, int], reason: RefundReason, line_amounts: dict[int, Decimal], *, refund_for: str
) -> list[RefundLine]:
    """The refund's lines, each checked: units handed over and neither refunded nor given back
    otherwise (a return's store credit or exchange), or, for units refunded because they were not
    handed over (charged at checkout), those units."""
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order)}
    taken = handed_over_by_line(order=order)
    not_handed_over = reason == RefundReason.NOT_HANDED_OVER
    refunded = refunded_by_line(order=order, not_handed_over=not_handed_over)
    given_back = {} if not_handed_over else units_given_back_otherwise(order=order, refund_for=refund_for)
    found = []
    for line_pk, count in sorted(units.items()):
        line = order_lines.get(line_pk)
        if line is None:
            raise RefundRefused(gettext("That line is not part of this order."))
        if not_handed_over:
            left = line.quantity - taken.get(line_pk, 0) - refunded.get(line_pk, 0)
        else:
            left = taken.get(line_pk, 0) - refunded.get(line_pk, 0) - given_back.get(line_pk, 0)
        if not 0 < count <= left:
            raise RefundRefused(
                gettext("%(product)s: %(left)s can be refunded, not %(asked)s.")
                % {"product": line.product_name, "left": max(left, 0), "asked": count}
            )
        value = line.value_of(count)  # a coupon's share of the line was never paid
        amount = line_amounts.get(line_pk, value)
        if not Decimal("0") <= amount <= value:
            raise RefundRefused(
                gettext("%(product)s: at most %(value)s can be refunded, not %(asked)s.")
                % {"product": line.product_name, "value": _money(value, order), "asked": _money(amount, order)}
            )
        found.append(RefundLine(order_line=line, quantity=count, amount=amount))
    return found


def _capped(refund_lines: list[RefundLine], most: Decimal) -> Decimal:
    """Lower the lines' amounts, last line first, until they come to `most`; returns `most`."""
    over = sum((line.amount for line in refund_lines), Decimal("0")) - most
    for line in reversed(refund_lines):
        cut = min(over, line.amount)
        line.amount -= cut
        over -= cut
    return most


def _money(amount: Decimal, order: Order) -> str:
    return format_money(amount, order.currency)
