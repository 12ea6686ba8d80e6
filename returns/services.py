"""Every change to a return happens here; views, admin screens and tasks only call these.

- `request_return`: the shopper starts a return online; it gets a code (and QR) to show at any
  store that accepts returns, and an e-mail with it. Nothing moves yet.
- `receive_return`: staff take units back at their store, with the condition of each unit.
  Resellable units go on hand at **that** store (stores.services), damaged ones are written off,
  units to be inspected are held apart; each movement is a StockMovement row. Then the money goes
  back (`refund_return`).
- `refund_return`: the refund, computed by the server (returns.policy), to the original payment
  through payment.services.refund_order (a till payment with the till's return receipt number),
  or as store credit when the shopper chose it. A provider that fails leaves the return
  "refund pending"; the task and beat's sweep (returns.tasks, returns.scheduled) try again.
- `decide_inspection`: a manager decides the units held for inspection.
- An exchange is a return received with `exchange` items (resolution EXCHANGE): in the same
  transaction the items are taken from **that** store's stock (stores.services.exchange_units,
  rows locked with the returned ones, never below what is for sale), and the difference is paid
  by the shopper at the till (its receipt number recorded) or refunded as any return's money.

Concurrency: every write takes the order's row lock first (as orders and payment do), then the
return's. Two tills returning the same line at the same moment queue on the order: the second is
measured against what the first took back and refused, so nothing is restocked or refunded twice.
Each refusal is a ReturnRefused raised before anything is written (or inside the transaction,
which then rolls back): nothing is left behind.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.services import signed_in
from catalog.models import Product
from checkout.handover import PROVIDER_ERRORS
from o2o_site.dates import format_date
from o2o_site.money import format_money, round_to_minor_unit
from o2o_site.vat import vat_included, vat_rate
from orders.models import NotificationKind, Order, OrderActivity, OrderLine
from orders.notifications.outbox import notify
from orders.services import ORDER_NUMBER_ALPHABET, record_order_activity
from payment.models import RefundReason
from payment.services import RefundRefused, refund_order, refundable_payment
from payment.till import clean_till_receipt_number
from rewards import services as rewards
from stores import services as stock
from stores.models import Store

from . import receipts
from .models import (
    RETURN_TRANSITIONS,
    Condition,
    ExchangeLine,
    MovementKind,
    Resolution,
    Return,
    ReturnEvent,
    ReturnLine,
    ReturnReason,
    ReturnStatus,
    StockMovement,
    StoreCredit,
)
from .policy import refund_value, return_window, returnable_by_line

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

RETRY_REFUND_TASK = "returns.tasks.retry_return_refund"


class ReturnRefused(Exception):
    """A return the shop does not take, with a message for the shopper or staff; nothing was written."""


class IllegalReturnTransition(ReturnRefused):
    def __init__(self, order_return: Return, to_status: ReturnStatus):
        self.order_return, self.to_status = order_return, to_status
        super().__init__(
            _("Return %(code)s is “%(status)s” and cannot become “%(to)s”.")
            % {
                "code": order_return.code,
                "status": ReturnStatus(order_return.status).label,
                "to": ReturnStatus(to_status).label,
            }
        )


@dataclass(frozen=True)
class LineToReturn:
    """Units of one order line to return, why, and (when received at a store) how many of them
    are in each condition: resellable + damaged + to_inspect = quantity."""

    order_line_id: int
    quantity: int
    reason: ReturnReason
    reason_note: str = ""
    resellable: int = 0
    damaged: int = 0
    to_inspect: int = 0

    def units_in(self, condition: Condition) -> int:
        return {
            Condition.RESELLABLE: self.resellable,
            Condition.DAMAGED: self.damaged,
            Condition.TO_INSPECT: self.to_inspect,
        }[Condition(condition)]


@dataclass(frozen=True)
class ExchangeItem:
    """Units of a product the shopper takes instead, from the returning store's stock."""

    product_id: int
    quantity: int


@dataclass(frozen=True)
class Exchanged:
    """The items of an exchange, priced, and which way the difference goes."""

    lines: list[ExchangeLine]
    total: Decimal
    refund: Decimal
    to_pay: Decimal


def new_return_code() -> str:
    # Read aloud and typed at the counter: no 0/O or 1/I. 32^8 codes: not guessable.
    return "R" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(8))


def transition_return(
    *, order_return: Return, to_status: ReturnStatus, by: User | None = None, note: str = ""
) -> ReturnEvent:
    """Move a return the caller has locked to `to_status` if RETURN_TRANSITIONS allows it; the
    event row records who, when, from, to and why."""
    if to_status not in RETURN_TRANSITIONS[ReturnStatus(order_return.status)]:
        raise IllegalReturnTransition(order_return, to_status)
    from_status = order_return.status
    order_return.status = to_status
    order_return.save(update_fields=["status"])
    return ReturnEvent.objects.create(
        order_return=order_return, from_status=from_status, to_status=to_status, actor=signed_in(by), note=note[:255]
    )


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("store").get(pk=order.pk)


def _lines_of(order: Order) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order=order).order_by("pk"))


def _checked_lines(
    order: Order, lines: list[LineToReturn], returnable: dict[int, int], *, received: bool
) -> list[tuple[OrderLine, LineToReturn]]:
    """The lines to return, each checked against the order and what may still be returned;
    ReturnRefused naming the first that is wrong."""
    lines = [line for line in lines if line.quantity]
    if not lines:
        raise ReturnRefused(_("Choose at least one item to return."))
    order_lines = {line.pk: line for line in _lines_of(order)}
    seen = set()
    checked = []
    for line in lines:
        order_line = order_lines.get(line.order_line_id)
        if order_line is None or line.order_line_id in seen:
            raise ReturnRefused(_("That item is not part of this order."))
        seen.add(line.order_line_id)
        left = returnable.get(order_line.pk, 0)
        if not 0 < line.quantity <= left:
            raise ReturnRefused(
                ngettext(
                    "%(product)s: %(left)s unit can be returned, not %(asked)s.",
                    "%(product)s: %(left)s units can be returned, not %(asked)s.",
                    left,
                )
                % {"product": order_line.product_name, "left": left, "asked": line.quantity}
            )
        try:
            ReturnReason(line.reason)
        except ValueError:
            raise ReturnRefused(
                _("Choose why %(product)s is returned.") % {"product": order_line.product_name}
            ) from None
        if line.reason == ReturnReason.OTHER and not " ".join(line.reason_note.split()):
            raise ReturnRefused(
                _("Say in a few words why %(product)s is returned.") % {"product": order_line.product_name}
            )
        conditions = (line.resellable, line.damaged, line.to_inspect)
        if received and (min(conditions) < 0 or sum(conditions) != line.quantity):
            raise ReturnRefused(
                _("%(product)s: give the condition of each of the %(count)s units returned.")
                % {"product": order_line.product_name, "count": line.quantity}
            )
        checked.append((order_line, line))
    return checked


def _window_refusal(order: Order, now: datetime.datetime) -> str | None:
    window = return_window(order)
    today = now.astimezone(order.store.zone).date()
    if window.last_day is None:
        return _("Nothing of order %(number)s has been handed over, so there is nothing to return.") % {
            "number": order.number
        }
    if not window.open_on(today):
        return _("The return period of order %(number)s ended on %(date)s.") % {
            "number": order.number,
            "date": format_date(window.last_day),
        }
    return None


def _lines_note(checked: list[tuple[OrderLine, LineToReturn]]) -> str:
    return ", ".join(f"{line.quantity} × {order_line.product_name}" for order_line, line in checked)


def _create_return(**fields) -> Return:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Return.objects.create(code=new_return_code(), **fields)
        except IntegrityError:
            continue
    raise ReturnRefused(_("The return could not be recorded. Please try again."))


def request_return(
    *, order: Order, lines: list[LineToReturn], resolution: Resolution, by: User | None = None
) -> Return:
    """The shopper starts a return of `lines` online (from the order page): within the window,
    never more than handed over less what is already returned or asked for. The return gets its
    code, the shopper an e-mail with it (once, through the outbox), the order a timeline row."""
    resolution = Resolution(resolution)
    with transaction.atomic():
        locked = _lock_order(order)
        refusal = _window_refusal(locked, timezone.now())
        if refusal:
            raise ReturnRefused(refusal + " " + _("Contact the store if something is wrong with it."))
        checked = _checked_lines(locked, lines, returnable_by_line(order=locked, less_refunded=True), received=False)
        order_return = _create_return(order=locked, resolution=resolution)
        order_lines = _lines_of(locked)
        ReturnLine.objects.bulk_create(
            ReturnLine(
                order_return=order_return,
                order_line=order_line,
                quantity=line.quantity,
                reason=line.reason,
                reason_note=" ".join(line.reason_note.split())[:255],
                amount=refund_value(locked, order_line, line.quantity, lines=order_lines),
            )
            for order_line, line in checked
        )
        ReturnEvent.objects.create(order_return=order_return, to_status=ReturnStatus.REQUESTED, actor=signed_in(by))
        code, note = order_return.code, _lines_note(checked)
        record_order_activity(
            order=locked,
            kind=OrderActivity.RETURN_REQUESTED,
            by=by,
            note=lambda: _("Return %(code)s: %(lines)s.") % {"code": code, "lines": note},
        )
        notify(order=locked, kind=NotificationKind.RETURN_REQUESTED, reference=order_return.code)
    return order_return


def cancel_return_request(*, order_return: Return, by: User | None = None) -> Return:
    """A return started online that the shopper no longer wants: its units may be asked for again."""
    with transaction.atomic():
        _lock_order(order_return.order)
        locked = Return.objects.select_for_update().get(pk=order_return.pk)
        transition_return(order_return=locked, to_status=ReturnStatus.CANCELLED, by=by)
    return locked


def receive_return(
    *,
    order: Order,
    store: Store,
    lines: list[LineToReturn],
    by: User,
    resolution: Resolution | None = None,
    requested: Return | None = None,
    override_reason: str = "",
    expected_amount: Decimal | None = None,
    till_receipt_number: str = "",
    exchange: list[ExchangeItem] | None = None,
    now: datetime.datetime | None = None,
) -> Return:
    """Staff at `store` take `lines` of `order` back, with each unit's condition, then give the
    money back (refund_return). `requested` is the shopper's return started online, if they
    brought its code (its lines are replaced by what was actually brought).

    An exchange (resolution EXCHANGE) gives the shopper the `exchange` items from `store`'s stock
    in the same step: `expected_amount` is then the difference as the screen showed it (what the
    shopper gets back, negative for what they pay); a dearer exchange is paid at the till and
    `till_receipt_number` is that sale's receipt, a cheaper one's difference is refunded (at the
    till for a till payment, with its return receipt number). Refused, nothing written, when an
    item is not for sale or `store` has fewer for sale than asked (every such item named).

    Refused (ReturnRefused, nothing written) when the store does not take returns or is not one
    of `by`'s, after the window without `override_reason` (recorded with `by`), for more units
    than handed over less returned (or refunded), when `expected_amount` (what the screen showed)
    is not the server's refund, or for a till payment without the till's return receipt number.
    """
    now = now or timezone.now()
    override_reason = " ".join(override_reason.split())[:255]
    if not store.is_active or not store.accepts_returns:
        raise ReturnRefused(_("%(store)s does not take returns.") % {"store": store.name})
    if not by.is_superuser and not Store.objects.managed_by(by).filter(pk=store.pk).exists():
        raise ReturnRefused(_("You can record returns only at your own stores."))
    with transaction.atomic():
        locked = _lock_order(order)
        if requested is not None:
            requested = Return.objects.select_for_update().filter(pk=requested.pk, order=locked).first()
            if requested is None or requested.status != ReturnStatus.REQUESTED:
                raise ReturnRefused(_("That return was already received or cancelled."))
        resolution = Resolution(resolution or (requested.resolution if requested else Resolution.ORIGINAL_PAYMENT))
        refusal = _window_refusal(locked, now)
        if refusal and (_window_never_opened(locked) or not override_reason):
            raise ReturnRefused(refusal + " " + _("A manager may take it back anyway: give the reason."))
        returnable = returnable_by_line(order=locked, exclude=requested, with_requests=False, less_refunded=True)
        checked = _checked_lines(locked, lines, returnable, received=True)
        order_lines = _lines_of(locked)
        amounts = {
            order_line.pk: refund_value(locked, order_line, line.quantity, lines=order_lines)
            for order_line, line in checked
        }
        total = sum(amounts.values(), Decimal(0))
        exchanged = None
        if resolution == Resolution.EXCHANGE:
            exchanged = price_exchange(exchange or [], store=store, currency=locked.currency, returned=total)
        elif exchange:
            raise ReturnRefused(_("Choose “exchange” to give the shopper other items."))
        shown = total if exchanged is None else exchanged.refund - exchanged.to_pay
        if expected_amount is not None and expected_amount != shown:
            raise ReturnRefused(
                _("The refund for these items is %(amount)s, not %(asked)s. Nothing was recorded; check the items.")
                % {
                    "amount": format_money(shown, locked.currency),
                    "asked": format_money(expected_amount, locked.currency),
                }
            )
        if exchanged is not None and exchanged.to_pay:
            number = _checked_till_sale(exchanged.to_pay, locked.currency, till_receipt_number)
            total = Decimal(0)
        elif exchanged is not None:
            total = exchanged.refund
            number = _checked_refund_route(locked, Resolution.ORIGINAL_PAYMENT, total, till_receipt_number)
        else:
            number = _checked_refund_route(locked, resolution, total, till_receipt_number)
        if requested is None:
            # Walked in with nothing: the return is recorded as received from the start.
            order_return = _create_return(
                order=locked, resolution=resolution, store=store, status=ReturnStatus.RECEIVED
            )
        else:
            order_return = requested
            order_return.resolution = resolution
            order_return.lines.all().delete()
        order_return.store = store
        order_return.received_at = now
        order_return.received_by = by
        order_return.refund_amount = total
        if exchanged is not None and exchanged.to_pay:
            order_return.difference_paid = exchanged.to_pay
            order_return.difference_receipt_number = number
        else:
            order_return.till_receipt_number = number
        if exchanged is not None:
            order_return.exchange_total = exchanged.total
        if refusal:
            order_return.window_overridden_by = by
            order_return.window_override_reason = override_reason
            order_return.window_overridden_at = now
        order_return.save()
        return_lines = ReturnLine.objects.bulk_create(
            ReturnLine(
                order_return=order_return,
                order_line=order_line,
                quantity=line.quantity,
                reason=line.reason,
                reason_note=" ".join(line.reason_note.split())[:255],
                amount=amounts[order_line.pk],
                resellable=line.resellable,
                damaged=line.damaged,
                to_inspect=line.to_inspect,
            )
            for order_line, line in checked
        )
        restock = _move_stock(store, return_lines, by)
        # What the returned units earned is taken back and what they redeemed given back, in proportion.
        rewards.reverse_for_return(
            order=locked,
            units={order_line.pk: line.quantity for order_line, line in checked},
            store=store,
            by=by,
            reference=order_return.code,
        )
        if exchanged is None:
            if restock:
                stock.restock_returned_units(store=store, quantities=restock)
        else:
            _hand_out_exchange(order_return, exchanged, store=store, restock=restock, by=by)
        note = _("Window overridden: %(reason)s") % {"reason": override_reason} if refusal else ""
        if requested is None:
            ReturnEvent.objects.create(
                order_return=order_return, to_status=ReturnStatus.RECEIVED, actor=by, note=note[:255]
            )
        else:
            transition_return(order_return=order_return, to_status=ReturnStatus.RECEIVED, by=by, note=note)
        _cancel_requests_taken_back(locked, taken_back=order_return, by=by)
        code, note, store_name = order_return.code, _lines_note(checked), store.name
        given = _exchange_note(exchanged.lines) if exchanged is not None else ""
        record_order_activity(
            order=locked,
            kind=OrderActivity.RETURN_RECEIVED,
            by=by,
            note=lambda: (
                _("Return %(code)s at %(store)s: %(lines)s.") % {"code": code, "store": store_name, "lines": note}
                if not given
                else _("Exchange %(code)s at %(store)s: %(lines)s back, %(given)s out.")
                % {"code": code, "store": store_name, "lines": note, "given": given}
            ),
        )
    return refund_return(order_return=order_return, by=by)


def _cancel_requests_taken_back(order: Order, *, taken_back: Return, by: User) -> None:
    """The shopper's other returns started online whose units `taken_back` took (staff found the
    order without their code) are cancelled: the order page no longer says they wait to be brought,
    and their code opens no second take-back. The oldest keeps the units still left."""
    left = returnable_by_line(order=order, with_requests=False)
    requests = (
        Return.objects.select_for_update()
        .filter(order=order, status=ReturnStatus.REQUESTED)
        .exclude(pk=taken_back.pk)
        .order_by("created_at", "pk")
    )
    for request in requests:
        lines = list(request.lines.all())
        if all(line.quantity <= left.get(line.order_line_id, 0) for line in lines):
            for line in lines:
                left[line.order_line_id] -= line.quantity
            continue
        transition_return(
            order_return=request,
            to_status=ReturnStatus.CANCELLED,
            by=by,
            note=_("Its items were taken back with return %(code)s.") % {"code": taken_back.code},
        )


def _exchange_note(lines: list[ExchangeLine]) -> str:
    return ", ".join(f"{line.quantity} × {line.product_name}" for line in lines)


def price_exchange(items: list[ExchangeItem], *, store: Store, currency: str, returned: Decimal) -> Exchanged:
    """The exchange's items as sold at `store` now (price, VAT in its country), and the difference
    against the `returned` value: refunded to the shopper, or paid by them. Read-only (the admin's
    check-in screen shows it before staff confirm); ReturnRefused for an item not for sale."""
    units: dict[int, int] = {}
    for item in items:
        if item.quantity < 1:
            raise ReturnRefused(_("Give how many of each item the shopper takes."))
        units[item.product_id] = units.get(item.product_id, 0) + item.quantity
    if not units:
        raise ReturnRefused(_("Choose what the shopper takes in exchange."))
    products = Product.objects.select_related("parent").in_bulk(list(units))
    # A product with variants is not sold itself (a size of it is), as at checkout.
    styles = set(Product.objects.filter(parent_id__in=list(units)).values_list("parent_id", flat=True))
    lines = []
    for product_id, quantity in units.items():
        product = products.get(product_id)
        if product is None or not product.is_for_sale:
            raise ReturnRefused(_("That item is not for sale: choose another for the exchange."))
        if product_id in styles:
            raise ReturnRefused(
                _("Choose which %(product)s the shopper takes: its size or colour.") % {"product": product.name}
            )
        unit_price = round_to_minor_unit(product.price, currency)
        rate = vat_rate(country=store.country, vat_class=product.vat_class)
        line_total = unit_price * quantity
        lines.append(
            ExchangeLine(
                product=product,
                product_name=product.name,
                sku=product.sku,
                unit_price=unit_price,
                quantity=quantity,
                line_total=line_total,
                vat_rate=rate,
                vat_amount=vat_included(line_total, rate=rate, currency=currency),
            )
        )
    total = sum((line.line_total for line in lines), Decimal(0))
    return Exchanged(
        lines=lines, total=total, refund=max(returned - total, Decimal(0)), to_pay=max(total - returned, Decimal(0))
    )


def _checked_till_sale(amount: Decimal, currency: str, till_receipt_number: str) -> str:
    """The shopper pays a dearer exchange's difference at the till: its receipt number, cleaned."""
    try:
        return clean_till_receipt_number(till_receipt_number)
    except ValidationError as error:
        raise ReturnRefused(
            _("The shopper pays %(amount)s more: take it at the till and enter the till's receipt number.")
            % {"amount": format_money(amount, currency)}
            + " "
            + error.messages[0]
        ) from None


def _hand_out_exchange(
    order_return: Return, exchanged: Exchanged, *, store: Store, restock: dict[int, int], by: User
) -> None:
    """The exchange's items leave `store`'s stock as the resellable units come back, in one locked
    step; fewer for sale than asked refuses the whole exchange (the caller's transaction rolls back)."""
    given = {line.product_id: line.quantity for line in exchanged.lines}
    try:
        stock.exchange_units(store=store, returned=restock, given=given)
    except stock.InsufficientStock as short:
        names = {line.product_id: line.product_name for line in exchanged.lines}
        raise ReturnRefused(
            _("Not in stock at %(store)s: %(items)s. Nothing was recorded; choose another item.")
            % {
                "store": store.name,
                "items": ", ".join(
                    _("%(product)s (%(available)s for sale, %(asked)s asked)")
                    % {"product": names[each.product_id], "available": each.available, "asked": each.requested}
                    for each in short.shortfalls
                ),
            }
        ) from None
    for line in exchanged.lines:
        line.order_return = order_return
    ExchangeLine.objects.bulk_create(exchanged.lines)
    StockMovement.objects.bulk_create(
        StockMovement(
            exchange_line=line,
            store=store,
            product_id=line.product_id,
            kind=MovementKind.EXCHANGED_OUT,
            quantity=line.quantity,
            created_by=by,
        )
        for line in exchanged.lines
    )


def _window_never_opened(order: Order) -> bool:
    return return_window(order).last_day is None


def _checked_refund_route(order: Order, resolution: Resolution, total: Decimal, till_receipt_number: str) -> str:
    """Refused when the money cannot go back the chosen way; the till's receipt number, cleaned,
    when the order was paid at the till ("" otherwise)."""
    if resolution == Resolution.STORE_CREDIT or total == 0:
        return ""
    payment = refundable_payment(order=order)
    if payment is None or payment.refundable_amount < total:
        raise ReturnRefused(_("Less than the refund is left to give back on this order's payment."))
    if not payment.is_till:
        return ""
    try:
        return clean_till_receipt_number(till_receipt_number)
    except ValidationError as error:
        raise ReturnRefused(
            _("This order was paid at the till: refund it at the till and enter its return receipt number.")
            + " "
            + error.messages[0]
        ) from None


def _move_stock(store: Store, return_lines: list[ReturnLine], by: User | None) -> dict[int, int]:
    """A movement row for each condition of the returned units: resellable ones go on hand at the
    returning store (the units per product are returned for the caller to put there), damaged
    ones are written off, the rest held apart."""
    order_lines = OrderLine.objects.in_bulk([line.order_line_id for line in return_lines])
    restock: dict[int, int] = {}
    movements = []
    for line in return_lines:
        product_id = order_lines[line.order_line_id].product_id
        for kind, units in (
            (MovementKind.RESTOCKED, line.resellable),
            (MovementKind.WRITTEN_OFF, line.damaged),
            (MovementKind.HELD, line.to_inspect),
        ):
            if not units:
                continue
            movements.append(
                StockMovement(
                    return_line=line, store=store, product_id=product_id, kind=kind, quantity=units, created_by=by
                )
            )
            if kind == MovementKind.RESTOCKED and product_id is not None:
                restock[product_id] = restock.get(product_id, 0) + units
    StockMovement.objects.bulk_create(movements)
    return restock


def refund_return(*, order_return: Return, by: User | None = None) -> Return:
    """Give the money of a received return back, once: to the original payment, or as store credit
    when the shopper chose it. Safe to call again (a retry, the sweep, two at once): a return
    already refunded is left alone. A provider's failure leaves it "refund pending" with the
    error, and a retry is queued; nothing else changes."""
    with transaction.atomic():
        _lock_order(order_return.order)
        locked = (
            Return.objects.select_for_update(of=("self",))
            .select_related("order__store", "store")
            .get(pk=order_return.pk)
        )
        if locked.status not in (ReturnStatus.RECEIVED, ReturnStatus.REFUND_PENDING):
            return locked
        lines = list(locked.lines.select_related("order_line"))
        how, reference = receipts.REFUNDED_TO_NOTHING, ""
        if locked.resolution == Resolution.STORE_CREDIT and locked.refund_amount > 0:
            credit = _issue_store_credit(locked)
            how, reference = receipts.REFUNDED_TO_STORE_CREDIT, credit.code
        elif locked.refund_amount > 0:
            try:
                with transaction.atomic():
                    refund = refund_order(
                        order=locked.order,
                        reason=RefundReason.RETURNED,
                        by=by,
                        lines={line.order_line_id: line.quantity for line in lines},
                        line_amounts=_refund_shares(lines, locked.refund_amount, locked.order.currency),
                        note=_("Return %(code)s") % {"code": locked.code},
                        till_receipt_number=locked.till_receipt_number,
                        refund_for=locked.code,
                    )
            except (RefundRefused, *PROVIDER_ERRORS) as error:
                return _refund_failed(locked, error, by)
            locked.refund = refund
            how = refund.payment.variant
            reference = refund.till_receipt_number or refund.event.provider_reference or refund.payment.transaction_id
        locked.refunded_at = timezone.now()
        locked.last_refund_error = ""
        locked.save(update_fields=["refund", "refunded_at", "last_refund_error"])
        receipt = receipts.issue_return_receipt(order_return=locked, lines=lines, refunded_to=how, reference=reference)
        transition_return(order_return=locked, to_status=ReturnStatus.REFUNDED, by=by)
        _refunded_on_timeline(locked, receipt, by)
        notify(order=locked.order, kind=NotificationKind.RETURN_RECEIPT, reference=locked.code)
        if not any(line.awaiting_inspection for line in lines):
            transition_return(order_return=locked, to_status=ReturnStatus.CLOSED, by=by)
    return locked


def _refund_shares(lines: list[ReturnLine], refund: Decimal, currency: str) -> dict[int, Decimal]:
    """Each returned line's part of `refund`: its own value for a return; for a cheaper exchange
    (refund below the lines' value) shared by their value, rounded, the last line taking the rest."""
    value = sum((line.amount for line in lines), Decimal(0))
    if refund >= value:
        return {line.order_line_id: line.amount for line in lines}
    shares, left = {}, refund
    for index, line in enumerate(lines):
        share = left if index == len(lines) - 1 else round_to_minor_unit(refund * line.amount / value, currency)
        share = min(share, line.amount, left)
        shares[line.order_line_id] = share
        left -= share
    return shares


def _refunded_on_timeline(order_return: Return, receipt, by: User | None) -> None:
    currency = order_return.order.currency
    code, amount = order_return.code, format_money(order_return.refund_amount, currency)
    label = receipts.refunded_to_label(receipt.refunded_to)
    paid, paid_receipt = format_money(order_return.difference_paid, currency), order_return.difference_receipt_number
    exchange = order_return.resolution == Resolution.EXCHANGE

    def note() -> str:
        if not exchange:
            return _("Return %(code)s: %(amount)s refunded (%(how)s), return receipt %(number)s.") % {
                "code": code,
                "amount": amount,
                "how": label,
                "number": receipt.number,
            }
        if paid_receipt:
            difference = _("%(amount)s paid at the till, receipt %(receipt)s") % {
                "amount": paid,
                "receipt": paid_receipt,
            }
        elif order_return.refund_amount:
            difference = _("%(amount)s refunded (%(how)s)") % {"amount": amount, "how": label}
        else:
            difference = _("nothing to pay or refund")
        return _("Exchange %(code)s: %(difference)s, return receipt %(number)s.") % {
            "code": code,
            "difference": difference,
            "number": receipt.number,
        }

    record_order_activity(order=order_return.order, kind=OrderActivity.RETURN_REFUNDED, by=by, note=note)


def _issue_store_credit(order_return: Return) -> StoreCredit:
    issued = timezone.now()
    years = settings.STORE_CREDIT_VALID_YEARS
    try:
        expires = issued.replace(year=issued.year + years)
    except ValueError:  # 29 February
        expires = issued.replace(year=issued.year + years, day=28)
    return StoreCredit.objects.create(
        code="C" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(11)),
        order_return=order_return,
        amount=order_return.refund_amount,
        currency=order_return.order.currency,
        issued_at=issued,
        expires_at=expires,
    )


def _refund_failed(order_return: Return, error: Exception, by: User | None) -> Return:
    """The provider did not refund (or the payment has less left): the return stays received,
    "refund pending", with the error for the manager; a retry is queued after commit."""
    message = f"{type(error).__name__}: {error}"[:255]
    logger.warning("return %s: refund failed: %s", order_return.code, message)
    order_return.refund_attempts += 1
    order_return.last_refund_error = message
    order_return.save(update_fields=["refund_attempts", "last_refund_error"])
    if order_return.status == ReturnStatus.RECEIVED:
        transition_return(order_return=order_return, to_status=ReturnStatus.REFUND_PENDING, by=by, note=message)
    if order_return.refund_attempts <= settings.RETURN_REFUND_MAX_RETRIES and not settings.CELERY_TASK_ALWAYS_EAGER:
        # In-process (no broker) nothing waits for a countdown: beat's sweep, or a manager's
        # "retry the refund", tries again.
        countdown = min(settings.RETURN_REFUND_RETRY_BACKOFF * 2 ** (order_return.refund_attempts - 1), 3600)
        # Sent by name: returns.tasks calls these services, so they do not import it back.
        transaction.on_commit(
            partial(
                current_app.send_task,
                RETRY_REFUND_TASK,
                kwargs={"return_id": order_return.pk},
                countdown=countdown,
            ),
            robust=True,
        )
    return order_return


def decide_inspection(*, return_line: ReturnLine, resellable: int, damaged: int, by: User) -> ReturnLine:
    """A manager decides units held for inspection: `resellable` go on hand at the store the
    return was taken at, `damaged` are written off; the return closes once nothing waits."""
    if resellable < 0 or damaged < 0 or resellable + damaged < 1:
        raise ReturnRefused(_("Decide at least one unit."))
    with transaction.atomic():
        order_return = Return.objects.select_related("order").get(pk=return_line.order_return_id)
        _lock_order(order_return.order)
        locked_return = Return.objects.select_for_update(of=("self",)).select_related("store").get(pk=order_return.pk)
        if not by.is_superuser and not Store.objects.managed_by(by).filter(pk=locked_return.store_id).exists():
            raise ReturnRefused(_("You can decide only returns taken at your own stores."))
        line = ReturnLine.objects.select_for_update(of=("self",)).select_related("order_line").get(pk=return_line.pk)
        if resellable + damaged > line.awaiting_inspection:
            raise ReturnRefused(
                _("%(count)s units of %(product)s wait for inspection.")
                % {"count": line.awaiting_inspection, "product": line.order_line.product_name}
            )
        line.inspected_resellable += resellable
        line.inspected_damaged += damaged
        line.save(update_fields=["inspected_resellable", "inspected_damaged"])
        product_id = line.order_line.product_id
        for kind, units in ((MovementKind.RESTOCKED, resellable), (MovementKind.WRITTEN_OFF, damaged)):
            if units:
                StockMovement.objects.create(
                    return_line=line,
                    store=locked_return.store,
                    product_id=product_id,
                    kind=kind,
                    quantity=units,
                    created_by=by,
                )
        if resellable and product_id is not None:
            stock.restock_returned_units(store=locked_return.store, quantities={product_id: resellable})
        waiting = any(each.awaiting_inspection for each in ReturnLine.objects.filter(order_return=locked_return))
        if locked_return.status == ReturnStatus.REFUNDED and not waiting:
            transition_return(order_return=locked_return, to_status=ReturnStatus.CLOSED, by=by)
    return line
