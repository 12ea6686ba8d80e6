"""Placing an order from a checkout: the one place that composes the cart, stock, pickup times
and orders (Saleor's checkout/complete_checkout.py has the same role). Views call these.

An order is placed exactly as the shopper confirmed it, or not at all. The checkout page's lines,
unit prices, store and pickup method reach place_pickup_order in one ConfirmedCheckout, and are
compared with the catalog, the store and the stock inside the transaction that places the order,
so a change that lands after the page was shown (even after the view read the cart) is caught:
CheckoutChanged names every difference and nothing is placed.
"""

import datetime
import functools
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from functools import partial

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import signed_in
from catalog.models import Product
from coupons.pricing import PricedLine
from coupons.services import CouponRefused, hold_for_order, record_order_redemption
from delivery.models import Delivery
from delivery.selectors import PostcodeProblem
from delivery.services import (
    DeliveryAddress,
    DeliveryUnavailable,
    book_window,
    check_room_now,
    create_delivery,
    hand_back_to_store,
    hold_window,
    plan_window,
)
from instore.services import Attribution, attribute_order
from o2o_site.database_errors import is_busy, limit_lock_wait, retry_on_conflict
from o2o_site.dates import format_datetime
from o2o_site.money import format_money
from orders.models import (
    CancelReason,
    Channel,
    FulfilmentMethod,
    FulfilmentStatus,
    NotificationKind,
    Order,
    OrderStatus,
)
from orders.notifications.outbox import notify
from orders.selectors import for_sale_with_units_at, store_to_place_at
from orders.services import (
    AlreadyPlaced,
    Contact,
    FeeSpec,
    LineSpec,
    OrderError,
    PartSpec,
    PlacedOrder,
    cancel_order,
    change_fulfilment_method,
    create_order,
    create_split_order,
)
from payment.models import OPEN_PAYMENT_STATUSES, Payment, authorisation_validity
from payment.services import Actor, cancel_payment, create_payment
from pickup.models import PickupSettings
from pickup.services import create_pickup
from pickup.slots import SlotUnavailable, book_earliest_free_slot, book_first_free_slot
from rewards import services as rewards
from shipping.selectors import ShippingProblem, shipping_options
from shipping.services import ShippingAddress, create_shipment
from stores import services as stock
from stores.models import Store
from transfers.selectors import transfer_sources
from transfers.services import NoRoute, request_transfer

# A checkout without a chosen pickup time tries this many of the earliest free ones.
FREE_SLOTS_TRIED = 5

# One checkout page gives one order. Two submits of the same page (a double click, a browser
# retrying a POST) run at the same moment in two processes, and the second must end on the first
# one's order, never on a failure the first one caused: the units it reserved ("sold out"), the
# place it took in a slot ("fully booked"). The unique checkout_token on Order decides only at the
# INSERT, long after the twin was refused for its twin's stock; re-checking the token after a
# failure would race the first one's commit. So each placing transaction first takes a PostgreSQL
# advisory lock on its page's token (held until commit or rollback) and then looks for an order
# with that token: a twin waits for the first to finish, and then finds its order. Only the two
# submits of one page queue on it; other shoppers never wait for it. (Key: this namespace and the
# token's hash; a hash collision only makes two unrelated checkouts take turns.)
CHECKOUT_TOKEN_LOCK = 0x0C4E
# The twin waits as long as the first one's transaction can take: its own lock waits (pickup
# slot, stock) are each bounded by CHECKOUT_LOCK_TIMEOUT_MS.
TWIN_WAIT_FACTOR = 3


class ChangeKind(StrEnum):
    NOT_SOLD = "not_sold"
    PRICE = "price"
    PICKUP_METHOD = "pickup_method"
    STOCK = "stock"
    PAYMENT = "payment"
    DELIVERY_FEE = "delivery_fee"
    COUPON = "coupon"
    POINTS = "points"


# The value a checkout posts for paying at the store's till; paying online posts the provider's
# variant name (a key of PAYMENT_VARIANTS).
PAY_AT_PICKUP = "at_pickup"


@dataclass(frozen=True)
class Change:
    """One way the shop now differs from what the shopper confirmed; `message` names it for them
    (in the active language)."""

    kind: ChangeKind
    message: str
    product_id: int | None = None


class CheckoutChanged(OrderError):
    """Nothing was placed: the shop changed since the shopper confirmed (`changes`, all at once).

    `products` ({pk: Product}), when given, are the lines' products still sold as the refusal
    read them: the checkout page shown again lists them without reading them once more."""

    def __init__(self, changes, *, products: dict[int, Product] | None = None):
        self.changes = tuple(changes)
        self.products = products
        super().__init__(" ".join(change.message for change in self.changes))


@dataclass(frozen=True)
class ConfirmedLine:
    """One line as the checkout page showed it: the product (and the name shown), the units and
    the unit price shown."""

    product_id: int
    name: str
    quantity: int
    unit_price: Decimal

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class DeliveryChoice:
    """A delivery as the shopper confirmed it: to `address`, in the window starting at
    `window_start`, for the fee the page showed."""

    address: DeliveryAddress
    window_start: datetime.datetime
    fee_shown: Decimal


@dataclass(frozen=True)
class ConfirmedCheckout:
    """What the shopper confirmed on the checkout page, and everything else placing it needs.

    `lines` are as the page showed them (units and unit prices); the total is their sum.
    `methods_shown` are the pickup methods the page offered at `store` (empty when the page did
    not list that store: a store posted by hand is judged as it is, not as "changed").
    `pickup_slot` is the time chosen (an aware slot start from pickup.slots); with none chosen
    and `first_free_slot`, the earliest free time is booked (the page preselects it), or the next
    if it fills up meanwhile. `checkout_token` is the page's one-time token: a second submit of
    the same page finds the first one's order.
    """

    lines: tuple[ConfirmedLine, ...]
    store: Store
    contact: Contact
    fulfilment: FulfilmentMethod = FulfilmentMethod.IN_STORE
    methods_shown: frozenset[str] = frozenset()
    pickup_slot: datetime.datetime | None = None
    first_free_slot: bool = False
    vehicle_description: str = ""
    collector_name: str = ""
    customer: User | None = None
    language: str = "en"
    checkout_token: str | None = None
    # How the shopper pays: PAY_AT_PICKUP, or the provider (PAYMENT_VARIANTS) to pay online with.
    payment: str = PAY_AT_PICKUP
    # Local delivery from `store` (place_delivery_order); None for a pickup.
    delivery: DeliveryChoice | None = None
    # Placed in a store (its link, a shelf label, staff selling; instore.services.attribution_of):
    # the order's channel is "in store", and the store, scan and staff member are recorded.
    attribution: Attribution | None = None
    # Where the order is placed when no attribution says: the web shop's pages, or a kiosk through
    # the API (the api app).
    channel: Channel = Channel.WEB
    # A coupon code as the shopper typed it (coupons.services normalises it); "" for none.
    coupon_code: str = ""
    # Rewards points the signed-in member uses as money off (rewards: one point is one unit of
    # SHOP_CURRENCY), after the coupon; 0 for none.
    points: Decimal = Decimal(0)
    # The shopper ticked "send me offers": her consent is recorded with the order (_record_consent).
    send_offers: bool = False

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0"))

    @property
    def pays_online(self) -> bool:
        return self.payment != PAY_AT_PICKUP

    @classmethod
    def at_current_prices(cls, *, quantities: dict[int, int], store: Store, **fields) -> "ConfirmedCheckout":
        """What a shopper looking at the shop right now would confirm: `quantities` ({product id:
        units}) at today's prices, with the pickup methods `store` offers now. For orders placed
        without a checkout page: the demo shop, benchmarks and tests."""
        products = Product.objects.in_bulk(list(quantities))
        lines = tuple(
            ConfirmedLine(
                product_id=pk,
                name=products[pk].name if pk in products else "",
                quantity=units,
                unit_price=LineSpec(product=products[pk], quantity=units).unit_price if pk in products else Decimal(0),
            )
            for pk, units in sorted(quantities.items())
        )
        now = Store.objects.select_related("pickup_settings").get(pk=store.pk)
        return cls(lines=lines, store=store, methods_shown=pickup_methods_at(now), **fields)


def pickup_methods_at(store: Store) -> frozenset[str]:
    """The ways `store` hands out orders now (FulfilmentMethod values): none when it is closed or
    offers no pickup. The checkout page and the placing of the order both ask here."""
    if not (store.is_active and store.offers_pickup):
        return frozenset()
    if PickupSettings.for_store(store).offers_curbside:
        return frozenset({FulfilmentMethod.IN_STORE.value, FulfilmentMethod.CURBSIDE.value})
    return frozenset({FulfilmentMethod.IN_STORE.value})


def payment_methods_at(store: Store) -> tuple[str, ...]:
    """How a shopper may pay for an order picked up at `store`, in the order the checkout offers
    them: PAY_AT_PICKUP and/or each online provider (PAYMENT_VARIANTS), as the store allows
    (Store.payment_options, else SHOP_PAYMENT_OPTIONS). With no provider configured, orders are
    paid at pickup whatever the store says: a store is never left with no way to pay."""
    options = store.payment_options_in_force
    online = tuple(settings.PAYMENT_VARIANTS) if options.online else ()
    return ((PAY_AT_PICKUP,) if options.at_pickup or not online else ()) + online


def latest_pickup_when_paying_with(variant: str, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """Paying online with `variant`, the pickup time must end by then: the authorisation, given
    within the hold, lasts at least this long (PAYMENT_AUTHORISATION_DAYS), so it can still be
    captured at the counter."""
    return (now or timezone.now()) + authorisation_validity(variant)


def place_pickup_order(*, checkout: ConfirmedCheckout) -> Order:
    """Place the order the shopper confirmed: book the pickup time, reserve every line at the
    store and create the order, all in one transaction, or nothing.

    Prices come from the catalog and must be the ones confirmed. Raises CheckoutChanged (naming
    every change: a price, a product no longer sold, units no longer available, a pickup method
    no longer offered), OrderError for any other refusal (a full pickup time, an empty cart, a
    method the store never offered), and AlreadyPlaced (with the order) when this checkout's
    token already placed an order: a second submit of the same page, even at the same moment.

    Paying online, the order returned awaits payment, with its first payment attempt as
    `new_payment`.
    """
    return _placed_once(_place_pickup_order, checkout)


def _placed_once(place, checkout: ConfirmedCheckout) -> Order:
    """`place(checkout)`, and for a refusal the twin's order if this checkout's twin placed it."""
    try:
        return place(checkout)
    except (OrderError, OperationalError) as refused:
        if isinstance(refused, OperationalError) and not is_busy(refused):
            raise
        # The twin, if any, has had its turn (see CHECKOUT_TOKEN_LOCK); this second look covers
        # databases without advisory locks and a twin that outlasted TWIN_WAIT_FACTOR.
        placed = _placed_with(checkout.checkout_token)
        if placed is not None:
            raise AlreadyPlaced(placed) from None
        raise


def _placed_with(token: str | None) -> Order | None:
    """The order `token` placed, if any. Asked after every refusal (a flash sale's hundreds of
    sold-out shoppers), where there is none: a plain statement, not one the ORM compiles each
    time (~1 ms); the order, in the rare case there is one, is read by its id."""
    if not token:
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Order._meta.db_table} WHERE checkout_token = %s", [token])
        found = cursor.fetchone()
    return Order.objects.get(pk=found[0]) if found is not None else None


def _lock_checkout(token: str | None) -> Order | None:
    """Bound this transaction's lock waits (limit_lock_wait) and take this checkout page's lock
    (see CHECKOUT_TOKEN_LOCK), waiting up to TWIN_WAIT_FACTOR times longer for a twin that has it;
    then the order the page's token already placed, if any (its twin's).

    Usually one statement: the page's lock is free, so it is tried, the bound set and the order
    looked up together. That look-up reads as of the statement's start: a twin committing in the
    instant between it and the lock being tried is missed here, and then found as this checkout
    fails (the token's unique order, create_order's AlreadyPlaced; or its units or slot taken,
    _placed_once's second look), so its shopper still gets the twin's order."""
    if not token or connection.vendor != "postgresql":
        limit_lock_wait()
        return _placed_with(token)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s)), set_config('lock_timeout', %s, true), "
            f"(SELECT id FROM {Order._meta.db_table} WHERE checkout_token = %s)",
            [CHECKOUT_TOKEN_LOCK, token, f"{int(settings.CHECKOUT_LOCK_TIMEOUT_MS)}ms", token],
        )
        locked, _bound, placed_id = cursor.fetchone()
        if not locked:
            limit_lock_wait(settings.CHECKOUT_LOCK_TIMEOUT_MS * TWIN_WAIT_FACTOR)
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [CHECKOUT_TOKEN_LOCK, token])
    if not locked:
        limit_lock_wait()
        return _placed_with(token)
    return Order.objects.get(pk=placed_id) if placed_id is not None else None


# Deadlocks and serialization failures are repeated (the whole transaction, up to 3 times);
# a lock wait is bounded by CHECKOUT_LOCK_TIMEOUT_MS, then the shopper is asked to try again.
@retry_on_conflict(attempts=3)
def _place_pickup_order(checkout: ConfirmedCheckout) -> Order:
    if not checkout.lines:
        raise OrderError(_("Your cart is empty."))
    with transaction.atomic():
        placed = _lock_checkout(checkout.checkout_token)
        if placed is not None:
            raise AlreadyPlaced(placed)
        # Read again here, not taken from the caller: the store, its pickup settings and the
        # products as they are now. They are not locked: a price edited after this read is not
        # this order's price (the order keeps the price read here, which is the one confirmed).
        store = store_to_place_at(checkout.store.pk)
        # With the units each has at the store now, read without a lock (units_here).
        products = for_sale_with_units_at(store, [line.product_id for line in checkout.lines])
        method_changes = _method_changes(checkout, store)
        changes = [*_catalog_changes(checkout, products), *method_changes, *_payment_changes(checkout, store)]
        quantities = {line.product_id: line.quantity for line in checkout.lines if line.product_id in products}
        if quantities and not method_changes:
            # Lines already short are found with a plain read, before any lock is taken: a
            # shopper too late for a sold-out product (a flash sale's hundreds) is refused without
            # queueing on the store's slot and stock rows, and the shopper hears of every short
            # line at once. Units taken meanwhile are caught by reserve_stock's locked check below.
            changes.extend(_stock_changes_now(quantities, products=products, store=store))
        if changes:
            # Nothing will be placed, so nothing is booked or reserved.
            raise CheckoutChanged(changes, products=products)
        # The locks, in the order every checkout takes them: the pickup slot, the stock rows, then
        # a coupon's and the rewards account's rows (_create_order). The order's rows lock nothing
        # others take, so without a coupon or points they are written before the slot's lock, and
        # the pickup right after the slot is booked: the stock rows, which every shopper of the
        # store takes, are then held only to be reserved. A slot or stock refusal after that rolls
        # them back with the rest (as delivery placings do: _place_delivery_order).
        written_first = not (checkout.coupon_code.strip() or checkout.points)
        placed = (
            _write_pickup_order(checkout, store=store, products=products, quantities=quantities)
            if written_first
            else None
        )
        # The store's opening hours lay out its pickup times: read by the booking (pickup.slots),
        # only now, as a refusal above (a sold-out line) needs none of them.
        slot = _book_slot(checkout, store)
        if placed is not None:
            _create_pickup(checkout, placed, slot)
        try:
            stock.reserve_stock(store=store, quantities=quantities)
        except stock.InsufficientStock as short:
            raise CheckoutChanged(
                list(_stock_changes(short, products=products, store=store)), products=products
            ) from None
        if placed is None:
            placed = _write_pickup_order(checkout, store=store, products=products, quantities=quantities)
            _create_pickup(checkout, placed, slot)
        return placed.order


def _write_pickup_order(checkout: ConfirmedCheckout, *, store: Store, products, quantities) -> PlacedOrder:
    """The pickup order's rows: one fulfilment, by the chosen pickup method, from the store's own
    stock; paying online, held while the shopper pays (the order carries its first payment
    attempt as `new_payment`: the view sends the shopper to it without reading it back)."""
    hold_until = (
        timezone.now() + datetime.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES) if checkout.pays_online else None
    )
    placed = _create_order(
        checkout,
        lines=[LineSpec(product=products[pk], quantity=units) for pk, units in sorted(quantities.items())],
        store=store,
        method=checkout.fulfilment,
        stock_location=store,
        contact=checkout.contact,
        customer=checkout.customer,
        language=checkout.language,
        checkout_token=checkout.checkout_token or None,
        payment_hold_until=hold_until,
    )
    placed.order.new_payment = _pay_or_confirm(placed.order, variant=checkout.payment)
    return placed


def _create_pickup(checkout: ConfirmedCheckout, placed: PlacedOrder, slot) -> None:
    create_pickup(
        fulfilment=placed.fulfilment,
        slot_start=slot.starts_at if slot else None,
        slot_end=slot.ends_at if slot else None,
        vehicle_description=checkout.vehicle_description,
        collector_name=checkout.collector_name,
    )


def _pay_or_confirm(order: Order, *, variant: str) -> Payment | None:
    """A new order's first payment attempt with `variant` when it awaits payment (it is placed,
    and e-mailed, once paid); else (paid at pickup, or nothing to pay: create_order placed it)
    the shopper's "order received" e-mail, written with the order, sent after commit, once."""
    if order.is_awaiting_payment:
        return create_payment(order=order, variant=variant)
    notify(order=order, kind=NotificationKind.ORDER_RECEIVED, order_is_new=True)
    return None


def _catalog_changes(checkout, products):
    for line in checkout.lines:
        product = products.get(line.product_id)
        if product is None:
            yield Change(
                kind=ChangeKind.NOT_SOLD,
                product_id=line.product_id,
                message=_("%(product)s is no longer sold.") % {"product": line.name}
                if line.name
                else _("A product in your cart is no longer sold."),
            )
            continue
        # Compared as charged: the price in the currency's minor unit, as the page showed it.
        charged = LineSpec(product=product, quantity=line.quantity).unit_price
        if charged != line.unit_price:
            yield Change(
                kind=ChangeKind.PRICE,
                product_id=line.product_id,
                message=_("The price of %(product)s is now %(new)s (it was %(old)s).")
                % {"product": product.name, "old": format_money(line.unit_price), "new": format_money(charged)},
            )


def _method_changes(checkout, store):
    offered = pickup_methods_at(store)
    if checkout.fulfilment in offered:
        return []
    names = {"store": store.name}
    if not offered:
        shown, never = _("%(store)s no longer offers pickup.") % names, _("%(store)s does not offer pickup.") % names
    else:
        shown = _("%(store)s no longer offers curbside pickup.") % names
        never = _("%(store)s does not offer curbside pickup.") % names
    if checkout.fulfilment not in checkout.methods_shown:
        raise OrderError(never)  # the page never offered it (a form posted by hand): no "change"
    return [Change(kind=ChangeKind.PICKUP_METHOD, message=shown)]


def _payment_changes(checkout, store):
    """Refuse a way to pay the store does not allow (now); it was offered or never was alike,
    since the page shows only what the store allows (a change of that is rare and named)."""
    if checkout.payment in payment_methods_at(store):
        return []
    names = {"store": store.name}
    if checkout.pays_online:
        message = _("%(store)s does not take payment online now. Choose to pay at pickup.") % names
    else:
        message = _("%(store)s takes payment online only. Choose to pay online.") % names
    return [Change(kind=ChangeKind.PAYMENT, message=message)]


def _book_slot(checkout, store):
    # Paying online, the pickup must fall before the authorisation can expire.
    ends_by = latest_pickup_when_paying_with(checkout.payment) if checkout.pays_online else None
    try:
        if checkout.pickup_slot is not None:
            if ends_by is not None:
                _check_slot_within_authorisation(checkout.pickup_slot, store, ends_by)
            return book_first_free_slot(store=store, starts=[checkout.pickup_slot])
        if checkout.first_free_slot:
            # The page preselected the earliest free time; if it fills up meanwhile the next
            # ones are tried.
            return book_earliest_free_slot(store=store, tries=FREE_SLOTS_TRIED, ends_by=ends_by)
        return None
    except SlotUnavailable as refused:
        raise OrderError(str(refused)) from refused


def _check_slot_within_authorisation(starts_at, store, latest):
    length = datetime.timedelta(minutes=PickupSettings.for_store(store).slot_minutes)
    if starts_at + length > latest:
        raise OrderError(
            _(
                "Paying online, choose a pickup time by %(latest)s: the payment can be taken only until "
                "then. Or choose to pay at pickup."
            )
            % {"latest": format_datetime(latest, zone=store.zone)}
        )


def _stock_changes_now(quantities, *, products, store):
    """The stock changes (as _stock_changes) of lines `store` cannot supply now, as read without a
    lock with the products (orders.selectors.for_sale_with_units_at: `units_here`): a line short
    here is refused without waiting on the rows others hold; a line that looks available may
    still be taken before it is reserved."""
    short = [
        stock.Shortfall(product_id=pk, requested=units, available=max(products[pk].units_here, 0))
        for pk, units in sorted(quantities.items())
        if units > products[pk].units_here
    ]
    return list(_stock_changes(stock.InsufficientStock(short), products=products, store=store)) if short else []


def _stock_changes(short, *, products, store):
    for shortfall in short.shortfalls:
        names = {
            "product": products[shortfall.product_id].name,
            "store": store.name,
            "available": shortfall.available,
            "requested": shortfall.requested,
        }
        if shortfall.available == 0:
            message = _("'%(product)s' is sold out at %(store)s.") % names
        else:
            message = _("Only %(available)s of '%(product)s' left at %(store)s (you asked for %(requested)s).") % names
        yield Change(kind=ChangeKind.STOCK, product_id=shortfall.product_id, message=message)


def shopper_cancel_refusal(order: Order) -> str | None:
    """Why the shopper may not cancel `order` from its page, or None when they may.

    Until the store has it ready: after that the store has done the work and holds the goods at the
    counter, and the shopper asks the store (staff can still cancel it)."""
    names = {"number": order.number, "store": order.store.name}
    if (
        order.is_split
        and order.status == OrderStatus.PLACED
        and order.fulfilments.exclude(status=FulfilmentStatus.PENDING).exists()
    ):
        return (
            _(
                "Part of order %(number)s is already ready, on its way or handed over, so the order can no "
                "longer be cancelled here. Please contact %(store)s."
            )
            % names
        )
    if order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PLACED):
        return None
    if order.status == OrderStatus.READY_FOR_PICKUP:
        return (
            _(
                "Order %(number)s is ready for pickup, so it can no longer be cancelled here. "
                "Please contact %(store)s if you cannot collect it."
            )
            % names
        )
    if order.status == OrderStatus.COLLECTED:
        return _("Order %(number)s was collected, so it can no longer be cancelled.") % names
    if order.status == OrderStatus.OUT_FOR_DELIVERY:
        return (
            _("Order %(number)s is on its way to you, so it can no longer be cancelled here. Please contact %(store)s.")
            % names
        )
    if order.status == OrderStatus.DELIVERED:
        return _("Order %(number)s was delivered, so it can no longer be cancelled.") % names
    return _("Order %(number)s is already cancelled.") % names


def cancel_by_shopper(*, order: Order, by: User | None = None) -> Order:
    """The shopper cancels their own order from its page, while shopper_cancel_refusal allows it.

    Decided under the order's row lock, so a store marking it ready at the same moment wins or
    loses cleanly. Its units go back on sale at once: orders.services.cancel_order releases them
    in the same transaction. Raises OrderError with the reason when it is refused."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().select_related("store").get(pk=order.pk)
        refusal = shopper_cancel_refusal(locked)
        if refusal is not None:
            raise OrderError(refusal)
        return cancel_order(
            order=locked,
            reason=CancelReason.SHOPPER,
            by=by,
            note=lambda: _("Cancelled by the shopper on the order page."),
        )


def retry_payment(*, order: Order, by: User | None = None) -> Payment:
    """A new payment attempt for an order awaiting payment, while its hold lasts: the attempts
    still open are cancelled first (a shopper who left the payment page, then tries again), then
    a new one is made with the same provider. Raises OrderError, saying why, when the order is
    no longer awaiting payment or its hold has ended."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().select_related("store").get(pk=order.pk)
        names = {"number": locked.number}
        if locked.status != OrderStatus.AWAITING_PAYMENT:
            if locked.status == OrderStatus.CANCELLED:
                raise OrderError(_("Order %(number)s is cancelled, so it can no longer be paid.") % names)
            raise OrderError(_("Order %(number)s is already paid.") % names)
        if locked.payment_hold_until <= timezone.now():
            raise OrderError(
                _("The time to pay for order %(number)s has run out; it will be cancelled shortly.") % names
            )
        attempts = list(Payment.objects.filter(order=locked).order_by("-created", "-pk"))
        variant = attempts[0].variant if attempts else ""
        if variant not in settings.PAYMENT_VARIANTS:
            online = [choice for choice in payment_methods_at(locked.store) if choice != PAY_AT_PICKUP]
            if not online:
                raise OrderError(_("Online payment is not available now. Please contact the store."))
            variant = online[0]
        # Under the order's lock no attempt can change meanwhile (payment.services takes it too).
        for attempt in attempts:
            if attempt.status in OPEN_PAYMENT_STATUSES:
                cancel_payment(payment=attempt, by=Actor.shopper(by), note=_("a new attempt was started"))
        return create_payment(order=locked, variant=variant)


# --- local delivery ---------------------------------------------------------------------------

# The fee's line on the order (orders.services.FeeSpec): no product, this SKU.
DELIVERY_FEE_SKU = "DELIVERY"


def delivery_payment_methods_at(store: Store) -> tuple[str, ...]:
    """How a delivery from `store` may be paid: online only (the van carries no till), with each
    provider the store allows; empty when it takes no payment online."""
    return tuple(method for method in payment_methods_at(store) if method != PAY_AT_PICKUP)


def place_delivery_order(*, checkout: ConfirmedCheckout) -> Order:
    """Place the delivery the shopper confirmed: book the window at the store delivering it,
    reserve every line there and create the order with the delivery fee as a line of its own,
    awaiting the online payment, all in one transaction, or nothing.

    Raises CheckoutChanged (a price, a product no longer sold, units no longer available, the
    fee changed), OrderError (the address is no longer delivered to, the window is full or no
    longer offered, a way to pay the store does not take) and AlreadyPlaced as
    place_pickup_order does.
    """
    return _placed_once(_place_delivery_order, checkout)


@retry_on_conflict(attempts=3)
def _place_delivery_order(checkout: ConfirmedCheckout) -> Order:
    choice = checkout.delivery
    if not checkout.lines:
        raise OrderError(_("Your cart is empty."))
    if choice is None:
        raise OrderError(_("Choose where and when to deliver the order."))
    with transaction.atomic():
        placed = _lock_checkout(checkout.checkout_token)
        if placed is not None:
            raise AlreadyPlaced(placed)
        # Everything read and checked before a lock others wait for is taken (the window's day,
        # the stock rows): the store, the products with their units here, the window as the zones
        # and windows lay it out, its room as committed now. Read here, not taken from the caller:
        # as they are now (store_to_place_at and for_sale_with_units_at, as the pickup placing).
        store = store_to_place_at(checkout.store.pk)
        if checkout.payment not in delivery_payment_methods_at(store):
            raise OrderError(_("%(store)s takes payment online only for deliveries.") % {"store": store.name})
        products = for_sale_with_units_at(store, [line.product_id for line in checkout.lines])
        changes = list(_catalog_changes(checkout, products))
        quantities = {line.product_id: line.quantity for line in checkout.lines if line.product_id in products}
        # Lines already short are refused without queueing on the window and the stock rows.
        changes.extend(_stock_changes_now(quantities, products=products, store=store))
        if changes:
            raise CheckoutChanged(changes, products=products)
        lines = [LineSpec(product=products[pk], quantity=units) for pk, units in sorted(quantities.items())]
        try:
            plan = plan_window(
                store=store,
                address=choice.address,
                starts_at=choice.window_start,
                order_value=sum((line.unit_price * line.quantity for line in lines), Decimal("0")),
            )
            check_room_now(plan)
        except (PostcodeProblem, DeliveryUnavailable) as refused:
            raise OrderError(str(refused)) from refused
        _check_window_within_authorisation(plan.window.ends_at, store, checkout.payment)
        if plan.fee != choice.fee_shown:
            message = _("The delivery fee is now %(new)s (it was %(old)s).") % {
                "old": format_money(choice.fee_shown),
                "new": format_money(plan.fee),
            }
            raise CheckoutChanged([Change(kind=ChangeKind.DELIVERY_FEE, message=message)], products=products)
        fees = (FeeSpec(name=_("Delivery"), sku=DELIVERY_FEE_SKU, amount=plan.fee),)
        # The locks, in the order every checkout takes them: the window's day, the stock rows,
        # then a coupon's and the rewards account's rows (_create_order). The order's rows lock
        # nothing others take, so without a coupon or points they are written before the window's
        # lock, and the delivery (what the window's count counts) right after that count: the
        # window's lock is then held to count, write the delivery and reserve the stock, and the
        # stock rows, which every shopper of the store takes, only to be reserved. A window or
        # stock refusal after that rolls them back with the rest.
        written_first = not (checkout.coupon_code.strip() or checkout.points)
        placed = _write_delivery_order(checkout, lines=lines, store=store, fees=fees) if written_first else None
        try:
            booking = hold_window(plan)
        except DeliveryUnavailable as refused:
            raise OrderError(str(refused)) from refused
        if placed is not None:
            create_delivery(fulfilment=placed.fulfilment, booking=booking, address=choice.address)
        try:
            stock.reserve_stock(store=store, quantities=quantities)
        except stock.InsufficientStock as short:
            raise CheckoutChanged(
                list(_stock_changes(short, products=products, store=store)), products=products
            ) from None
        if placed is None:
            placed = _write_delivery_order(checkout, lines=lines, store=store, fees=fees)
            create_delivery(fulfilment=placed.fulfilment, booking=booking, address=choice.address)
        return placed.order


def _write_delivery_order(checkout: ConfirmedCheckout, *, lines, store: Store, fees) -> PlacedOrder:
    """The delivered order's rows, awaiting the online payment (held PAYMENT_HOLD_MINUTES), with
    its first payment attempt as the order's `new_payment`."""
    placed = _create_order(
        checkout,
        lines=lines,
        store=store,
        method=FulfilmentMethod.LOCAL_DELIVERY,
        stock_location=store,
        contact=checkout.contact,
        customer=checkout.customer,
        language=checkout.language,
        checkout_token=checkout.checkout_token or None,
        payment_hold_until=timezone.now() + datetime.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES),
        fees=fees,
    )
    placed.order.new_payment = _pay_or_confirm(placed.order, variant=checkout.payment)
    return placed


def _check_window_within_authorisation(ends_at, store, variant):
    latest = latest_pickup_when_paying_with(variant)
    if ends_at > latest:
        raise OrderError(
            _("Paying online, choose a delivery window by %(latest)s: the payment can be taken only until then.")
            % {"latest": format_datetime(latest, zone=store.zone)}
        )


def collect_failed_delivery_at_store(*, delivery: Delivery, by: User | None = None) -> Order:
    """A delivery that failed (no one home, …) is collected at its store instead: the delivery is
    closed as handed back, the fulfilment becomes a pickup in store with a fresh pickup code, and
    from here the order goes the pickup way (the store marks it ready, the shopper is e-mailed
    the code, the card payment is captured at hand-over, the delivery fee with the goods). The
    units stay reserved throughout. Raises delivery's IllegalDeliveryStep unless it failed."""
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("store").get(pk=delivery.fulfilment.order_id)
        if order.is_split:
            # Its other part may be collected already, with its own code: one pickup an order.
            raise OrderError(
                _("Order %(number)s is in parts: deliver this part again in another window.") % {"number": order.number}
            )
        hand_back_to_store(delivery=delivery)
        fulfilment = change_fulfilment_method(
            fulfilment=delivery.fulfilment,
            method=FulfilmentMethod.IN_STORE,
            by=by,
            note=lambda: _("The delivery failed: to be collected at %(store)s instead.") % {"store": order.store.name},
        )
        create_pickup(fulfilment=fulfilment)
    return order


SHIPPING_FEE_SKU = "SHIPPING"


@dataclass(frozen=True)
class ShippingChoice:
    """Shipping from a warehouse as the shopper confirmed it: to `address`, for the fee shown."""

    address: ShippingAddress
    fee_shown: Decimal


def place_shipping_order(*, checkout: ConfirmedCheckout, shipping: ShippingChoice) -> Order:
    """Place an order shipped from a warehouse to the shopper's address: the warehouse and fee are
    quoted again now (shipping.selectors.shipping_options), every line is reserved there and the
    order is created with the fee as a line of its own, awaiting the online payment, all in one
    transaction, or nothing. The order is the warehouse's (its managers ship it).

    Raises CheckoutChanged (a price, a product no longer sold, units no longer there, the fee
    changed), OrderError (the address cannot be shipped to, a way to pay the shop does not take)
    and AlreadyPlaced as place_pickup_order does."""
    return _placed_once(partial(_place_shipping_order, shipping=shipping), checkout)


@retry_on_conflict(attempts=3)
def _place_shipping_order(checkout: ConfirmedCheckout, *, shipping: ShippingChoice) -> Order:
    if not checkout.lines:
        raise OrderError(_("Your cart is empty."))
    if checkout.payment not in settings.PAYMENT_VARIANTS:
        raise OrderError(_("Orders that are shipped are paid online: choose a way to pay online."))
    with transaction.atomic():
        placed = _lock_checkout(checkout.checkout_token)
        if placed is not None:
            raise AlreadyPlaced(placed)
        products = (
            Product.objects.active().select_related("parent").in_bulk([line.product_id for line in checkout.lines])
        )
        changes = list(_catalog_changes(checkout, products))
        quantities = {line.product_id: line.quantity for line in checkout.lines if line.product_id in products}
        lines = [LineSpec(product=products[pk], quantity=units) for pk, units in sorted(quantities.items())]
        try:
            quote = shipping_options(
                postcode=shipping.address.postcode,
                country=shipping.address.country,
                lines=[(products[pk], units) for pk, units in sorted(quantities.items())],
            )
        except ShippingProblem as problem:
            raise OrderError(str(problem)) from problem
        if quote.fee != shipping.fee_shown:
            changes.append(
                Change(
                    kind=ChangeKind.DELIVERY_FEE,
                    message=_("The shipping fee is now %(new)s (it was %(old)s).")
                    % {"old": format_money(shipping.fee_shown), "new": format_money(quote.fee)},
                )
            )
        warehouse = quote.warehouse
        placed = _reserve_and_place_paid_online(
            checkout=checkout,
            lines=lines,
            products=products,
            quantities=quantities,
            changes=changes,
            location=warehouse,
            method=FulfilmentMethod.SHIPPING,
            fees=(FeeSpec(name=_("Shipping"), sku=SHIPPING_FEE_SKU, amount=quote.fee),) if quote.fee else (),
        )
        create_shipment(fulfilment=placed.fulfilment, address=shipping.address, quote=quote)
        placed.order.new_payment = _pay_or_confirm(placed.order, variant=checkout.payment)
        return placed.order


def _create_order(checkout: ConfirmedCheckout, **fields) -> PlacedOrder:
    """orders.services.create_order(**fields) in the checkout's channel, and where it was sold
    recorded with it (instore.services.attribute_order: the store the browser was in, the shelf
    scan before it, the member of staff selling). Every way of placing a checkout ends here."""
    attribution = checkout.attribution
    channel = attribution.channel if attribution else checkout.channel
    applied = _apply_coupon(checkout, fields, channel=channel) if checkout.coupon_code.strip() else None
    points = _apply_points(checkout, fields) if checkout.points else None
    placed = create_order(channel=channel, **fields)
    attribute_order(order=placed.order, attribution=attribution)
    if applied is not None:
        record_order_redemption(applied=applied, order=placed.order)
    _record_consent(checkout, placed.order)
    if points is not None:
        account, shares = points
        line_ids = list(placed.order.lines.order_by("pk").values_list("pk", flat=True))
        _reserve_points(account, placed.order, {line_ids[n]: share for n, share in shares.items()})
    return placed


def _apply_points(checkout: ConfirmedCheckout, fields: dict):
    """The member's points used on this checkout, after the coupon: shared over the goods' lines
    by what each still costs (rewards.services.share_points) and put on each LineSpec's discount,
    so create_order charges, and works out VAT on, the price less it (VAT is due on what is
    actually paid: Directive 2006/112/EC art. 79(b); Iceland lög nr. 50/1988, 7. gr.; Norway
    merverdiavgiftsloven § 4-1). The points leave the member's balance with the order
    (rewards.services.reserve_for_order, in this transaction) and come back if it is cancelled.
    Refused as a change, with its reason, for a shopper who is not a signed-in member or more
    points than the goods cost; too few points are found when the order's redemption is written
    under the account's row lock (_create_order), and refused the same way. Returns the account
    and {index of the line in fields["lines"]: points}."""
    account, shares = _points_shares(checkout, fields["lines"])
    fields["lines"] = [
        replace(line, discount=line.discount + shares.get(n, Decimal(0))) for n, line in enumerate(fields["lines"])
    ]
    return account, shares


def _points_shares(checkout: "ConfirmedCheckout | SplitCheckout", lines: list[LineSpec]):
    """The member's account and checkout.points shared over `lines` by what each still costs
    ({index in lines: points}); CheckoutChanged with the reason when they cannot be used."""
    account = rewards.member_for_checkout(checkout.customer)
    try:
        if account is None:
            raise rewards.RewardRefused(_("Log in as a rewards member to use points."))
        points = rewards.checked_points(checkout.points)
        shares = rewards.share_points(
            points, {n: line.unit_price * line.quantity - line.discount for n, line in enumerate(lines)}
        )
    except rewards.RewardRefused as refused:
        raise CheckoutChanged([Change(kind=ChangeKind.POINTS, message=str(refused))]) from refused
    return account, shares


@functools.cache
def _consent_recorder():
    """The callable of O2O_CHECKOUT_CONSENT (campaigns records consent; a higher layer than this
    one, so named by a setting), imported once per process; None when the setting is empty."""
    return import_string(settings.O2O_CHECKOUT_CONSENT) if settings.O2O_CHECKOUT_CONSENT else None


def _record_consent(checkout: "ConfirmedCheckout | SplitCheckout", order: Order) -> None:
    """The shopper ticked "send me offers": her consent to campaign e-mails, given on the web at
    checkout, is recorded in the order's transaction (pending until she confirms it, with double
    opt-in), so a checkout refused records none. Unticked: nothing is recorded."""
    recorder = _consent_recorder()
    if checkout.send_offers and recorder is not None:
        recorder(order=order, user=signed_in(checkout.customer), language=checkout.language)


def _reserve_points(account, order: Order, shares_by_line_id: dict[int, Decimal]) -> None:
    """The points leave the member's balance with `order` (in the checkout's transaction); too few
    points refuse the whole checkout as a change, with the reason."""
    try:
        rewards.reserve_for_order(account=account, order=order, shares=shares_by_line_id, by=None)
    except rewards.RewardRefused as refused:
        raise CheckoutChanged([Change(kind=ChangeKind.POINTS, message=str(refused))]) from refused


def _apply_coupon(checkout: ConfirmedCheckout, fields: dict, *, channel: Channel):
    """The checkout's coupon, checked under its lock (coupons.services.hold_for_order) as the
    last step before the order is written: each line's and fee's share of the discount is put on
    its LineSpec / FeeSpec in `fields`, so create_order charges, and works out VAT on, the price
    less it. A code refused now (expired, used up, not valid at this store…) refuses the checkout
    as a change, with its reason; the transaction then writes nothing."""
    lines, fees = fields["lines"], fields.get("fees", ())
    try:
        applied = hold_for_order(
            code=checkout.coupon_code,
            store=fields["store"],
            customer=checkout.customer,
            email=checkout.contact.email,
            channel=channel,
            lines=[
                PricedLine(key=n, amount=line.unit_price * line.quantity, category_id=line.product.category_id)
                for n, line in enumerate(lines)
            ],
            fees={n: fee.amount for n, fee in enumerate(fees)},
        )
    except CouponRefused as refused:
        raise CheckoutChanged([Change(kind=ChangeKind.COUPON, message=refused.message)]) from refused
    fields["lines"] = [
        replace(line, discount=applied.discount.lines.get(n, Decimal(0))) for n, line in enumerate(lines)
    ]
    fields["fees"] = tuple(
        replace(fee, discount=applied.discount.fees.get(n, Decimal(0))) for n, fee in enumerate(fees)
    )
    return applied


def _reserve_and_place_paid_online(*, checkout, lines, products, quantities, changes, location, method, fees):
    """The last steps of a delivered or shipped checkout, inside its transaction: reserve the
    units at `location` unless `changes` already refuse it, raise CheckoutChanged with every
    change found (the transaction then writes nothing), else create the order with its `fees`,
    held for payment online for PAYMENT_HOLD_MINUTES."""
    if quantities and not changes:
        try:
            stock.reserve_stock(store=location, quantities=quantities)
        except stock.InsufficientStock as short:
            changes.extend(_stock_changes(short, products=products, store=location))
    if changes:
        raise CheckoutChanged(changes)
    return _create_order(
        checkout,
        lines=lines,
        store=location,
        method=method,
        stock_location=location,
        contact=checkout.contact,
        customer=checkout.customer,
        language=checkout.language,
        checkout_token=checkout.checkout_token or None,
        payment_hold_until=timezone.now() + datetime.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES),
        fees=fees,
    )


def place_transfer_order(*, checkout: ConfirmedCheckout, source: Store | None = None) -> Order:
    """The endless aisle's "send it to this store, collect it later": an order picked up at
    `checkout.store` (the destination) whose goods come from another location by transfer. One
    transaction, or nothing: the order with its pickup at the destination (no pickup time: it is
    collected once the transfer is received, with the "ready for pickup" e-mail), and the transfer
    from `source` — by default the best one (transfers.selectors.transfer_sources: the earliest
    arrival, then the nearest, then the most to spare) — reserving the units there.

    Paid at pickup (the arrival can be later than an online authorisation lasts). Raises
    CheckoutChanged (every change at once: a price, a product no longer sold, a pickup method no
    longer offered, the store taking payment online only, units no longer at the source),
    OrderError (an empty order, no location able to send it, a method never offered),
    AlreadyPlaced (a second submit of the same page).
    """
    return _placed_once(partial(_place_transfer_order, source=source), checkout)


@retry_on_conflict(attempts=3)
def _place_transfer_order(checkout: ConfirmedCheckout, *, source: Store | None) -> Order:
    if not checkout.lines:
        raise OrderError(_("Your cart is empty."))
    if checkout.pays_online:
        raise OrderError(_("Orders sent to a store from another location are paid at pickup."))
    with transaction.atomic():
        placed = _lock_checkout(checkout.checkout_token)
        if placed is not None:
            raise AlreadyPlaced(placed)
        destination = Store.objects.select_related("pickup_settings").get(pk=checkout.store.pk)
        products = Product.objects.for_sale().in_bulk([line.product_id for line in checkout.lines])
        changes = [
            *_catalog_changes(checkout, products),
            *_method_changes(checkout, destination),
            *_payment_changes(checkout, destination),
        ]
        quantities = {line.product_id: line.quantity for line in checkout.lines if line.product_id in products}
        if source is None:
            sources = transfer_sources(quantities, destination=destination)
            if not sources:
                raise OrderError(_("No other location can send this to %(store)s now.") % {"store": destination.name})
            source = sources[0].store
        if changes:
            raise CheckoutChanged(changes)
        placed = _create_order(
            checkout,
            lines=[LineSpec(product=products[pk], quantity=units) for pk, units in sorted(quantities.items())],
            store=destination,
            method=checkout.fulfilment,
            stock_location=destination,
            contact=checkout.contact,
            customer=checkout.customer,
            language=checkout.language,
            checkout_token=checkout.checkout_token or None,
        )
        create_pickup(
            fulfilment=placed.fulfilment,
            vehicle_description=checkout.vehicle_description,
            collector_name=checkout.collector_name,
        )
        try:
            request_transfer(
                source=source,
                destination=destination,
                quantities=quantities,
                fulfilment=placed.fulfilment,
                by=checkout.customer,
            )
        except stock.InsufficientStock as short:
            raise CheckoutChanged(list(_stock_changes(short, products=products, store=source))) from None
        except NoRoute as refused:
            raise OrderError(str(refused)) from None
        notify(order=placed.order, kind=NotificationKind.ORDER_RECEIVED, order_is_new=True)
        return placed.order


# --- a cart in parts: some lines picked up, the rest delivered or shipped -----------------------


@dataclass(frozen=True)
class ConfirmedPart:
    """One part of a split checkout as the page showed it: the products it carries (each cart
    line goes to one part whole), how (`method`) and from where (`location`: the pickup store, the
    store whose van delivers, or the warehouse). A pickup part takes the earliest free pickup time
    at its store (the page showed it); a delivery part its `delivery` window, address and fee; a
    shipped part its `shipping` address and fee."""

    method: FulfilmentMethod
    location: Store
    product_ids: frozenset[int]
    delivery: DeliveryChoice | None = None
    shipping: ShippingChoice | None = None


@dataclass(frozen=True)
class SplitCheckout:
    """A cart no single location can supply, confirmed in `parts`: every line of `lines` (as the
    page showed them) in exactly one part. Split orders are paid online (`payment` is the
    provider, a key of PAYMENT_VARIANTS): one payment covers every part, each part's units and
    fee captured when that part is handed over."""

    lines: tuple[ConfirmedLine, ...]
    parts: tuple[ConfirmedPart, ...]
    contact: Contact
    customer: User | None = None
    language: str = "en"
    checkout_token: str | None = None
    payment: str = ""
    # Rewards points the signed-in member uses as money off, shared over every part's lines.
    points: Decimal = Decimal(0)
    send_offers: bool = False

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0"))

    # What the shared checks (_catalog_changes, _book_slot) read of a checkout.
    @property
    def pays_online(self) -> bool:
        return True

    pickup_slot = None
    first_free_slot = True


def place_split_order(*, checkout: SplitCheckout) -> Order:
    """Place a cart in parts as the shopper confirmed it: for each part, in one transaction, book
    its pickup time (the earliest free one at its store) or its delivery window, quote its
    shipping again, reserve its lines at its location, then create one order with a fulfilment per
    part (orders.services.create_split_order), each with its pickup, delivery or shipment, and the
    one online payment for the whole; or nothing at all.

    Raises OrderError when the parts do not cover the cart once each, a part's method is not one
    its location offers now (no pickup, no delivery there, no shipping), its window is full or no
    longer offered, or the way to pay is not online; CheckoutChanged naming every change found in
    any part (a price, a product no longer sold, units no longer at a part's location, a fee
    changed); AlreadyPlaced as place_pickup_order. Whatever it raises, nothing was reserved or
    booked and the cart is the shopper's still.
    """
    return _placed_once(_place_split_order, checkout)


def _check_parts_cover_cart(checkout: SplitCheckout) -> None:
    in_cart = [line.product_id for line in checkout.lines]
    in_parts = [pk for part in checkout.parts for pk in part.product_ids]
    if len(checkout.parts) < 2 or sorted(in_cart) != sorted(in_parts) or any(not p.product_ids for p in checkout.parts):
        raise OrderError(_("The parts of your order no longer match your cart. Please check your order again."))
    if sum(part.method in (FulfilmentMethod.IN_STORE, FulfilmentMethod.CURBSIDE) for part in checkout.parts) > 1:
        raise OrderError(_("An order in parts is collected at one store at most."))


@retry_on_conflict(attempts=3)
def _place_split_order(checkout: SplitCheckout) -> Order:
    if not checkout.lines:
        raise OrderError(_("Your cart is empty."))
    _check_parts_cover_cart(checkout)
    if checkout.payment not in settings.PAYMENT_VARIANTS:
        raise OrderError(_("An order in parts is paid online: choose a way to pay online."))
    with transaction.atomic():
        placed = _lock_checkout(checkout.checkout_token)
        if placed is not None:
            raise AlreadyPlaced(placed)
        products = (
            Product.objects.active().select_related("parent").in_bulk([line.product_id for line in checkout.lines])
        )
        changes = list(_catalog_changes(checkout, products))
        units = {line.product_id: line.quantity for line in checkout.lines if line.product_id in products}
        # Each part's booking first (pickup time, window, quote), then the stock of every part:
        # every checkout takes its locks in this order (see _place_pickup_order).
        # Read again here, not taken from the caller: each location as it is now, in one query.
        locations = (
            Store.objects.select_related("pickup_settings")
            .prefetch_related("opening_hours")
            .in_bulk([part.location.pk for part in checkout.parts])
        )
        missing = [part for part in checkout.parts if part.location.pk not in locations]
        if missing:
            raise OrderError(_("The parts of your order no longer match your cart. Please check your order again."))
        booked = [
            _book_part(
                checkout, part, location=locations[part.location.pk], products=products, units=units, changes=changes
            )
            for part in checkout.parts
        ]
        if not changes:
            for part in sorted(checkout.parts, key=lambda part: part.location.pk):
                quantities = {pk: units[pk] for pk in sorted(part.product_ids) if pk in units}
                try:
                    stock.reserve_stock(store=locations[part.location.pk], quantities=quantities)
                except stock.InsufficientStock as short:
                    changes.extend(_stock_changes(short, products=products, store=locations[part.location.pk]))
        if changes:
            raise CheckoutChanged(changes)
        pickup_store = next((locations[part.location.pk] for part in checkout.parts if part.method in _PICKUP), None)
        part_lines = [
            [LineSpec(product=products[pk], quantity=units[pk]) for pk in sorted(part.product_ids)]
            for part in checkout.parts
        ]
        points = None
        if checkout.points:
            # Shared over every part's goods, as on a checkout in one part (_apply_points).
            flat = [line for lines in part_lines for line in lines]
            account, shares = _points_shares(checkout, flat)
            by_product = {flat[n].product.pk: share for n, share in shares.items()}
            part_lines = [
                [replace(line, discount=line.discount + by_product.get(line.product.pk, Decimal(0))) for line in lines]
                for lines in part_lines
            ]
            points = account, by_product
        placed = create_split_order(
            parts=tuple(
                PartSpec(
                    method=part.method,
                    stock_location=locations[part.location.pk],
                    lines=tuple(lines),
                    fees=booking.fees,
                )
                for part, booking, lines in zip(checkout.parts, booked, part_lines, strict=True)
            ),
            store=pickup_store or locations[checkout.parts[0].location.pk],
            contact=checkout.contact,
            customer=checkout.customer,
            language=checkout.language,
            checkout_token=checkout.checkout_token or None,
            payment_hold_until=timezone.now() + datetime.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES),
        )
        for part, booking, fulfilment in zip(checkout.parts, booked, placed.fulfilments, strict=True):
            if part.method in _PICKUP:
                create_pickup(
                    fulfilment=fulfilment,
                    slot_start=booking.slot.starts_at if booking.slot else None,
                    slot_end=booking.slot.ends_at if booking.slot else None,
                )
            elif part.method == FulfilmentMethod.LOCAL_DELIVERY:
                create_delivery(fulfilment=fulfilment, booking=booking.window, address=part.delivery.address)
            else:
                create_shipment(fulfilment=fulfilment, address=part.shipping.address, quote=booking.quote)
        if points is not None:
            account, by_product = points
            line_ids = dict(placed.order.lines.filter(product_id__in=list(by_product)).values_list("product_id", "pk"))
            _reserve_points(account, placed.order, {line_ids[pk]: share for pk, share in by_product.items()})
        _record_consent(checkout, placed.order)
        placed.order.new_payment = _pay_or_confirm(placed.order, variant=checkout.payment)
        return placed.order


_PICKUP = (FulfilmentMethod.IN_STORE, FulfilmentMethod.CURBSIDE)


@dataclass(frozen=True)
class _PartBooking:
    fees: tuple[FeeSpec, ...] = ()
    slot: object = None  # pickup.slots' booked slot
    window: object = None  # delivery.services.BookedWindow
    quote: object = None  # shipping.selectors.ShippingQuote


def _book_part(
    checkout: SplitCheckout, part: ConfirmedPart, *, location: Store, products, units, changes
) -> _PartBooking:
    """Book what `part` needs at its location, as it is now, inside the placing transaction; a
    fee no longer the one shown is added to `changes`. Raises OrderError (why) when the location
    no longer fulfils the part this way."""
    names = {"store": location.name}
    goods = [(products[pk], units[pk]) for pk in sorted(part.product_ids) if pk in products]
    value = sum((LineSpec(product=product, quantity=count).unit_price * count for product, count in goods), Decimal(0))
    if part.method in _PICKUP:
        if part.method not in pickup_methods_at(location):
            raise OrderError(
                _("%(store)s no longer offers pickup. Nothing was reserved; please check your order again.") % names
            )
        if changes:
            return _PartBooking()
        return _PartBooking(slot=_book_slot(checkout, location))
    if part.method == FulfilmentMethod.LOCAL_DELIVERY:
        choice = part.delivery
        if choice is None or checkout.payment not in delivery_payment_methods_at(location):
            raise OrderError(_("%(store)s takes payment online only for deliveries.") % names)
        if changes:
            return _PartBooking()
        try:
            window = book_window(
                store=location, address=choice.address, starts_at=choice.window_start, order_value=value
            )
        except (PostcodeProblem, DeliveryUnavailable) as refused:
            raise OrderError(
                _("The delivered part cannot be booked: %(reason)s Nothing was reserved.") % {"reason": refused}
            ) from refused
        _check_window_within_authorisation(window.window.ends_at, location, checkout.payment)
        if window.fee != choice.fee_shown:
            changes.append(
                Change(
                    kind=ChangeKind.DELIVERY_FEE,
                    message=_("The delivery fee is now %(new)s (it was %(old)s).")
                    % {"old": format_money(choice.fee_shown), "new": format_money(window.fee)},
                )
            )
        return _PartBooking(fees=(FeeSpec(name=_("Delivery"), sku=DELIVERY_FEE_SKU, amount=window.fee),), window=window)
    if part.method == FulfilmentMethod.SHIPPING and part.shipping is not None:
        try:
            quote = shipping_options(
                postcode=part.shipping.address.postcode, country=part.shipping.address.country, lines=goods
            )
        except ShippingProblem as problem:
            raise OrderError(str(problem)) from problem
        if quote.warehouse.pk != location.pk:
            raise OrderError(
                _("The shipped part would now leave from another warehouse. Please check your order again.")
            )
        if quote.fee != part.shipping.fee_shown:
            changes.append(
                Change(
                    kind=ChangeKind.DELIVERY_FEE,
                    message=_("The shipping fee is now %(new)s (it was %(old)s).")
                    % {"old": format_money(part.shipping.fee_shown), "new": format_money(quote.fee)},
                )
            )
        fees = (FeeSpec(name=_("Shipping"), sku=SHIPPING_FEE_SKU, amount=quote.fee),) if quote.fee else ()
        return _PartBooking(fees=fees, quote=quote)
    raise OrderError(_("Choose how each part of your order reaches you."))
