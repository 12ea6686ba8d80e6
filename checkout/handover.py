"""Handing an order over and taking its payment in the same step: the counter (the admin's collect
screen) and the curb (pickup's queue) both come here.

pickup checks the pickup code and hands over the units (all, or the lines and quantities staff
chose); payment takes the money. Neither may import the other, so they meet here, a layer above
both (README, "Architecture"). The money is settled last, inside the hand-over's transaction
(pickup.services.collect_order's `settle`): if the card cannot be charged, nothing is handed over
and staff are told to take the payment at the till instead.

How an order is settled at hand-over:

- **Authorised online**: exactly the value of the units handed over (the order lines' unit prices
  × units, Decimal, never a provider's figure) is captured, and the rest of the authorisation is
  released; the receipt for those units is issued in the same transaction (payment.receipts).
  If the capture fails (declined, the provider unreachable), the failure is recorded
  on the payment, nothing is handed over, and the screen offers "paid at the till".
- **Charged at once online** (a provider that captures at checkout): units not handed over are
  refunded, by line, with the reason "not handed over", and the receipt is for the units handed
  over.
- **Pay at pickup** (no authorisation, or it failed): staff take the money at the store's till and
  type the till's receipt number, which is required and kept on a till payment (payment.till).
- **Nothing to pay** (a total of 0, orders.models.PaymentChoice.NOTHING_TO_PAY): no card, no till,
  no receipt number; only the pickup code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from urllib.error import URLError

from django.utils.translation import gettext as _
from payments import PaymentError

from accounts.models import User
from delivery import services as delivery_services
from delivery.models import Delivery
from o2o_site.money import format_money
from orders.models import STATUSES_HOLDING_STOCK, Fulfilment, FulfilmentLine, Order, OrderLine, OrderStatus
from orders.services import handed_over_units_of
from payment import receipts
from payment import services as payments
from payment.models import TILL_VARIANT, Payment, PaymentStatus, RefundReason
from pickup import services as pickup_services
from shipping import services as shipping_services
from shipping.models import Shipment

logger = logging.getLogger(__name__)

# What a provider raises when it cannot capture or release: django-payments' PaymentError (our
# Vipps provider's VippsError is one), a network error, or the shop's own refusal.
PROVIDER_ERRORS = (PaymentError, URLError, OSError, payments.PaymentRefused)


class HandOverError(Exception):
    """Nothing was handed over; the message says why, for staff."""


class TillReceiptRequired(HandOverError):
    pass


class CaptureFailed(HandOverError):
    """The card payment could not be taken: staff take the payment at the till instead."""


@dataclass(frozen=True)
class Settlement:
    """How an order's payment is settled at hand-over (what the hand-over screens offer)."""

    authorisation: Payment | None  # authorised online: captured at hand-over
    charged: Payment | None  # charged in full at checkout: what is not handed over is refunded
    capture_failure: str  # why the last capture of the authorisation failed, "" if it did not
    nothing_to_pay: bool = False  # the order's total is 0: no card, no till

    @property
    def online(self) -> bool:
        return self.authorisation is not None or self.charged is not None

    @property
    def offers_till(self) -> bool:
        """Staff may record a till payment: the order is paid at pickup, or its card failed."""
        if self.nothing_to_pay:
            return False
        return not self.online or bool(self.capture_failure)

    @property
    def needs_till_receipt(self) -> bool:
        """Nothing online to take the money from: the till's receipt number is required."""
        return not self.online and not self.nothing_to_pay


def settlement_for(order: Order) -> Settlement:
    """What the hand-over of `order` will do with its money (two or three queries; none for an
    order with nothing to pay)."""
    if order.has_nothing_to_pay:
        return Settlement(authorisation=None, charged=None, capture_failure="", nothing_to_pay=True)
    authorisation = payments.capturable_payment(order=order)
    charged = None
    if authorisation is None:
        charged = next(
            (
                payment
                for payment in Payment.objects.filter(order=order, status=PaymentStatus.CONFIRMED).exclude(
                    variant=TILL_VARIANT
                )
                if payment.captured_amount == payment.total and payment.refunded_amount == 0
            ),
            None,
        )
    failure = payments.last_capture_failure(payment=authorisation) if authorisation is not None else None
    return Settlement(
        authorisation=authorisation,
        charged=charged,
        capture_failure=(failure.note or _("The provider refused the capture.")) if failure else "",
    )


@dataclass(frozen=True)
class HandedOver:
    order: Order
    value: Decimal  # what the units handed over are worth
    captured: Payment | None = None  # the online payment captured
    till: Payment | None = None  # the till payment recorded
    partly: bool = False  # the ready part of the order: the rest stays reserved


def value_of_units(order: Order, units: dict[int, int]) -> Decimal:
    """What `units` ({order line id: units}) of `order` are worth: what the shopper was charged
    for them (OrderLine.value_of: unit prices less a coupon's share)."""
    lines = OrderLine.objects.in_bulk([pk for pk, count in units.items() if count])
    return sum((lines[pk].value_of(count) for pk, count in units.items() if count), Decimal("0"))


def hand_over(
    *,
    order: Order,
    code: str,
    by: User | None,
    quantities: dict[int, int] | None = None,
    till_receipt_number: str = "",
    at_curb: bool = False,
    ip_address: str | None = None,
) -> HandedOver:
    """Check the pickup code, hand over all or `quantities` ({order line id: units}) of `order`,
    and settle its payment (see the module's doc). `till_receipt_number`, when given (and the
    till is offered), records the payment as taken at the till instead of capturing online.

    Raises pickup's WrongPickupCode / PickupCodeLocked, orders' IllegalTransition or OrderError
    (nothing to hand over, too many units), TillReceiptRequired, payment's TillReceiptRefused,
    or CaptureFailed; after any of them nothing was handed over and no money moved.
    """
    settlement = settlement_for(order)
    till_receipt_number = (till_receipt_number or "").strip()
    if till_receipt_number and settlement.nothing_to_pay:
        raise HandOverError(_("This order has nothing to pay: take no payment and leave the till receipt empty."))
    if till_receipt_number and not settlement.offers_till:
        # Paid online: taking it at the till as well would charge the shopper twice.
        raise HandOverError(
            _("This order is paid online and the card payment is taken at hand-over: leave the till receipt empty.")
        )
    if settlement.needs_till_receipt and not till_receipt_number:
        # The code is checked all the same (and counted), so a wrong one is said at once, not
        # only once a receipt number is typed.
        pickup_services.check_pickup_code(order=order, code=code, by=by, ip_address=ip_address)
        raise TillReceiptRequired(
            _("This order is paid at pickup: take the payment at the till and enter the till's receipt number.")
        )
    if till_receipt_number:
        # Checked before the pickup code, so a mistyped number costs no code attempt.
        till_receipt_number = payments.check_till_receipt_number(order=order, number=till_receipt_number)
    outcome: dict[str, object] = {}

    def settle(collected: Order, fulfilment: Fulfilment) -> None:
        # Only what this hand-over gave: the ready part of an order may have been collected before.
        units = handed_over_units_of(fulfilment)
        value = value_of_units(collected, units)
        outcome["value"] = value
        # The ready part of a placed order (its rest is still to come): capture what was handed
        # over and keep the rest of the authorisation for the rest.
        partly = collected.status != OrderStatus.COLLECTED
        outcome["partly"] = partly
        if partly and not till_receipt_number and settlement.authorisation is not None:
            if value > 0:
                outcome["attempted"] = value
                outcome["captured"] = captured = payments.capture_payment(
                    payment=settlement.authorisation,
                    amount=value,
                    by=payments.Actor.staff(by),
                    note=_("Ready items handed over."),
                )
                receipts.issue_receipt(payment=captured, lines=_captured_lines(collected, units))
        elif till_receipt_number:
            if value > 0:
                outcome["till"] = payments.record_till_payment(
                    order=collected, amount=value, receipt_number=till_receipt_number, by=by
                )
            if settlement.authorisation is not None:
                _release_rest(settlement.authorisation, by, note=_("Paid at the till instead."))
        elif settlement.authorisation is not None:
            outcome["attempted"] = value
            captured = payments.capture_and_release(
                payment=settlement.authorisation,
                amount=value,
                by=payments.Actor.staff(by),
                capture_note=_("Handed over."),
                release_note=_("Not handed over."),
            )
            if value > 0:
                outcome["captured"] = captured
                # The shopper's receipt for exactly the units whose money was taken, numbered in
                # this transaction (payment.receipts: gap-free, e-mailed once after commit).
                receipts.issue_receipt(payment=captured, lines=_captured_lines(collected, units))
        elif settlement.charged is not None:
            _refund_not_handed_over(collected, fulfilment, by)
            if value > 0:
                receipts.issue_receipt(payment=settlement.charged, lines=_captured_lines(collected, units))

    collect = pickup_services.hand_over_at_curb if at_curb else pickup_services.collect_order
    try:
        collected = collect(order=order, code=code, by=by, ip_address=ip_address, quantities=quantities, settle=settle)
    except pickup_services.HandOverRefused as refused:
        error = refused.reason
        if isinstance(error, PROVIDER_ERRORS) and "attempted" in outcome:
            payments.record_failed_capture(
                payment=settlement.authorisation,
                amount=outcome["attempted"],
                error=str(error),
                by=payments.Actor.staff(by),
            )
            logger.warning("order %s: capture at hand-over failed: %s", order.number, error)
            raise CaptureFailed(
                _(
                    "The card payment of %(amount)s could not be taken (%(reason)s). Nothing was handed over "
                    "and nothing was charged. Take the payment at the till, then hand over again with the "
                    "till's receipt number."
                )
                % {"amount": format_money(outcome["attempted"], order.currency), "reason": error}
            ) from error
        raise error from None
    return HandedOver(
        order=collected,
        value=outcome["value"],
        captured=outcome.get("captured"),
        till=outcome.get("till"),
        partly=outcome.get("partly", False),
    )


def hand_over_delivery(*, delivery: Delivery, by: User | None) -> HandedOver:
    """The driver hands a delivery over at the door (delivery.services.mark_delivered) and its
    payment is settled in the same transaction: the authorisation is captured for what this
    delivery carried, the delivery fee with the goods, and the receipt issued; an order charged at
    checkout gets its receipt. The delivered part of a split order whose other part is still to
    come captures its own value only and keeps the rest authorised (_capture_part). If the
    capture fails, nothing is marked delivered and CaptureFailed says so."""
    order = delivery.fulfilment.order
    settlement = settlement_for(order)
    outcome: dict[str, object] = {}

    def settle(delivered: Order) -> None:
        units = handed_over_units_of(delivery.fulfilment)
        value = value_of_units(delivered, units)
        outcome["value"] = value
        if settlement.authorisation is not None:
            outcome["attempted"] = value
            captured = _capture_part(
                settlement.authorisation,
                order=delivered,
                value=value,
                by=by,
                capture_note=_("Delivered."),
                release_note=_("Not delivered."),
            )
            outcome["captured"] = captured
            receipts.issue_receipt(payment=captured, lines=_captured_lines(delivered, units))
        elif settlement.charged is not None and value > 0:
            receipts.issue_receipt(payment=settlement.charged, lines=_captured_lines(delivered, units))

    try:
        delivery_services.mark_delivered(delivery=delivery, by=by, settle=settle)
    except PROVIDER_ERRORS as error:
        if "attempted" not in outcome:
            raise
        payments.record_failed_capture(
            payment=settlement.authorisation, amount=outcome["attempted"], error=str(error), by=payments.Actor.staff(by)
        )
        logger.warning("order %s: capture at delivery failed: %s", order.number, error)
        raise CaptureFailed(
            _(
                "The card payment of %(amount)s could not be taken (%(reason)s). The order was not marked "
                "delivered and nothing was charged. Call the store before handing it over."
            )
            % {"amount": format_money(outcome["attempted"], order.currency), "reason": error}
        ) from error
    order.refresh_from_db()
    return HandedOver(order=order, value=outcome.get("value", Decimal(0)), captured=outcome.get("captured"))


def _capture_part(
    authorisation: Payment, *, order: Order, value: Decimal, by: User | None, capture_note: str, release_note: str
) -> Payment:
    """Capture `value` of `authorisation` for what was just handed over. When `order` still holds
    a part to come (a split order's other part: its status still holds stock) the rest stays
    authorised for it; else the rest is released (capture_and_release)."""
    if order.status in STATUSES_HOLDING_STOCK:
        return payments.capture_payment(
            payment=authorisation, amount=value, by=payments.Actor.staff(by), note=capture_note
        )
    return payments.capture_and_release(
        payment=authorisation,
        amount=value,
        by=payments.Actor.staff(by),
        capture_note=capture_note,
        release_note=release_note,
    )


def _captured_lines(order: Order, units: dict[int, int]) -> list[receipts.CapturedLine]:
    return [
        receipts.CapturedLine(order_line=line, quantity=units[line.pk])
        for line in OrderLine.objects.filter(order=order, pk__in=[pk for pk, count in units.items() if count])
    ]


def _release_rest(authorisation: Payment, by: User | None, *, note: str) -> None:
    """Let go of the authorisation (the till was paid instead). A provider that fails here does
    not undo the hand-over: the authorisation lapses on its own."""
    try:
        payments.release_payment(payment=authorisation, by=payments.Actor.staff(by), note=note)
    except PROVIDER_ERRORS as error:
        logger.warning("payment %s: releasing the authorisation failed, it will lapse: %s", authorisation.pk, error)


def _refund_not_handed_over(order: Order, fulfilment: Fulfilment, by: User | None) -> None:
    """Refund the units `fulfilment` carried that the shopper did not take (they went back on
    sale); units still reserved in another part of the order are not refunded."""
    left = {
        pk: quantity - handed_over
        for pk, quantity, handed_over in FulfilmentLine.objects.filter(fulfilment=fulfilment).values_list(
            "order_line_id", "quantity", "handed_over"
        )
        if handed_over is not None and quantity > handed_over
    }
    if left:
        payments.refund_order(order=order, lines=left, reason=RefundReason.NOT_HANDED_OVER, by=by)


def ship(*, shipment: Shipment, carrier: str, tracking_number: str, by: User | None) -> HandedOver:
    """Record a parcel as shipped (shipping.services.mark_shipped) and take its payment in the same
    transaction: an authorisation is captured for what was shipped (the goods and the shipping
    fee), a payment charged at checkout is kept. If the capture fails, nothing is shipped, the
    failure is recorded on the payment and CaptureFailed says so. An order that is shipped is
    always paid online (checkout.services.place_shipping_order)."""
    order = shipment.fulfilment.order
    settlement = settlement_for(order)
    outcome: dict[str, object] = {}

    def settle(shipped: Order, fulfilment: Fulfilment) -> None:
        units = handed_over_units_of(fulfilment)
        value = value_of_units(shipped, units)
        outcome["value"] = value
        if settlement.authorisation is not None and value > 0:
            outcome["attempted"] = value
            captured = _capture_part(
                settlement.authorisation,
                order=shipped,
                value=value,
                by=by,
                capture_note=_("Shipped."),
                release_note=_("Not shipped."),
            )
            outcome["captured"] = captured
            receipts.issue_receipt(payment=captured, lines=_captured_lines(shipped, units))
        elif settlement.charged is not None and value > 0:
            receipts.issue_receipt(payment=settlement.charged, lines=_captured_lines(shipped, units))

    try:
        shipping_services.mark_shipped(
            shipment=shipment, carrier=carrier, tracking_number=tracking_number, by=by, settle=settle
        )
    except PROVIDER_ERRORS as error:
        if "attempted" not in outcome:
            raise
        payments.record_failed_capture(
            payment=settlement.authorisation, amount=outcome["attempted"], error=str(error), by=payments.Actor.staff(by)
        )
        raise CaptureFailed(
            _("The card payment of %(amount)s could not be taken (%(reason)s). Nothing was shipped.")
            % {"amount": format_money(outcome["attempted"], order.currency), "reason": error}
        ) from error
    order.refresh_from_db()
    return HandedOver(order=order, value=outcome.get("value", Decimal("0")), captured=outcome.get("captured"))
