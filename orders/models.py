from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

ORDER_LINK_SALT = "orders.order-page"


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    COLLECTED = "collected", _("Collected")
    CANCELLED = "cancelled", _("Cancelled")


# The one table of legal moves; orders.services.transition_order enforces it.
ORDER_TRANSITIONS = {
    OrderStatus.PLACED: {OrderStatus.READY_FOR_PICKUP, OrderStatus.CANCELLED},
    OrderStatus.READY_FOR_PICKUP: {OrderStatus.COLLECTED, OrderStatus.CANCELLED},
    OrderStatus.COLLECTED: set(),
    OrderStatus.CANCELLED: set(),
}

# Orders in these states hold units reserved at their store.
STATUSES_HOLDING_STOCK = (OrderStatus.PLACED, OrderStatus.READY_FOR_PICKUP)


class Fulfilment(models.TextChoices):
    IN_STORE = "in_store", _("Pickup in store")
    CURBSIDE = "curbside", _("Curbside pickup")


class OrderActivity(models.TextChoices):
    """What an event row records: a status change, or something that happened within a status."""

    STATUS = "status", _("Status change")
    ON_THE_WAY = "on_the_way", _("On the way")
    ARRIVED = "arrived", _("Checked in at the store")
    COLLECTOR_CHANGED = "collector_changed", _("Collector changed")
    REMINDED = "reminded", _("Pickup reminder sent")
    EMAILED = "emailed", _("E-mail sent")


class CancelReason(models.TextChoices):
    """Why an order was cancelled: on the order, its page and the shopper's e-mail."""

    STORE = "store", _("Cancelled by the store")
    NOT_COLLECTED = "not_collected", _("Not collected in time")
    SHOPPER = "shopper", _("Cancelled by the shopper")


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
    store = models.ForeignKey(
        "stores.Store", verbose_name=_("pickup store"), related_name="orders", on_delete=models.PROTECT
    )
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED, editable=False
    )
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    # Random, not derived from the number: the shopper shows it, staff verify it at hand-over.
    pickup_code = models.CharField(_("pickup code"), max_length=12, editable=False)
    language = models.CharField(_("language"), max_length=10, default="en")
    fulfilment = models.CharField(
        _("pickup method"), max_length=16, choices=Fulfilment.choices, default=Fulfilment.IN_STORE
    )
    vehicle_description = models.CharField(
        _("vehicle"), max_length=120, blank=True, help_text=_("For curbside pickup, e.g. “red Toyota Yaris, AB-123”.")
    )
    # Someone other than the shopper may collect (a gift, a partner); staff see the name at hand-over.
    collector_name = models.CharField(_("collected by (name)"), max_length=150, blank=True)
    # The pickup time the shopper chose, as the slot was when the order was placed (aware, UTC).
    pickup_slot_start = models.DateTimeField(_("pickup slot"), null=True, blank=True, editable=False)
    pickup_slot_end = models.DateTimeField(_("pickup slot ends"), null=True, blank=True, editable=False)
    # The one-time token of the checkout page that placed the order: a double submit finds
    # this order instead of placing a second one (unique, so it holds across processes).
    checkout_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True, db_index=True)
    collected_at = models.DateTimeField(_("collected at"), null=True, blank=True, editable=False)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed over by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        editable=False,
    )
    # Set by orders.services.cancel_order; blank unless cancelled.
    cancel_reason = models.CharField(
        _("cancelled because"), max_length=16, choices=CancelReason.choices, blank=True, editable=False
    )

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["store", "status", "-created_at"], name="order_store_status_idx"),
            models.Index(fields=["store", "pickup_slot_start"], name="order_store_slot_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(pickup_slot_start__isnull=True) | Q(pickup_slot_end__gt=F("pickup_slot_start")),
                name="order_slot_ends_after_start",
            ),
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
    def qr_payload(self):
        return f"O2O:{self.number}:{self.pickup_code}"

    @property
    def is_open(self):
        return self.status in STATUSES_HOLDING_STOCK

    @property
    def is_curbside(self):
        return self.fulfilment == Fulfilment.CURBSIDE

    @property
    def collector(self):
        """Who comes for the order: the named collector, else the shopper."""
        return self.collector_name or self.contact_name

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

    class Meta:
        ordering = ["pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name}"


class OrderEvent(models.Model):
    """One row per status change: the shopper's timeline and the manager's audit trail."""

    order = models.ForeignKey(Order, verbose_name=_("order"), related_name="events", on_delete=models.CASCADE)
    kind = models.CharField(_("what"), max_length=20, choices=OrderActivity.choices, default=OrderActivity.STATUS)
    from_status = models.CharField(_("from"), max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=OrderStatus.choices)
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

    def __str__(self):
        return f"{self.order}: {self.from_status or '—'} → {self.to_status}"


# --- the notification outbox (orders.notifications) ---------------------------------------------


class NotificationKind(models.TextChoices):
    """The e-mails a shopper gets about an order; each has a builder in O2O_NOTIFICATION_EMAILS."""

    ORDER_RECEIVED = "order_received", _("Order received")
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    PICKUP_REMINDER = "pickup_reminder", _("Pickup reminder")
    ORDER_CANCELLED = "order_cancelled", _("Order cancelled")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # A worker died while handing the e-mail to the mail server and the server cannot tell
    # whether it arrived: a person decides (resend or mark sent), so it is never sent twice by us.
    UNCONFIRMED = "unconfirmed", _("Unconfirmed (check and resend)")


class Notification(models.Model):
    """One message to a shopper about an order, unique per (order, kind).

    The row is written in the same transaction as the change that causes it (a transactional
    outbox, orders.notifications.outbox); orders.notifications.delivery sends it: a task claims the
    row (sending, with a claim token), sends, and marks it sent, so a duplicate or retried task
    sends nothing, and the relay (orders.notifications.relay) re-queues rows whose task never ran
    or whose worker died.
    """

    order = models.ForeignKey(Order, verbose_name=_("order"), related_name="notifications", on_delete=models.CASCADE)
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
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
            models.UniqueConstraint(fields=["order", "kind"], name="notification_unique_per_order_kind"),
        ]
        indexes = [models.Index(fields=["status", "dispatched_at"], name="notification_relay_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.order}"
