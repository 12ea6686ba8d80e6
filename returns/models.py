"""Returns in any store of what was bought online: the return, its lines and the condition of each
unit, the stock each unit moved, the money given back (to the original payment through
payment.services, or as store credit) and the return receipt.

Rows change only through returns.services; the status table below is enforced there.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ReturnStatus(models.TextChoices):
    # The shopper started it online: a code to show at a store; nothing has moved yet.
    REQUESTED = "requested", _("Requested")
    # Staff took the units back at a store: the stock moved, the refund is being made.
    RECEIVED = "received", _("Received")
    # The payment provider failed to refund: retried (returns.tasks, the beat sweep) until it does.
    REFUND_PENDING = "refund_pending", _("Refund pending")
    REFUNDED = "refunded", _("Refunded")
    # Refunded and every unit decided (none waits for inspection).
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


# The one table of legal moves; returns.services.transition_return enforces it.
RETURN_TRANSITIONS = {
    ReturnStatus.REQUESTED: {ReturnStatus.RECEIVED, ReturnStatus.CANCELLED},
    ReturnStatus.RECEIVED: {ReturnStatus.REFUND_PENDING, ReturnStatus.REFUNDED},
    ReturnStatus.REFUND_PENDING: {ReturnStatus.REFUNDED},
    ReturnStatus.REFUNDED: {ReturnStatus.CLOSED},
    ReturnStatus.CLOSED: set(),
    ReturnStatus.CANCELLED: set(),
}

# Returns whose units are back with the shop (they count against what may still be returned).
RECEIVED_STATUSES = (ReturnStatus.RECEIVED, ReturnStatus.REFUND_PENDING, ReturnStatus.REFUNDED, ReturnStatus.CLOSED)
# Returns whose money has been given back.
REFUNDED_STATUSES = (ReturnStatus.REFUNDED, ReturnStatus.CLOSED)


class ReturnReason(models.TextChoices):
    DOES_NOT_FIT = "does_not_fit", _("Does not fit")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    FAULTY = "faulty", _("Faulty or damaged")
    WRONG_ITEM = "wrong_item", _("Wrong item")
    CHANGED_MIND = "changed_mind", _("Changed my mind")
    OTHER = "other", _("Other")


class Resolution(models.TextChoices):
    """What the shopper gets back. Store credit only when the shopper chooses it."""

    # In staff's words (the take-back screen, the admin's lists); the shopper's form says it in
    # theirs (returns.forms.SHOPPER_RESOLUTION_CHOICES).
    ORIGINAL_PAYMENT = "original_payment", _("Refund to the original payment")
    STORE_CREDIT = "store_credit", _("Store credit")
    # Another size or item from the returning store's stock, in one step: a dearer one is paid
    # for at the till, a cheaper one's difference goes back to how the shopper paid.
    EXCHANGE = "exchange", _("Exchange for another size or item")


class Condition(models.TextChoices):
    """The condition of a returned unit, decided by staff at the store."""

    RESELLABLE = "resellable", _("Resellable")
    DAMAGED = "damaged", _("Damaged")
    TO_INSPECT = "to_inspect", _("To be inspected")


class ReturnQuerySet(models.QuerySet):
    def for_stores_managed_by(self, user):
        """Returns a manager may see: taken at their stores, or of orders of their stores."""
        if user.is_superuser:
            return self
        return self.filter(Q(store__managers=user) | Q(order__store__managers=user)).distinct()


class Return(models.Model):
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), related_name="returns", on_delete=models.PROTECT)
    # Shown as text and QR code at the store; unguessable, so it alone finds the order there.
    code = models.CharField(_("return code"), max_length=16, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED, editable=False
    )
    resolution = models.CharField(
        _("refund as"), max_length=20, choices=Resolution.choices, default=Resolution.ORIGINAL_PAYMENT
    )
    # The store the units were brought back to: their stock goes there, whichever store sold them.
    store = models.ForeignKey(
        "stores.Store",
        verbose_name=_("returned at"),
        null=True,
        blank=True,
        related_name="returns",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    # The server's figure (returns.pricing), set when the units are received.
    refund_amount = models.DecimalField(_("refund"), max_digits=12, decimal_places=2, default=0)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    refund = models.OneToOneField(
        "payment.Refund",
        verbose_name=_("refund on the payment"),
        null=True,
        blank=True,
        related_name="order_return",
        on_delete=models.PROTECT,
    )
    # Paid at the till: the till's return receipt number, entered when the units are received.
    till_receipt_number = models.CharField(_("till receipt number"), max_length=40, blank=True)
    # An exchange: what the items given out came to, and what the shopper paid for a dearer one
    # at the till with that sale's receipt number (a cheaper one's difference is refund_amount).
    exchange_total = models.DecimalField(_("given in exchange"), max_digits=12, decimal_places=2, default=0)
    difference_paid = models.DecimalField(_("difference paid"), max_digits=12, decimal_places=2, default=0)
    difference_receipt_number = models.CharField(_("till receipt number of the difference"), max_length=40, blank=True)
    refund_attempts = models.PositiveIntegerField(_("refund attempts"), default=0)
    last_refund_error = models.CharField(_("last refund error"), max_length=255, blank=True)
    # A manager took the return after the window: who, why, when.
    window_overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("window overridden by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    window_override_reason = models.CharField(_("why the window was overridden"), max_length=255, blank=True)
    window_overridden_at = models.DateTimeField(_("window overridden at"), null=True, blank=True)

    objects = ReturnQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        constraints = [
            models.CheckConstraint(condition=Q(refund_amount__gte=0), name="return_refund_not_negative"),
            models.CheckConstraint(
                condition=Q(exchange_total__gte=0, difference_paid__gte=0), name="return_exchange_not_negative"
            ),
            # Money goes one way in an exchange: the shopper pays the difference or gets it back.
            models.CheckConstraint(
                condition=Q(difference_paid=0) | Q(refund_amount=0), name="return_difference_one_way"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[ReturnStatus.REQUESTED, ReturnStatus.CANCELLED]) | Q(store__isnull=False),
                name="return_received_at_a_store",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="return_status_idx")]

    def __str__(self):
        return self.code

    @property
    def qr_payload(self) -> str:
        return f"O2O-RETURN:{self.code}"

    @property
    def is_refunded(self) -> bool:
        return self.status in REFUNDED_STATUSES


class ReturnLine(models.Model):
    """Units of one order line brought back, why, and how many are in each condition (set when
    received: resellable + damaged + to inspect = quantity). Units to inspect are decided later,
    each into resellable or damaged (inspected_*)."""

    order_return = models.ForeignKey(Return, verbose_name=_("return"), related_name="lines", on_delete=models.CASCADE)
    order_line = models.ForeignKey(
        "orders.OrderLine", verbose_name=_("order line"), related_name="return_lines", on_delete=models.PROTECT
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    reason = models.CharField(_("reason"), max_length=20, choices=ReturnReason.choices)
    reason_note = models.CharField(_("reason, in words"), max_length=255, blank=True)
    amount = models.DecimalField(_("refund"), max_digits=12, decimal_places=2, default=0)
    resellable = models.PositiveIntegerField(_("resellable"), default=0)
    damaged = models.PositiveIntegerField(_("damaged"), default=0)
    to_inspect = models.PositiveIntegerField(_("to be inspected"), default=0)
    inspected_resellable = models.PositiveIntegerField(_("resellable after inspection"), default=0)
    inspected_damaged = models.PositiveIntegerField(_("damaged after inspection"), default=0)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("returned line")
        verbose_name_plural = _("returned lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="return_line_quantity_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="return_line_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(resellable=0, damaged=0, to_inspect=0)
                | Q(quantity=F("resellable") + F("damaged") + F("to_inspect")),
                name="return_line_conditions_cover_quantity",
            ),
            models.CheckConstraint(
                condition=Q(to_inspect__gte=F("inspected_resellable") + F("inspected_damaged")),
                name="return_line_inspected_within_held",
            ),
            models.UniqueConstraint(fields=["order_return", "order_line"], name="return_line_unique_per_line"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.order_line_id}"

    @property
    def awaiting_inspection(self) -> int:
        return self.to_inspect - self.inspected_resellable - self.inspected_damaged


class ExchangeLine(models.Model):
    """Units given to the shopper in an exchange, from the stock of the store the return was taken
    at: the product as it was priced then (a snapshot, as order lines keep), with the VAT in it."""

    order_return = models.ForeignKey(
        Return, verbose_name=_("return"), related_name="exchange_lines", on_delete=models.CASCADE
    )
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), null=True, related_name="+", on_delete=models.SET_NULL
    )
    product_name = models.CharField(_("product name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    vat_amount = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("item given in exchange")
        verbose_name_plural = _("items given in exchange")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="exchange_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(line_total__gte=0, vat_amount__gte=0, vat_amount__lte=F("line_total")),
                name="exchange_line_vat_within_total",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name}"


class MovementKind(models.TextChoices):
    RESTOCKED = "restocked", _("Back in stock")
    WRITTEN_OFF = "written_off", _("Written off")
    HELD = "held", _("Held for inspection")
    # Units of another product given out in an exchange (the row's product; return_line is null).
    EXCHANGED_OUT = "exchanged_out", _("Given in exchange")


class StockMovement(models.Model):
    """One row per movement of returned units: back on hand at the returning store (the stock
    record changed through stores.services), written off as damaged, or held apart for inspection
    (not on sale; a manager decides later, which writes a second row); and one per line of units
    given out in an exchange, out of that store's stock."""

    return_line = models.ForeignKey(
        ReturnLine,
        verbose_name=_("returned line"),
        null=True,
        blank=True,
        related_name="movements",
        on_delete=models.CASCADE,
    )
    # Units given out in an exchange move out of the store's stock: one row for each line of them.
    exchange_line = models.ForeignKey(
        ExchangeLine,
        verbose_name=_("item given in exchange"),
        null=True,
        blank=True,
        related_name="movements",
        on_delete=models.CASCADE,
    )
    store = models.ForeignKey("stores.Store", verbose_name=_("store"), related_name="+", on_delete=models.PROTECT)
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), null=True, related_name="+", on_delete=models.SET_NULL
    )
    kind = models.CharField(_("what"), max_length=20, choices=MovementKind.choices)
    quantity = models.PositiveIntegerField(_("quantity"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("stock movement of a return")
        verbose_name_plural = _("stock movements of returns")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="stock_movement_quantity_positive"),
            models.CheckConstraint(
                condition=Q(return_line__isnull=False, exchange_line__isnull=True)
                | Q(return_line__isnull=True, exchange_line__isnull=False, kind="exchanged_out"),
                name="stock_movement_of_a_returned_or_exchanged_line",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.quantity}"


class ReturnEvent(models.Model):
    """One row per status change of a return: who, when, from, to, and a note."""

    order_return = models.ForeignKey(Return, verbose_name=_("return"), related_name="events", on_delete=models.CASCADE)
    from_status = models.CharField(_("from"), max_length=20, choices=ReturnStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=ReturnStatus.choices)
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
        verbose_name = _("return event")
        verbose_name_plural = _("return events")

    def __str__(self):
        return f"{self.order_return_id}: {self.from_status or '—'} → {self.to_status}"


class StoreCredit(models.Model):
    """Store credit a shopper chose instead of a refund: an amount, a code to spend it with, and
    when it expires (STORE_CREDIT_VALID_YEARS). The ledger is one row per credit issued; spending
    it at checkout is not built yet."""

    code = models.CharField(_("code"), max_length=20, unique=True, editable=False)
    order_return = models.OneToOneField(
        Return, verbose_name=_("return"), related_name="store_credit", on_delete=models.PROTECT
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    issued_at = models.DateTimeField(_("issued at"))
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("store credit")
        verbose_name_plural = _("store credits")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="store_credit_amount_positive"),
            models.CheckConstraint(condition=Q(expires_at__gt=F("issued_at")), name="store_credit_expires_after_issue"),
        ]

    def __str__(self):
        return self.code


class ReturnReceiptSequence(models.Model):
    """The counter return receipt numbers are drawn from: one row, its own series apart from the
    sales receipts'. Incremented with an UPDATE in the refund's transaction (returns.receipts), so
    concurrent returns queue for the next number and a rolled-back one leaves no gap."""

    SHOP = "returns"

    name = models.CharField(_("series"), max_length=20, primary_key=True)
    last_number = models.PositiveBigIntegerField(_("last number issued"), default=0)

    class Meta:
        verbose_name = _("return receipt number sequence")
        verbose_name_plural = _("return receipt number sequences")

    def __str__(self):
        return f"{self.name}: {self.last_number}"


class ReturnReceipt(models.Model):
    """What was given back for a return: numbered from its own series, a snapshot of the seller,
    the store it was returned at, the lines with their VAT, and how the money went back."""

    number = models.PositiveBigIntegerField(_("return receipt number"), unique=True, editable=False)
    order_return = models.OneToOneField(
        Return, verbose_name=_("return"), related_name="receipt", on_delete=models.PROTECT
    )
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), related_name="return_receipts", on_delete=models.PROTECT
    )
    issued_at = models.DateTimeField(_("issued at"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    country = models.CharField(_("country code"), max_length=2)
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total refunded"), max_digits=12, decimal_places=2)
    vat_amount = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)
    seller_name = models.CharField(_("seller"), max_length=200)
    seller_address = models.CharField(_("seller's address"), max_length=255, blank=True)
    seller_registration = models.CharField(_("seller's registration"), max_length=255, blank=True)
    store_name = models.CharField(_("returned at"), max_length=120)
    store_address = models.CharField(_("store address"), max_length=255)
    # How the money went back: a PAYMENT_VARIANTS name, "till" or "store_credit"; and its reference.
    refunded_to = models.CharField(_("refunded to"), max_length=255)
    refund_reference = models.CharField(_("refund reference"), max_length=255, blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("return receipt")
        verbose_name_plural = _("return receipts")
        constraints = [
            models.CheckConstraint(condition=Q(number__gte=1), name="return_receipt_number_positive"),
            models.CheckConstraint(
                condition=Q(total__gte=0, vat_amount__gte=0, vat_amount__lte=F("total")),
                name="return_receipt_vat_within_total",
            ),
        ]

    def __str__(self):
        return str(self.number)


class ReturnReceiptLine(models.Model):
    receipt = models.ForeignKey(
        ReturnReceipt, verbose_name=_("return receipt"), related_name="lines", on_delete=models.CASCADE
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", verbose_name=_("order line"), related_name="+", on_delete=models.PROTECT
    )
    product_name = models.CharField(_("product name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64)
    quantity = models.PositiveIntegerField(_("quantity"))
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    vat_amount = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("return receipt line")
        verbose_name_plural = _("return receipt lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="return_receipt_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name}"
