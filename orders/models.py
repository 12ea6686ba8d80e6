from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from o2o_site.money import minor_unit_digits

ORDER_LINK_SALT = "orders.order-page"


class OrderStatus(models.TextChoices):
    # Paid online: the stock and the pickup time are held for PAYMENT_HOLD_MINUTES while the
    # shopper pays; an authorisation places the order, an ended hold cancels it.
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PLACED = "placed", _("Placed")
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    COLLECTED = "collected", _("Collected")
    CANCELLED = "cancelled", _("Cancelled")
    # Local delivery (the delivery app): the van has it; then at the door, or back to placed
    # when the delivery failed (no one home), waiting for another window or a pickup.
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    # Shipped from a warehouse by a carrier (the shipping app): the parcel has left, with its
    # tracking number; the carrier takes it from there.
    SHIPPED = "shipped", _("Shipped")


# The one table of legal moves; orders.services.transition_order enforces it.
ORDER_TRANSITIONS = {
    OrderStatus.AWAITING_PAYMENT: {OrderStatus.PLACED, OrderStatus.CANCELLED},
    OrderStatus.PLACED: {
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.OUT_FOR_DELIVERY,
        OrderStatus.SHIPPED,
        OrderStatus.CANCELLED,
    },
    OrderStatus.READY_FOR_PICKUP: {OrderStatus.COLLECTED, OrderStatus.CANCELLED},
    OrderStatus.COLLECTED: set(),
    OrderStatus.CANCELLED: set(),
    OrderStatus.OUT_FOR_DELIVERY: {OrderStatus.DELIVERED, OrderStatus.PLACED, OrderStatus.CANCELLED},
    OrderStatus.DELIVERED: set(),
    OrderStatus.SHIPPED: set(),
}

# Orders in these states hold units reserved at their store.
STATUSES_HOLDING_STOCK = (
    OrderStatus.AWAITING_PAYMENT,
    OrderStatus.PLACED,
    OrderStatus.READY_FOR_PICKUP,
    OrderStatus.OUT_FOR_DELIVERY,
)
# Orders in these states are the shopper's to collect (a pickup code, a collector to name).
STATUSES_TO_COLLECT = (OrderStatus.PLACED, OrderStatus.READY_FOR_PICKUP)


class PaymentChoice(models.TextChoices):
    """How the shopper pays for an order: online at checkout, or at the store's till at pickup; or
    not at all, for an order whose total is 0 (a coupon or points cover it): it needs no payment
    step, no card and no till receipt (orders.services.create_order decides)."""

    AT_PICKUP = "at_pickup", _("Pay at pickup")
    ONLINE = "online", _("Paid online")
    NOTHING_TO_PAY = "nothing", _("Nothing to pay")


class Channel(models.TextChoices):
    """Where an order was placed."""

    WEB = "web", _("Web shop")
    IN_STORE = "in_store", _("In store")
    # A kiosk in a store, through the JSON API (the api app).
    KIOSK = "kiosk", _("Kiosk")


class FulfilmentMethod(models.TextChoices):
    """How a fulfilment's goods reach the shopper."""

    IN_STORE = "in_store", _("Pickup in store")
    CURBSIDE = "curbside", _("Curbside pickup")
    # From the store's own van to the shopper's door in a booked window (the delivery app).
    LOCAL_DELIVERY = "local_delivery", _("Local delivery")
    # From a warehouse by a carrier to the shopper's address (the shipping app).
    SHIPPING = "shipping", _("Shipping")


class FulfilmentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    READY = "ready", _("Ready")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")


# The one table of legal moves of a fulfilment; orders.services enforces it.
FULFILMENT_TRANSITIONS = {
    FulfilmentStatus.PENDING: {FulfilmentStatus.READY, FulfilmentStatus.CANCELLED},
    # Back to pending: a delivery that failed at the door waits for another window.
    FulfilmentStatus.READY: {FulfilmentStatus.FULFILLED, FulfilmentStatus.CANCELLED, FulfilmentStatus.PENDING},
    FulfilmentStatus.FULFILLED: set(),
    FulfilmentStatus.CANCELLED: set(),
}

# The order's status summarises its fulfilments: when the order moves, every fulfilment still
# open moves with it to the status below (today an order has exactly one fulfilment).
FULFILMENT_STATUS_OF_ORDER = {
    OrderStatus.AWAITING_PAYMENT: FulfilmentStatus.PENDING,
    OrderStatus.PLACED: FulfilmentStatus.PENDING,
    OrderStatus.READY_FOR_PICKUP: FulfilmentStatus.READY,
    OrderStatus.COLLECTED: FulfilmentStatus.FULFILLED,
    OrderStatus.CANCELLED: FulfilmentStatus.CANCELLED,
    OrderStatus.OUT_FOR_DELIVERY: FulfilmentStatus.READY,
    OrderStatus.DELIVERED: FulfilmentStatus.FULFILLED,
    OrderStatus.SHIPPED: FulfilmentStatus.FULFILLED,
}

# Fulfilments in these states hold units reserved at their stock location.
FULFILMENT_STATUSES_HOLDING_STOCK = (FulfilmentStatus.PENDING, FulfilmentStatus.READY)

# The methods whose goods the shopper collects at a store (a pickup code, a pickup time).
PICKUP_METHODS = (FulfilmentMethod.IN_STORE, FulfilmentMethod.CURBSIDE)


def stage_of(*, method: str, status: str) -> OrderStatus:
    """A fulfilment's step in the order's own terms, from its `method` and FulfilmentStatus: what a
    split order's part shows the shopper ("Ready for pickup", "Out for delivery", "Shipped"), and
    what orders.services.transition_part checks against ORDER_TRANSITIONS. A shipment that is ready
    is packed, still "placed" to the shopper; a fulfilment holds no "awaiting payment" of its own."""
    status = FulfilmentStatus(status)
    if status == FulfilmentStatus.CANCELLED:
        return OrderStatus.CANCELLED
    if status == FulfilmentStatus.PENDING:
        return OrderStatus.PLACED
    if method == FulfilmentMethod.LOCAL_DELIVERY:
        return OrderStatus.OUT_FOR_DELIVERY if status == FulfilmentStatus.READY else OrderStatus.DELIVERED
    if method == FulfilmentMethod.SHIPPING:
        return OrderStatus.PLACED if status == FulfilmentStatus.READY else OrderStatus.SHIPPED
    return OrderStatus.READY_FOR_PICKUP if status == FulfilmentStatus.READY else OrderStatus.COLLECTED


# The order's status when its parts are at these stages, the least advanced open part first: a
# split order is "placed" while any part waits, then "out for delivery" while a van has a part,
# then "ready for pickup"; see orders.services.split_order_status.
OPEN_STAGE_PRECEDENCE = (OrderStatus.PLACED, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.READY_FOR_PICKUP)

# An event row records an order's status change or a fulfilment's (kind FULFILMENT_STATUS).
EVENT_STATUS_CHOICES = [
    *OrderStatus.choices,
    *((value, label) for value, label in FulfilmentStatus.choices if value not in OrderStatus.values),
]


class OrderActivity(models.TextChoices):
    """What an event row records: a status change, or something that happened within a status."""

    STATUS = "status", _("Status change")
    ON_THE_WAY = "on_the_way", _("On the way")
    ARRIVED = "arrived", _("Checked in at the store")
    COLLECTOR_CHANGED = "collector_changed", _("Collector changed")
    REMINDED = "reminded", _("Pickup reminder sent")
    FULFILMENT_STATUS = "fulfilment_status", _("Fulfilment status change")
    EMAILED = "emailed", _("E-mail sent")
    PARTLY_HANDED_OVER = "partly_handed_over", _("Partly handed over")
    PACKED = "packed", _("Packed for delivery")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    DELIVERY_REBOOKED = "delivery_rebooked", _("Delivery rebooked")
    METHOD_CHANGED = "method_changed", _("Fulfilment changed")
    # Line-level readiness (pickup.services.mark_lines_ready): some items put aside, and the ready
    # part collected before the rest.
    LINES_READY = "lines_ready", _("Items ready")
    READY_PART_COLLECTED = "ready_part_collected", _("Ready items collected")
    # Returns (the returns app): started online, received at a store, the money given back.
    RETURN_REQUESTED = "return_requested", _("Return started")
    RETURN_RECEIVED = "return_received", _("Returned in store")
    RETURN_REFUNDED = "return_refunded", _("Return refunded")
    # Ship-to-store (the transfers app): the goods sent from another location, and arrived.
    TRANSFER = "transfer", _("Transfer")
    # A manager let an order locked by wrong pickup codes be handed over again (pickup.services).
    PICKUP_LOCK_RESET = "pickup_lock_reset", _("Pickup-code lock reset")


# Kinds for the store's audit only: the shopper's order page leaves them out.
STAFF_ONLY_ACTIVITIES = frozenset({OrderActivity.PICKUP_LOCK_RESET})


class CancelReason(models.TextChoices):
    """Why an order was cancelled: on the order, its page and the shopper's e-mail."""

    STORE = "store", _("Cancelled by the store")
    NOT_COLLECTED = "not_collected", _("Not collected in time")
    SHOPPER = "shopper", _("Cancelled by the shopper")
    PAYMENT_NOT_COMPLETED = "unpaid", _("Payment not completed")


class OrderQuerySet(models.QuerySet):
    def for_stores_managed_by(self, user):
        if user.is_superuser:
            return self
        return self.filter(store__managers=user)

    def for_customer(self, user):
        return self.filter(customer=user)


class Order(models.Model):
    number = models.CharField(_("order number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer account"),
        null=True,
        blank=True,
        related_name="orders",
        on_delete=models.SET_NULL,
    )
    contact_name = models.CharField(_("name"), max_length=150)
    contact_email = models.EmailField(_("e-mail"))
    contact_phone = models.CharField(_("phone"), max_length=32)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB)
    # Whose sale it is (reports, a manager's list). The goods come from each fulfilment's
    # stock location, which for today's orders is this same store.
    store = models.ForeignKey(
        "stores.Store",
        verbose_name=_("store"),
        help_text=_("The store the order is attributed to."),
        related_name="orders",
        on_delete=models.PROTECT,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED, editable=False
    )
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    language = models.CharField(_("language"), max_length=10, default="en")
    # The one-time token of the checkout page that placed the order: a double submit finds
    # this order instead of placing a second one (unique, so it holds across processes).
    checkout_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True, db_index=True)
    # Set by orders.services.cancel_order; blank unless cancelled.
    cancel_reason = models.CharField(
        _("cancelled because"), max_length=16, choices=CancelReason.choices, blank=True, editable=False
    )
    payment_choice = models.CharField(
        _("payment"), max_length=16, choices=PaymentChoice.choices, default=PaymentChoice.AT_PICKUP, editable=False
    )
    # Paid online: until when the stock and the pickup time are held for the payment
    # (PAYMENT_HOLD_MINUTES after placing); kept after the payment as a record.
    payment_hold_until = models.DateTimeField(_("held for payment until"), null=True, blank=True, editable=False)
    # Placed in parts (orders.services.create_split_order): each part is a fulfilment of its own,
    # from its own stock location, by its own method, moved on its own (transition_part); the
    # order's status is derived from its parts' (split_order_status) instead of moving them.
    is_split = models.BooleanField(_("placed in parts"), default=False, editable=False)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["store", "status", "-created_at"], name="order_store_status_idx"),
            # The hold-expiry sweep: orders awaiting payment whose hold has ended.
            models.Index(
                fields=["payment_hold_until"],
                name="order_awaiting_payment_idx",
                condition=Q(status="awaiting_payment"),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("checkout:order_detail", kwargs={"token": self.access_token})

    @property
    def access_token(self):
        """The signed part of the shopper's order link: unguessable, bound to this order."""
        return signing.Signer(salt=ORDER_LINK_SALT).sign(self.number)

    def absolute_link(self):
        return settings.SITE_URL.rstrip("/") + self.get_absolute_url()

    @property
    def is_open(self):
        """Placed or ready: the shopper's to collect (awaiting payment is not, yet)."""
        return self.status in STATUSES_TO_COLLECT

    @property
    def is_awaiting_payment(self):
        return self.status == OrderStatus.AWAITING_PAYMENT

    @property
    def is_paid_online(self):
        return self.payment_choice == PaymentChoice.ONLINE

    @property
    def has_nothing_to_pay(self):
        """Its total is 0: placed at once, paid neither online nor at the till."""
        return self.payment_choice == PaymentChoice.NOTHING_TO_PAY

    def can_move_to(self, status: OrderStatus) -> bool:
        """Whether ORDER_TRANSITIONS allows this order's next step to `status` (what staff are
        offered; orders.services.transition_order enforces the same table under a lock)."""
        return status in ORDER_TRANSITIONS[OrderStatus(self.status)]

    @staticmethod
    def number_from_token(token):
        """The order number a token was signed for, or None when it was tampered with."""
        try:
            return signing.Signer(salt=ORDER_LINK_SALT).unsign(token)
        except signing.BadSignature:
            return None


class OrderLine(models.Model):
    order = models.ForeignKey(Order, verbose_name=_("order"), related_name="lines", on_delete=models.CASCADE)
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        null=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    # Snapshots: the order keeps what was bought even when the catalog changes.
    product_name = models.CharField(_("product name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)
    # A coupon's share of the line (coupons.pricing): unit_price × quantity − discount = line_total,
    # so the VAT below is on the price actually paid.
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=0)
    # The VAT inside line_total, at the rate of the product's VAT class in the store's country when
    # the order was placed (o2o_site.vat: per line, rounded to the currency's minor unit).
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    vat_amount = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0, vat_rate__lt=100, vat_amount__gte=0, vat_amount__lte=F("line_total")),
                name="order_line_vat_within_total",
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0, line_total__gte=0), name="order_line_discount_within_price"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name}"

    @property
    def paid_per_unit(self) -> Decimal:
        """What one unit cost the shopper (value_of(1)): the unit price less its share of a coupon."""
        return self.value_of(1)

    def value_of(self, units: int) -> Decimal:
        """What `units` of this line cost the shopper, in the order's currency: unit_price × units,
        less their share of the line's coupon discount. All its units are exactly line_total; fewer
        of a discounted line are rounded down to the minor unit, so what is captured, receipted or
        refunded in parts never comes to more than the line was charged."""
        if units == self.quantity:
            return self.line_total
        if not self.discount:
            return self.unit_price * units
        share = self.line_total * units / self.quantity
        return share.quantize(Decimal(1).scaleb(-minor_unit_digits()), rounding=ROUND_DOWN)


class FulfilmentQuerySet(models.QuerySet):
    def holding_stock(self):
        return self.filter(status__in=FULFILMENT_STATUSES_HOLDING_STOCK)


class Fulfilment(models.Model):
    """One way part (today: all) of an order reaches the shopper: its method, the stock location
    its units come from, its lines, its status and its timeline (events with this fulfilment).

    The method's own details live in the app that runs it (pickup.Pickup: code, slot, vehicle,
    collector, curbside check-in). Status changes go through orders.services, which checks
    FULFILMENT_TRANSITIONS; the order's status summarises its fulfilments.
    """

    order = models.ForeignKey(Order, verbose_name=_("order"), related_name="fulfilments", on_delete=models.CASCADE)
    method = models.CharField(
        _("method"), max_length=16, choices=FulfilmentMethod.choices, default=FulfilmentMethod.IN_STORE
    )
    stock_location = models.ForeignKey(
        "stores.Store", verbose_name=_("stock location"), related_name="fulfilments", on_delete=models.PROTECT
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=FulfilmentStatus.choices,
        default=FulfilmentStatus.PENDING,
        editable=False,
    )
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True, editable=False)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed over by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        editable=False,
    )

    objects = FulfilmentQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("fulfilment")
        verbose_name_plural = _("fulfilments")
        indexes = [
            models.Index(fields=["stock_location", "status"], name="fulfilment_location_status_idx"),
            # The analytics roll-up reads a range of days' completed fulfilments (analytics.rollups).
            models.Index(fields=["fulfilled_at"], name="fulfilment_fulfilled_at_idx"),
        ]

    def __str__(self):
        return f"{self.order} – {self.get_method_display()}"

    @property
    def is_open(self):
        return self.status in FULFILMENT_STATUSES_HOLDING_STOCK

    @property
    def is_curbside(self):
        return self.method == FulfilmentMethod.CURBSIDE

    @property
    def is_pickup(self):
        return self.method in PICKUP_METHODS

    @property
    def stage(self) -> OrderStatus:
        """This fulfilment's step in the order's terms (stage_of): "ready for pickup", "shipped"…"""
        return stage_of(method=self.method, status=self.status)


class FulfilmentLine(models.Model):
    """How many units of an order line a fulfilment carries. The units of one order line over all
    its fulfilments never exceed the line's quantity (orders.services.create_fulfilment checks)."""

    fulfilment = models.ForeignKey(
        Fulfilment, verbose_name=_("fulfilment"), related_name="lines", on_delete=models.CASCADE
    )
    order_line = models.ForeignKey(
        OrderLine, verbose_name=_("order line"), related_name="fulfilment_lines", on_delete=models.CASCADE
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    # Set at hand-over (orders.services.hand_over_fulfilment): the units the shopper took. The
    # rest (quantity - handed_over) was not handed over and went back on sale. Empty until then.
    handed_over = models.PositiveIntegerField(_("handed over"), null=True, blank=True, editable=False)
    # Set when staff put this line aside for pickup (pickup.services.mark_lines_ready, or the whole
    # order at once): the shopper may collect the lines that are ready before the rest.
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("fulfilment line")
        verbose_name_plural = _("fulfilment lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="fulfilment_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(handed_over__isnull=True) | Q(handed_over__lte=models.F("quantity")),
                name="fulfilment_line_handed_over_within_quantity",
            ),
            models.UniqueConstraint(fields=["fulfilment", "order_line"], name="fulfilment_line_unique_per_line"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.order_line}"

    @property
    def not_handed_over(self) -> int:
        return self.quantity - self.handed_over if self.handed_over is not None else 0


class OrderEvent(models.Model):
    """One row per status change: the shopper's timeline and the manager's audit trail.

    `fulfilment` is set on what concerns one fulfilment: its own status changes (kind
    FULFILMENT_STATUS), check-ins, a changed collector, and the order's status change that moved
    its only fulfilment along (so a one-fulfilment order has one row per move, as before).
    """

    order = models.ForeignKey(Order, verbose_name=_("order"), related_name="events", on_delete=models.CASCADE)
    fulfilment = models.ForeignKey(
        Fulfilment,
        verbose_name=_("fulfilment"),
        null=True,
        blank=True,
        related_name="events",
        on_delete=models.SET_NULL,
    )
    kind = models.CharField(_("what"), max_length=20, choices=OrderActivity.choices, default=OrderActivity.STATUS)
    from_status = models.CharField(_("from"), max_length=20, choices=EVENT_STATUS_CHOICES, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=EVENT_STATUS_CHOICES)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        # The analytics roll-up reads a range of days' events of one kind (made ready, cancelled
        # while ready: analytics.rollups); without it each day range scans every order's events.
        indexes = [models.Index(fields=["to_status", "created_at"], name="order_event_status_time_idx")]

    def __str__(self):
        return f"{self.order}: {self.from_status or '—'} → {self.to_status}"


# --- the notification outbox (orders.notifications) ---------------------------------------------


class NotificationKind(models.TextChoices):
    """The e-mails a shopper gets about an order; each has a builder in O2O_NOTIFICATION_EMAILS."""

    ORDER_RECEIVED = "order_received", _("Order received")
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    PICKUP_REMINDER = "pickup_reminder", _("Pickup reminder")
    ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
    RECEIPT = "receipt", _("Receipt")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    # One per return (Notification.reference is the return's code).
    RETURN_REQUESTED = "return_requested", _("Return started")
    RETURN_RECEIPT = "return_receipt", _("Return receipt")
    # "2 of 3 items are ready": one per change (Notification.reference is "ready/total" units).
    PARTLY_READY = "partly_ready", _("Some items ready for pickup")
    SHIPPED = "shipped", _("Shipped")
    # Money given back without a return (a return's receipt says it): one per refund
    # (Notification.reference is the payment.Refund's id).
    REFUND = "refund", _("Refund")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # A worker died while handing the e-mail to the mail server and the server cannot tell
    # whether it arrived: a person decides (resend or mark sent), so it is never sent twice by us.
    UNCONFIRMED = "unconfirmed", _("Unconfirmed (check and resend)")


class Notification(models.Model):
    """One message to a shopper about an order, unique per (order, kind, reference).

    The row is written in the same transaction as the change that causes it (a transactional
    outbox, orders.notifications.outbox); orders.notifications.delivery sends it: a task claims the
    row (sending, with a claim token), sends, and marks it sent, so a duplicate or retried task
    sends nothing, and the relay (orders.notifications.relay) re-queues rows whose task never ran
    or whose worker died.
    """

    order = models.ForeignKey(Order, verbose_name=_("order"), related_name="notifications", on_delete=models.CASCADE)
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    # What within the order the message is about, for kinds an order may have more than once (a
    # return's code); empty for the rest, which an order has once.
    reference = models.CharField(_("about"), max_length=40, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    recipient = models.EmailField(_("recipient"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # When a task for this row was last handed to the broker (or is due, for a retry); empty
    # while the broker was unreachable, which is what the relay looks for.
    dispatched_at = models.DateTimeField(_("queued for the worker at"), null=True, blank=True)
    # The delivery that owns the row while it is "sending": who (the task id) and since when.
    claim_token = models.CharField(_("claimed by"), max_length=64, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # Set, and committed, just before the message is handed to the mail server: a claim that
    # died without it certainly sent nothing; one that died with it may have.
    send_started_at = models.DateTimeField(_("handed to the mail server at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind", "reference"], name="notification_unique_per_order_kind_reference"
            ),
        ]
        indexes = [models.Index(fields=["status", "dispatched_at"], name="notification_relay_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.order}"
