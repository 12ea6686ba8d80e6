"""Placing orders and moving them through their states. Views and admin actions call these."""

import datetime
import secrets
import string
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import signed_in
from catalog.models import Product, VatClass
from o2o_site.money import round_to_minor_unit
from o2o_site.rows import insert
from o2o_site.vat import vat_included, vat_rate
from stores import services as stock
from stores.models import Store

from .models import (
    FULFILMENT_STATUS_OF_ORDER,
    FULFILMENT_STATUSES_HOLDING_STOCK,
    FULFILMENT_TRANSITIONS,
    OPEN_STAGE_PRECEDENCE,
    ORDER_TRANSITIONS,
    CancelReason,
    Channel,
    Fulfilment,
    FulfilmentLine,
    FulfilmentMethod,
    FulfilmentStatus,
    NotificationKind,
    Order,
    OrderActivity,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentChoice,
    stage_of,
)
from .notifications.outbox import notify
from .selectors import units_on_the_way
from .signals import order_cancelled, order_completed

# No 0/O or 1/I: order numbers are read aloud at the counter.
ORDER_NUMBER_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1I")


# An order in one of these states has its goods with the shopper (or her carrier): order_completed.
COMPLETED_STATUSES = (OrderStatus.COLLECTED, OrderStatus.DELIVERED, OrderStatus.SHIPPED)


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


class IllegalFulfilmentTransition(IllegalTransition):
    def __init__(self, fulfilment, to_status):
        self.fulfilment = fulfilment
        Exception.__init__(self, f"fulfilment {fulfilment.pk} cannot go from {fulfilment.status} to {to_status}")
        self.order, self.to_status = fulfilment.order, to_status


class TooManyUnits(OrderError):
    """A fulfilment would carry more units of an order line than the line has."""


class NothingHandedOver(OrderError):
    """A hand-over of no units at all: that is a cancellation, not a hand-over."""


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str


def new_order_number() -> str:
    return "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class LineSpec:
    """One line as the catalog priced it when the order is placed (a snapshot kept on the line)."""

    product: Product
    quantity: int
    # A coupon's share of this line, VAT included, in the currency's minor unit (coupons.pricing);
    # the line is charged, and its VAT worked out on, the price less it.
    discount: Decimal = Decimal(0)

    @property
    def unit_price(self) -> Decimal:
        """The price as shown: in the shop currency's minor unit, what the line is charged from."""
        return round_to_minor_unit(self.product.price, settings.SHOP_CURRENCY)


@dataclass(frozen=True)
class FeeSpec:
    """A charge on the order that is not a product (the delivery fee): a line of its own, with no
    product, in the total and paid like the rest, its VAT at the standard rate of the store's
    country."""

    name: str
    sku: str
    amount: Decimal
    # Waived by a coupon (free delivery): the line shows the fee and charges amount − discount.
    discount: Decimal = Decimal(0)


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    fulfilment: Fulfilment


def create_order(
    *,
    lines: list[LineSpec],
    store: Store,
    contact: Contact,
    method: FulfilmentMethod,
    stock_location: Store | None = None,
    channel: Channel = Channel.WEB,
    customer: User | None = None,
    language: str = "en",
    checkout_token: str | None = None,
    payment_hold_until: datetime.datetime | None = None,
    fees: tuple[FeeSpec, ...] = (),
) -> PlacedOrder:
    """Write a placed order with its lines, its one fulfilment (every line, by `method`, from
    `stock_location`, by default the `store` the order is attributed to) and its first event; to
    be called inside the caller's transaction, after the caller reserved the stock at the stock
    location (checkout.services.place_pickup_order does). Returns the order and its fulfilment.

    With `payment_hold_until` the order is paid online: it is created awaiting payment, holding
    its stock and pickup time until then (mark_order_paid places it; an ended hold cancels it).
    A total of 0 has nothing to pay, however it was to be paid: the order is placed at once
    (PaymentChoice.NOTHING_TO_PAY, no hold); the caller sees it is not awaiting payment.

    Unit prices are the products' prices now, never the shopper's; each line keeps the VAT rate
    of its product's class in the store's country and the VAT in its total (o2o_site.vat: per
    line, rounded to the currency's minor unit). A line's `discount` (a coupon's share,
    coupons.pricing) comes off its total before its VAT is worked out: VAT is due on the price
    actually paid (Council Directive 2006/112/EC art. 79(b); Iceland lög nr. 50/1988 7. gr.;
    Norway merverdiavgiftsloven § 4-1), so the discount reduces each line's VAT base. Each of
    `fees` (a delivery fee) is a line of its own without a product, carried by the fulfilment like
    the goods; a fee of 0 is no line, a fee waived in full (its discount) a line of 0. Raises
    AlreadyPlaced when another request already placed an order with the same `checkout_token`
    (the caller rolls back and hands that order to the shopper), ValueError for a discount
    larger than its line, OrderError when no unique number could be drawn.
    """
    order_lines = [_order_line(line, country=store.country, currency=settings.SHOP_CURRENCY) for line in lines]
    order_lines += [
        _fee_line(fee, country=store.country, currency=settings.SHOP_CURRENCY) for fee in fees if fee.amount
    ]
    total = sum((line.line_total for line in order_lines), Decimal("0"))
    payment = _payment_terms(total=total, payment_hold_until=payment_hold_until)
    status = payment["status"]
    order = _create_order_with_unique_number(
        **payment,
        customer=signed_in(customer),
        contact_name=contact.name,
        contact_email=contact.email,
        contact_phone=contact.phone,
        channel=channel,
        store=store,
        currency=settings.SHOP_CURRENCY,
        # The sum of the lines, each from the price as shown: what every page and e-mail shows adds up.
        total=total,
        language=language,
        checkout_token=checkout_token,
    )
    for line in order_lines:
        line.order = order
    # Written as bulk_create would write them, in SQL not compiled each time (o2o_site.rows.insert):
    # every placing writes these four.
    insert(order_lines)
    # The order is new and not yet committed: every line goes to this one fulfilment, so there is
    # nothing to lock or count (create_fulfilment does both for an existing order).
    (fulfilment,) = insert([Fulfilment(order=order, method=method, stock_location=stock_location or store)])
    insert([FulfilmentLine(fulfilment=fulfilment, order_line=line, quantity=line.quantity) for line in order_lines])
    insert([OrderEvent(order=order, fulfilment=fulfilment, from_status="", to_status=status, actor=order.customer)])
    return PlacedOrder(order=order, fulfilment=fulfilment)


def _payment_terms(*, total: Decimal, payment_hold_until: datetime.datetime | None) -> dict:
    """How a new order of `total` is paid, as Order fields: online (awaiting payment, held until
    `payment_hold_until`), at pickup (no hold), or, for a total of 0 (a coupon or points cover it),
    not at all: placed at once, with no payment step and nothing held, whatever way to pay the
    shopper chose (Shopify and Saleor complete such a checkout without a payment too)."""
    if total == 0:
        return {
            "status": OrderStatus.PLACED,
            "payment_choice": PaymentChoice.NOTHING_TO_PAY,
            "payment_hold_until": None,
        }
    if payment_hold_until is None:
        return {"status": OrderStatus.PLACED, "payment_choice": PaymentChoice.AT_PICKUP, "payment_hold_until": None}
    return {
        "status": OrderStatus.AWAITING_PAYMENT,
        "payment_choice": PaymentChoice.ONLINE,
        "payment_hold_until": payment_hold_until,
    }


@dataclass(frozen=True)
class PartSpec:
    """One part of a split order: its `lines`, reaching the shopper by `method` from the units of
    `stock_location`, with its own `fees` (a delivery or shipping fee, carried by this part)."""

    method: FulfilmentMethod
    stock_location: Store
    lines: tuple[LineSpec, ...]
    fees: tuple[FeeSpec, ...] = ()


@dataclass(frozen=True)
class PlacedSplitOrder:
    order: Order
    fulfilments: tuple[Fulfilment, ...]  # one per part, in the order of the parts given


def create_split_order(
    *,
    parts: tuple[PartSpec, ...],
    store: Store,
    contact: Contact,
    customer: User | None = None,
    language: str = "en",
    checkout_token: str | None = None,
    payment_hold_until: datetime.datetime,
) -> PlacedSplitOrder:
    """Write one order placed in `parts` (a cart no single location can supply): its lines, one
    fulfilment per part carrying exactly that part's lines and fees, from the part's stock
    location, by its method; the order is attributed to `store` (the shopper's pickup store) and
    marked is_split, so each part moves on its own (transition_part). To be called inside the
    caller's transaction, after the caller reserved each part's units at its stock location
    (checkout.services.place_split_order does). Split orders are paid online: created awaiting
    payment until `payment_hold_until`, like any order paid online.

    Prices and VAT as create_order (VAT of the selling `store`'s country). Raises OrderError for
    fewer than two parts, a part with no lines or a product in two parts (each cart line goes
    to one part whole), AlreadyPlaced as create_order."""
    if len(parts) < 2:
        raise OrderError(_("An order in parts needs at least two parts."))
    seen: set[int] = set()
    for part in parts:
        if not part.lines:
            raise OrderError(_("Each part of the order needs at least one item."))
        products = {line.product.pk for line in part.lines}
        if products & seen or len(products) < len(part.lines):
            raise OrderError(_("An item can be in one part of the order only."))
        seen |= products
    country, currency = store.country, settings.SHOP_CURRENCY
    lines_of_part = [
        [_order_line(line, country=country, currency=currency) for line in part.lines]
        + [_fee_line(fee, country=country, currency=currency) for fee in part.fees if fee.amount]
        for part in parts
    ]
    total = sum((line.line_total for lines in lines_of_part for line in lines), Decimal("0"))
    order = _create_order_with_unique_number(
        **_payment_terms(total=total, payment_hold_until=payment_hold_until),
        customer=signed_in(customer),
        contact_name=contact.name,
        contact_email=contact.email,
        contact_phone=contact.phone,
        channel=Channel.WEB,
        store=store,
        currency=currency,
        total=total,
        language=language,
        checkout_token=checkout_token,
        is_split=True,
    )
    for lines in lines_of_part:
        for line in lines:
            line.order = order
    OrderLine.objects.bulk_create([line for lines in lines_of_part for line in lines])
    fulfilments = Fulfilment.objects.bulk_create(
        Fulfilment(order=order, method=part.method, stock_location=part.stock_location) for part in parts
    )
    FulfilmentLine.objects.bulk_create(
        FulfilmentLine(fulfilment=fulfilment, order_line=line, quantity=line.quantity)
        for fulfilment, lines in zip(fulfilments, lines_of_part, strict=True)
        for line in lines
    )
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(order=order, from_status="", to_status=order.status, actor=order.customer),
            *(
                OrderEvent(
                    order=order,
                    fulfilment=fulfilment,
                    kind=OrderActivity.FULFILMENT_STATUS,
                    from_status="",
                    to_status=OrderStatus.PLACED,
                    actor=order.customer,
                )
                for fulfilment in fulfilments
            ),
        ]
    )
    for fulfilment in fulfilments:
        fulfilment.order = order
    return PlacedSplitOrder(order=order, fulfilments=tuple(fulfilments))


def split_order_status(
    order: Order, fulfilments: Collection[Fulfilment], *, just_moved: Fulfilment | None = None
) -> OrderStatus:
    """The status a split order's parts give it: awaiting payment until paid; cancelled when every
    part is; when every part not cancelled is handed over, the stage of the last one handed over
    (`just_moved`, else the latest fulfilled_at: collected, delivered or shipped); else the least
    advanced open part's stage (OPEN_STAGE_PRECEDENCE: placed, out for delivery, ready for pickup)."""
    if order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED):
        return OrderStatus(order.status)
    live = [f for f in fulfilments if f.status != FulfilmentStatus.CANCELLED]
    if not live:
        return OrderStatus.CANCELLED
    open_stages = {f.stage for f in live if f.is_open}
    if not open_stages:
        if just_moved is not None and just_moved.status == FulfilmentStatus.FULFILLED:
            return just_moved.stage
        last = max(live, key=lambda f: (f.fulfilled_at is not None, f.fulfilled_at or f.created_at, f.pk))
        return last.stage
    return next(stage for stage in OPEN_STAGE_PRECEDENCE if stage in open_stages)


def transition_part(
    *, fulfilment: Fulfilment, to_status: OrderStatus, by: User | None = None, note: str | Callable[[], str] = ""
) -> Order:
    """Move the part of an order that `fulfilment` is to `to_status` (in the order's terms: ready
    for pickup, out for delivery, delivered…), and return the order.

    An order placed whole has one part: this is transition_order (the order moves, its open
    fulfilments with it). A split order's part moves on its own: the move must be legal from the
    part's stage (Fulfilment.stage, ORDER_TRANSITIONS) and fit its method (a delivery is never
    "collected"), its fulfilment moves to FULFILMENT_STATUS_OF_ORDER[to_status] (checked against
    FULFILMENT_TRANSITIONS) with an event naming it, and the order's status is derived again from
    its parts (split_order_status), with an event of its own when that changes. Raises
    IllegalTransition (IllegalFulfilmentTransition) when the move is not allowed. Under the
    order's row lock, like transition_order."""
    if not fulfilment.order.is_split:
        return transition_order(order=fulfilment.order, to_status=to_status, by=by, note=note)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=fulfilment.order_id)
        parts = list(Fulfilment.objects.select_for_update().filter(order=order).order_by("pk"))
        part = next(f for f in parts if f.pk == fulfilment.pk)
        from_stage = part.stage
        target = FULFILMENT_STATUS_OF_ORDER[to_status]
        if (
            order.status == OrderStatus.AWAITING_PAYMENT
            or to_status not in ORDER_TRANSITIONS[from_stage]
            or stage_of(method=part.method, status=target) != to_status
        ):
            raise IllegalFulfilmentTransition(part, to_status)
        _move_fulfilment(part, target)
        OrderEvent.objects.create(
            order=order,
            fulfilment=part,
            kind=OrderActivity.FULFILMENT_STATUS,
            from_status=from_stage,
            to_status=to_status,
            actor=signed_in(by),
            note=note_in_order_language(order, note),
        )
        _derive_split_status(order, parts, just_moved=part, by=by)
    fulfilment.status = part.status
    fulfilment.order = order
    return order


def _derive_split_status(order: Order, parts: list[Fulfilment], *, just_moved: Fulfilment, by: User | None) -> None:
    """Set the locked split `order`'s status from its locked `parts` (split_order_status), with an
    event when it changes. Not a move of ORDER_TRANSITIONS: each part's move was checked."""
    derived = split_order_status(order, parts, just_moved=just_moved)
    if derived != order.status:
        OrderEvent.objects.create(order=order, from_status=order.status, to_status=derived, actor=signed_in(by))
        order.status = derived
        order.save(update_fields=["status"])


def _order_line(line: LineSpec, *, country: str, currency: str) -> OrderLine:
    """An unsaved order line: the product as priced now, and its VAT in the selling store's country."""
    discount = round_to_minor_unit(line.discount, currency)
    line_total = line.unit_price * line.quantity - discount
    if not 0 <= discount <= line.unit_price * line.quantity:
        raise ValueError(f"{line.product.sku}: a discount of {discount} on {line.unit_price * line.quantity}")
    rate = vat_rate(country=country, vat_class=line.product.vat_class)
    return OrderLine(
        product=line.product,
        product_name=line.product.name,
        sku=line.product.sku,
        unit_price=line.unit_price,
        quantity=line.quantity,
        discount=discount,
        line_total=line_total,
        vat_rate=rate,
        vat_amount=vat_included(line_total, rate=rate, currency=currency),
    )


def _fee_line(fee: FeeSpec, *, country: str, currency: str) -> OrderLine:
    amount = round_to_minor_unit(fee.amount, currency)
    discount = round_to_minor_unit(fee.discount, currency)
    if not 0 <= discount <= amount:
        raise ValueError(f"{fee.sku}: a discount of {discount} on a fee of {amount}")
    rate = vat_rate(country=country, vat_class=VatClass.STANDARD)
    return OrderLine(
        product=None,
        product_name=fee.name,
        sku=fee.sku,
        unit_price=amount,
        quantity=1,
        discount=discount,
        line_total=amount - discount,
        vat_rate=rate,
        vat_amount=vat_included(amount - discount, rate=rate, currency=currency),
    )


def create_fulfilment(
    *, order: Order, method: FulfilmentMethod, stock_location: Store, quantities: dict[int, int] | None = None
) -> Fulfilment:
    """Add a pending fulfilment to `order` carrying `quantities` ({order line id: units}; None:
    every line in full). Raises TooManyUnits when a line would be fulfilled more than its
    quantity over all its fulfilments (the order row is locked while they are counted)."""
    with transaction.atomic():
        Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True).first()
        order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order)}
        if quantities is None:
            quantities = {pk: line.quantity for pk, line in order_lines.items()}
        unknown = set(quantities) - set(order_lines)
        if unknown:
            raise TooManyUnits(f"lines {sorted(unknown)} are not lines of order {order.number}")
        taken = dict(
            FulfilmentLine.objects.filter(order_line__order=order)
            .exclude(fulfilment__status=FulfilmentStatus.CANCELLED)
            .values("order_line")
            .annotate(units=models.Sum("quantity"))
            .values_list("order_line", "units")
        )
        for line_pk, units in quantities.items():
            if units < 1 or taken.get(line_pk, 0) + units > order_lines[line_pk].quantity:
                raise TooManyUnits(
                    f"order {order.number}: line {line_pk} has {order_lines[line_pk].quantity} units, "
                    f"{taken.get(line_pk, 0)} already in fulfilments, {units} asked"
                )
        fulfilment = Fulfilment.objects.create(order=order, method=method, stock_location=stock_location)
        FulfilmentLine.objects.bulk_create(
            FulfilmentLine(fulfilment=fulfilment, order_line_id=line_pk, quantity=units)
            for line_pk, units in sorted(quantities.items())
        )
    return fulfilment


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


def note_in_order_language(order: Order, note: str | Callable[[], str]) -> str:
    """The text of a history note. The shopper's order page shows notes as stored, so a note is
    written in the order's language whoever writes it (a worker, staff in the admin): callers pass
    it as a callable, `lambda: _("…")`, which is translated here under that language."""
    if callable(note):
        with translation.override(order.language):
            return note()
    return note


def transition_order(
    *, order: Order, to_status: OrderStatus, by: User | None = None, note: str | Callable[[], str] = ""
) -> Order:
    """Move `order` to `to_status` if the transition table allows it, and record the event.

    The order's status summarises its fulfilments: every fulfilment still open moves with it
    (FULFILMENT_STATUS_OF_ORDER, checked against FULFILMENT_TRANSITIONS) in the same transaction.
    One event row records the move; it names the fulfilment when exactly one moved (today's
    orders), so the timeline shows one row per move.

    `note` is a string or a callable giving one (see note_in_order_language).

    The order row is locked so two members of staff acting at once cannot both move it.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        _move_locked_order(locked, to_status, by=by, note=note)
    order.status = locked.status
    return locked


def _move_locked_order(
    locked: Order,
    to_status: OrderStatus,
    *,
    by: User | None,
    note: str | Callable[[], str],
    fulfilments: Sequence[Fulfilment] | None = None,
) -> None:
    """transition_order's move of `locked`, an order read under its row lock, which the caller holds.
    `fulfilments`, when given, are every one of the order's, which the caller read locked (in pk
    order, under the order's lock): those still open are moved as read, not read again."""
    if to_status not in ORDER_TRANSITIONS[OrderStatus(locked.status)] or (
        # A split order's parts move on their own (transition_part); as a whole it is only
        # paid (placed) or cancelled.
        locked.is_split and to_status not in (OrderStatus.PLACED, OrderStatus.CANCELLED)
    ):
        raise IllegalTransition(locked, to_status)
    from_status = locked.status
    locked.status = to_status
    locked.save(update_fields=["status"])
    target = FULFILMENT_STATUS_OF_ORDER[to_status]
    if fulfilments is None:
        fulfilments = (
            Fulfilment.objects.select_for_update()
            .filter(order=locked)
            .holding_stock()
            .exclude(status=target)  # already there on its own
        )
    moved = [
        _move_fulfilment(fulfilment, target)
        for fulfilment in fulfilments
        if fulfilment.status in FULFILMENT_STATUSES_HOLDING_STOCK and fulfilment.status != target
    ]
    OrderEvent.objects.create(
        order=locked,
        fulfilment=moved[0] if len(moved) == 1 else None,
        from_status=from_status,
        to_status=to_status,
        actor=signed_in(by),
        note=note_in_order_language(locked, note),
    )
    if to_status in COMPLETED_STATUSES:
        # The apps above act on goods that are the shopper's now (rewards: points earned).
        completed = partial(order_completed.send, sender=Order, order_id=locked.pk, status=OrderStatus(to_status).value)
        transaction.on_commit(completed, robust=True)


def _move_fulfilment(fulfilment: Fulfilment, to_status: FulfilmentStatus) -> Fulfilment:
    """The one check of FULFILMENT_TRANSITIONS, on a fulfilment row the caller has locked."""
    if to_status not in FULFILMENT_TRANSITIONS[FulfilmentStatus(fulfilment.status)]:
        raise IllegalFulfilmentTransition(fulfilment, to_status)
    fulfilment.status = to_status
    fulfilment.save(update_fields=["status"])
    return fulfilment


def transition_fulfilment(
    *,
    fulfilment: Fulfilment,
    to_status: FulfilmentStatus,
    by: User | None = None,
    note: str | Callable[[], str] = "",
) -> Fulfilment:
    """Move one fulfilment on its own (an order with several) and record it on the timeline
    (an event of kind FULFILMENT_STATUS naming the fulfilment). The order's own status is moved
    by transition_order, which moves its open fulfilments with it."""
    with transaction.atomic():
        Order.objects.select_for_update().filter(pk=fulfilment.order_id).values_list("pk", flat=True).first()
        locked = Fulfilment.objects.select_for_update().select_related("order").get(pk=fulfilment.pk)
        from_status = locked.status
        _move_fulfilment(locked, to_status)
        OrderEvent.objects.create(
            order=locked.order,
            fulfilment=locked,
            kind=OrderActivity.FULFILMENT_STATUS,
            from_status=from_status,
            to_status=to_status,
            actor=signed_in(by),
            note=note_in_order_language(locked.order, note),
        )
    fulfilment.status = locked.status
    return locked


def change_fulfilment_method(
    *, fulfilment: Fulfilment, method: FulfilmentMethod, by: User | None = None, note: str | Callable[[], str] = ""
) -> Fulfilment:
    """The goods of an open fulfilment reach the shopper another way now (a delivery that failed is
    collected at the store instead): its method changes, the timeline says so. The app of the new
    method adds its details (a higher layer composes both: checkout.services). Raises OrderError
    when the fulfilment is no longer open."""
    with transaction.atomic():
        Order.objects.select_for_update().filter(pk=fulfilment.order_id).values_list("pk", flat=True).first()
        locked = Fulfilment.objects.select_for_update().select_related("order").get(pk=fulfilment.pk)
        if not locked.is_open:
            raise OrderError(_("This part of the order is closed and cannot change how it reaches the shopper."))
        locked.method = method
        locked.save(update_fields=["method"])
        record_order_activity(
            order=locked.order, fulfilment=locked, kind=OrderActivity.METHOD_CHANGED, by=by, note=note
        )
    fulfilment.method = locked.method
    return locked


def handed_over_units(*, fulfilment: Fulfilment, quantities: dict[int, int] | None) -> dict[int, int]:
    """The units of each of the fulfilment's order lines a hand-over gives the shopper, checked:
    `quantities` is {order line id: units} (None: every line in full; a line left out: none of it).
    Raises TooManyUnits for a line the fulfilment does not carry or more units than it carries,
    NothingHandedOver when no unit at all would be handed over."""
    carried = dict(FulfilmentLine.objects.filter(fulfilment=fulfilment).values_list("order_line_id", "quantity"))
    if quantities is None:
        return carried
    unknown = set(quantities) - set(carried)
    if unknown:
        raise TooManyUnits(
            _("Lines %(lines)s are not part of this hand-over.") % {"lines": ", ".join(map(str, sorted(unknown)))}
        )
    units = {line_pk: quantities.get(line_pk, 0) for line_pk in carried}
    for line_pk, count in units.items():
        if not 0 <= count <= carried[line_pk]:
            raise TooManyUnits(
                _("A line has %(carried)s units; %(asked)s cannot be handed over.")
                % {"carried": carried[line_pk], "asked": count}
            )
    if not any(units.values()):
        raise NothingHandedOver(
            _("Nothing would be handed over. Hand over at least one item, or cancel the order instead.")
        )
    return units


def hand_over_fulfilment(
    *,
    fulfilment: Fulfilment,
    quantities: dict[int, int] | None,
    by: User | None,
    at: datetime.datetime,
) -> Fulfilment:
    """The shopper takes `quantities` ({order line id: units}, None: all) of a fulfilment whose
    status the caller has just moved to fulfilled (pickup.services.collect_order, in its
    transaction). The units handed over leave the stock location (neither reserved nor on hand);
    the rest go back on sale. Each line keeps what was handed over (FulfilmentLine.handed_over),
    and a partial hand-over writes a timeline row naming what the shopper did not take."""
    units = handed_over_units(fulfilment=fulfilment, quantities=quantities)
    lines = list(
        FulfilmentLine.objects.select_for_update(of=("self",))
        .filter(fulfilment=fulfilment)
        .select_related("order_line")
        .order_by("pk")
    )
    taken: dict[int, int] = {}
    left: dict[int, int] = {}
    for line in lines:
        line.handed_over = units[line.order_line_id]
        product_id = line.order_line.product_id
        if product_id is not None:  # a deleted product's units are no longer counted anywhere
            if line.handed_over:
                taken[product_id] = taken.get(product_id, 0) + line.handed_over
            if line.not_handed_over:
                left[product_id] = left.get(product_id, 0) + line.not_handed_over
    FulfilmentLine.objects.bulk_update(lines, ["handed_over"])
    if taken:
        stock.consume_reserved_stock(store=fulfilment.stock_location, quantities=taken)
    if left:
        stock.release_stock(store=fulfilment.stock_location, quantities=left)
    mark_fulfilled(fulfilment=fulfilment, by=by, at=at)
    not_taken = [line for line in lines if line.not_handed_over]
    if not_taken:
        record_order_activity(
            order=fulfilment.order,
            fulfilment=fulfilment,
            kind=OrderActivity.PARTLY_HANDED_OVER,
            by=by,
            note=lambda: (
                _("Not handed over, back on sale: %(lines)s.")
                % {"lines": ", ".join(f"{line.not_handed_over} × {line.order_line.product_name}" for line in not_taken)}
            ),
        )
    return fulfilment


class NotReady(OrderError):
    """Staff asked to hand over, or to mark ready, what cannot be: lines not ready yet, or lines
    the fulfilment does not carry."""


def mark_fulfilment_lines_ready(
    *, fulfilment: Fulfilment, order_line_ids: Collection[int] | None, at: datetime.datetime
) -> list[FulfilmentLine]:
    """Mark the lines of the open `fulfilment` that carry `order_line_ids` (None: all of them)
    ready at `at`, with their rows locked; lines already ready are left as they were. To be called
    with the order's row locked (pickup.services.mark_lines_ready). Returns the lines newly ready.
    Raises NotReady when `order_line_ids` names a line the fulfilment does not carry, or the
    fulfilment is no longer open."""
    if not fulfilment.is_open:
        raise NotReady(_("These items are no longer waiting to be got ready."))
    lines = list(
        FulfilmentLine.objects.select_for_update(of=("self",))
        .filter(fulfilment=fulfilment)
        .select_related("order_line")
        .order_by("pk")
    )
    if order_line_ids is not None:
        unknown = set(order_line_ids) - {line.order_line_id for line in lines}
        if unknown:
            raise NotReady(_("Some of the chosen items are not waiting to be got ready (already collected?)."))
        lines = [line for line in lines if line.order_line_id in set(order_line_ids)]
    newly = [line for line in lines if line.ready_at is None]
    for line in newly:
        line.ready_at = at
    FulfilmentLine.objects.bulk_update(newly, ["ready_at"])
    return newly


def split_ready_part(*, fulfilment: Fulfilment, order_line_ids: Collection[int] | None = None) -> Fulfilment:
    """Move the ready lines of the open `fulfilment` (only those carrying `order_line_ids`, when
    given) to a new fulfilment, ready, with the same method and stock location, so they can be
    handed over on their own while the rest stays reserved in `fulfilment`. The units stay
    reserved where they are; only which fulfilment carries them changes. To be called with the
    order's row locked (pickup.services.collect_order). Raises NotReady when none of those lines
    is ready."""
    lines = list(
        FulfilmentLine.objects.select_for_update(of=("self",))
        .filter(fulfilment=fulfilment, ready_at__isnull=False)
        .order_by("pk")
    )
    if order_line_ids is not None:
        lines = [line for line in lines if line.order_line_id in set(order_line_ids)]
    if not lines:
        raise NotReady(_("None of these items is ready yet."))
    part = Fulfilment.objects.create(
        order=fulfilment.order,
        method=fulfilment.method,
        stock_location_id=fulfilment.stock_location_id,
        status=FulfilmentStatus.READY,
    )
    FulfilmentLine.objects.filter(pk__in=[line.pk for line in lines]).update(fulfilment=part)
    part.order = fulfilment.order
    return part


def handed_over_units_of(fulfilment: Fulfilment) -> dict[int, int]:
    """Units of each order line handed over in `fulfilment` ({order line id: units})."""
    return {
        line_pk: quantity if handed_over is None else handed_over
        for line_pk, quantity, handed_over in FulfilmentLine.objects.filter(fulfilment=fulfilment).values_list(
            "order_line_id", "quantity", "handed_over"
        )
    }


def handed_over_by_line(*, order: Order) -> dict[int, int]:
    """Units of each order line the shopper has taken, over the order's fulfilled fulfilments.
    A fulfilment handed over before partial hand-overs existed counts in full."""
    taken: dict[int, int] = {}
    for line_pk, quantity, handed_over in FulfilmentLine.objects.filter(
        fulfilment__order=order, fulfilment__status=FulfilmentStatus.FULFILLED
    ).values_list("order_line_id", "quantity", "handed_over"):
        taken[line_pk] = taken.get(line_pk, 0) + (quantity if handed_over is None else handed_over)
    return taken


def mark_fulfilled(*, fulfilment: Fulfilment, by: User | None, at: datetime.datetime) -> Fulfilment:
    """Record when and by whom a fulfilment was handed over (its status moved with the order)."""
    fulfilment.fulfilled_at = at
    fulfilment.fulfilled_by = signed_in(by)
    fulfilment.save(update_fields=["fulfilled_at", "fulfilled_by"])
    return fulfilment


def fulfilment_quantities(fulfilment: Fulfilment) -> dict[int, int]:
    """Units per product a fulfilment carries (lines of deleted products carry none)."""
    quantities = {}
    for product_id, units in FulfilmentLine.objects.filter(
        fulfilment=fulfilment, order_line__product__isnull=False
    ).values_list("order_line__product_id", "quantity"):
        quantities[product_id] = quantities.get(product_id, 0) + units
    return quantities


def cancel_order(
    *, order: Order, reason: CancelReason, by: User | None = None, note: str | Callable[[], str] = ""
) -> Order:
    """Cancel an open order, give the units its open fulfilments reserved back to sale (each at its
    stock location), and e-mail the shopper why: every way of cancelling comes here (the store,
    expiry, the shopper), so the e-mail goes out for each, once.

    `reason` is kept on the order (its page and the e-mail say it); the history note is `note`
    (a string or a callable, see note_in_order_language), or else the reason itself.
    """
    reason = CancelReason(reason)
    with transaction.atomic():
        holding = list(Fulfilment.objects.filter(order=order).holding_stock().select_related("stock_location"))
        cancelled = transition_order(
            order=order, to_status=OrderStatus.CANCELLED, by=by, note=note or (lambda: str(reason.label))
        )
        cancelled.cancel_reason = reason
        cancelled.save(update_fields=["cancel_reason"])
        # Units still on their way to a fulfilment's location (a transfer) are not reserved there:
        # the app bringing them settles them (order_cancelled).
        on_the_way = units_on_the_way([fulfilment.pk for fulfilment in holding])
        for fulfilment in holding:
            quantities = _minus(fulfilment_quantities(fulfilment), on_the_way.get(fulfilment.pk, {}))
            if quantities:
                stock.release_stock(store=fulfilment.stock_location, quantities=quantities)
        notify(order=cancelled, kind=NotificationKind.ORDER_CANCELLED)
        # The apps above settle what the order still holds (payment: authorisations voided,
        # captures refunded), once this cancellation is committed.
        transaction.on_commit(
            partial(
                order_cancelled.send,
                sender=Order,
                order_id=cancelled.pk,
                reason=reason.value,
                by_id=signed_in(by).pk if signed_in(by) else None,
            ),
            robust=True,
        )
    order.cancel_reason = reason
    order.status = cancelled.status
    return cancelled


def _minus(quantities: dict[int, int], taken: dict[int, int]) -> dict[int, int]:
    """{product id: units} of `quantities` less `taken`, without the products left with none."""
    left = {product_id: units - taken.get(product_id, 0) for product_id, units in quantities.items()}
    return {product_id: units for product_id, units in left.items() if units > 0}


def make_ready_to_collect(*, order: Order, fulfilment: Fulfilment, by: User | None = None) -> Order:
    """`order`'s goods are put aside at the store for the shopper: the order is ready for pickup,
    every line of its pickup `fulfilment` ready, and the "ready for pickup" e-mail queued (once,
    sent after commit). The pickup app checks first that this may be done
    (pickup.services.mark_ready_for_pickup); a transfer received for the order ends here too
    (transfers.services.receive_transfer). Raises IllegalTransition for an order not placed."""
    with transaction.atomic():
        # The pickup part moves: the whole order, or the part to collect of a split order.
        fulfilment.order = order
        ready = transition_part(fulfilment=fulfilment, to_status=OrderStatus.READY_FOR_PICKUP, by=by)
        mark_fulfilment_lines_ready(fulfilment=fulfilment, order_line_ids=None, at=timezone.now())
        notify(order=ready, kind=NotificationKind.READY_FOR_PICKUP)
    return ready


def mark_order_paid(
    *, order: Order, note: str | Callable[[], str] = "", fulfilments: Sequence[Fulfilment] | None = None
) -> Order:
    """An order awaiting payment was paid (authorised, or charged): it is placed now, and the
    shopper gets the "order received" e-mail (through the outbox, once). To be called with the
    order row locked by the caller (payment.services locks it before the payment), so an ended
    hold cancelling it at the same moment either comes first, and this raises IllegalTransition,
    or finds it placed. `order` must have been read under that lock (payment.services reads
    it with the payment it locks next): it is moved as read, not read again. So are
    `fulfilments` when given: every one of the order's, read locked by the caller under that lock
    (payment.services reads them for the note).

    No savepoint of its own: the caller's transaction holds the lock, and a failure here fails
    the whole of it. An order is placed from awaiting payment once (ORDER_TRANSITIONS), so its
    "order received" row cannot exist yet (pay-at-pickup orders are placed as such, e-mailed then):
    it is inserted without a look-up."""
    with transaction.atomic(savepoint=False):
        _move_locked_order(order, OrderStatus.PLACED, by=None, note=note, fulfilments=fulfilments)
        notify(order=order, kind=NotificationKind.ORDER_RECEIVED, known_new=True)
    return order


def expire_payment_hold(*, order: Order, now: datetime.datetime) -> Order | None:
    """Cancel `order` if it still awaits payment and its hold ended before `now`: the stock and the
    pickup time go back, the reason is "payment not completed" (on the timeline too), and the
    payment app cancels the open attempts (order_cancelled). Decided under the order's row lock,
    so a payment authorised at the same moment either placed the order first (nothing to do:
    None) or finds it cancelled (and is released). Returns the cancelled order, or None."""
    with transaction.atomic():
        locked = (
            Order.objects.select_for_update()
            .filter(pk=order.pk, status=OrderStatus.AWAITING_PAYMENT, payment_hold_until__lte=now)
            .first()
        )
        if locked is None:
            return None
        return cancel_order(
            order=locked,
            reason=CancelReason.PAYMENT_NOT_COMPLETED,
            note=lambda: _("The payment was not completed in time: the items and the pickup time were released."),
        )


def expire_payment_holds(*, now: datetime.datetime) -> list[str]:
    """expire_payment_hold for every order whose hold has ended (Celery beat, checkout.scheduled);
    each in its own transaction. Returns the numbers of the orders cancelled."""
    due = Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT, payment_hold_until__lte=now).order_by("pk")
    return [cancelled.number for order in due.only("pk") if (cancelled := expire_payment_hold(order=order, now=now))]


def record_order_activity(
    *,
    order: Order,
    kind: OrderActivity,
    fulfilment: Fulfilment | None = None,
    by: User | None = None,
    note: str | Callable[[], str] = "",
) -> OrderEvent:
    """Write an event that is not a status change (on the way, checked in, collector changed),
    naming the `fulfilment` it concerns, if any.

    The row carries the order's status at that moment as both from and to. `note` is a string or
    a callable giving one, written in the order's language (note_in_order_language).
    """
    return OrderEvent.objects.create(
        order=order,
        fulfilment=fulfilment,
        kind=kind,
        from_status=order.status,
        to_status=order.status,
        actor=signed_in(by),
        note=note_in_order_language(order, note)[:255],
    )
