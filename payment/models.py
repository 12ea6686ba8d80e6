"""A payment for an order (django-payments' BasePayment, one row per attempt) and its history.

django-payments' providers move a payment by calling `payment.change_status()`. That only ever
happens inside `payment.services`, which holds the payment's row lock, decides the amounts itself
and writes one `PaymentEvent` per change; `change_status` refuses to run anywhere else, so no
change can go unrecorded.
"""

import datetime
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

import payments
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from payments.models import BasePayment


class PaymentStatus(models.TextChoices):
    """django-payments' status values, named as the shop speaks of them."""

    WAITING = payments.PaymentStatus.WAITING, _("Not started")
    INPUT = payments.PaymentStatus.INPUT, _("Being paid")
    PREAUTH = payments.PaymentStatus.PREAUTH, _("Authorised")
    CONFIRMED = payments.PaymentStatus.CONFIRMED, _("Captured")
    REJECTED = payments.PaymentStatus.REJECTED, _("Declined")
    ERROR = payments.PaymentStatus.ERROR, _("Failed")
    CANCELLED = payments.PaymentStatus.CANCELLED, _("Cancelled")
    REFUNDED = payments.PaymentStatus.REFUNDED, _("Refunded")


# The one table of legal moves; payment.services enforces it. An authorisation that is released
# without any capture is "cancelled" (no money was taken), not "refunded" as django-payments'
# own release() would call it. A partial capture, release or refund keeps the status and is
# still an event.
PAYMENT_TRANSITIONS = {
    PaymentStatus.WAITING: {
        PaymentStatus.INPUT,
        PaymentStatus.PREAUTH,
        PaymentStatus.CONFIRMED,
        PaymentStatus.REJECTED,
        PaymentStatus.ERROR,
        PaymentStatus.CANCELLED,
    },
    PaymentStatus.INPUT: {
        PaymentStatus.PREAUTH,
        PaymentStatus.CONFIRMED,
        PaymentStatus.REJECTED,
        PaymentStatus.ERROR,
        PaymentStatus.CANCELLED,
    },
    PaymentStatus.PREAUTH: {PaymentStatus.CONFIRMED, PaymentStatus.CANCELLED, PaymentStatus.REJECTED},
    PaymentStatus.CONFIRMED: {PaymentStatus.REFUNDED},
    PaymentStatus.REJECTED: set(),
    PaymentStatus.ERROR: set(),
    PaymentStatus.CANCELLED: set(),
    PaymentStatus.REFUNDED: set(),
}


class PaymentEventKind(models.TextChoices):
    STATUS = "status", _("Status change")
    CAPTURE = "capture", _("Capture")
    RELEASE = "release", _("Release")
    REFUND = "refund", _("Refund")
    # Paid at the store's till (payment.services.record_till_payment): the till is the record.
    TILL = "till", _("Paid at the till")
    # A capture the provider refused or could not make at hand-over; nothing changed.
    CAPTURE_FAILED = "capture_failed", _("Capture failed")


# A payment taken at the store's till, recorded by staff (payment.services.record_till_payment).
# It is not a django-payments provider: no shopper is ever sent to it.
TILL_VARIANT = "till"


class PaymentEventSource(models.TextChoices):
    """Who moved the payment: the shopper (the payment page, the return from the provider), a
    provider's webhook, staff (capture, refund) or the shop itself (a scheduled task)."""

    SHOPPER = "shopper", _("Shopper")
    # The shopper's browser coming back from the provider's page (after 3-D Secure, say).
    RETURN = "return", _("Shopper's return from the provider")
    WEBHOOK = "webhook", _("Provider webhook")
    STAFF = "staff", _("Staff")
    SHOP = "shop", _("The shop")


_changes_recorded: ContextVar[bool] = ContextVar("payment_changes_recorded", default=False)


class UnrecordedPaymentChange(RuntimeError):
    pass


class Payment(BasePayment):
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), related_name="payments", on_delete=models.PROTECT
    )
    status = models.CharField(_("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.WAITING)
    # As wide as an order's total (django-payments' own fields stop at 9 digits).
    total = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=Decimal("0"))
    # Money taken, in total, and what was given back of it; an authorisation's remainder that was
    # let go uncaptured is released. captured + released never exceed the total, refunded never
    # exceeds captured: the database keeps both true even under concurrent staff actions.
    captured_amount = models.DecimalField(_("captured"), max_digits=12, decimal_places=2, default=Decimal("0"))
    refunded_amount = models.DecimalField(_("refunded"), max_digits=12, decimal_places=2, default=Decimal("0"))
    released_amount = models.DecimalField(_("released"), max_digits=12, decimal_places=2, default=Decimal("0"))
    # When an authorisation can no longer be captured: set when the payment is authorised, from
    # the provider's validity (PAYMENT_AUTHORISATION_DAYS). Pickup times after it are not offered.
    authorisation_expires_at = models.DateTimeField(_("authorisation expires at"), null=True, blank=True, db_index=True)
    # A till payment's receipt number, from the till (variant "till" only).
    till_receipt_number = models.CharField(_("till receipt number"), max_length=40, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="payment_total_not_negative"),
            models.CheckConstraint(
                condition=Q(captured_amount__gte=0, refunded_amount__gte=0, released_amount__gte=0),
                name="payment_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(captured_amount__lte=F("total") - F("released_amount")),
                name="payment_captured_within_authorised",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("captured_amount")), name="payment_refunded_within_captured"
            ),
        ]

    def __str__(self):
        return f"{self.order_id} {self.variant} {self.status}"

    # django-payments sends the shopper here after paying, or failing to: the order page, which
    # says what happened (absolute, as providers such as Stripe require).
    def get_success_url(self) -> str:
        return self._order_page()

    def get_failure_url(self) -> str:
        return self._order_page()

    def _order_page(self) -> str:
        path = reverse("checkout:order_detail", kwargs={"token": self.order.access_token})
        return settings.SITE_URL.rstrip("/") + path

    def get_purchased_items(self):
        # The order is the purchase: one item for its total, so providers charge exactly it.
        yield payments.PurchasedItem(
            name=str(self.order.number), quantity=1, price=self.total, currency=self.currency, sku=self.order.number
        )

    @property
    def is_till(self) -> bool:
        return self.variant == TILL_VARIANT

    @property
    def capturable_amount(self) -> Decimal:
        return self.total - self.captured_amount - self.released_amount

    @property
    def refundable_amount(self) -> Decimal:
        return self.captured_amount - self.refunded_amount

    def change_status(self, status, message="") -> None:
        """django-payments' providers call this; payment.services lets them (see the module doc)."""
        if not _changes_recorded.get():
            raise UnrecordedPaymentChange(
                "A payment changes only through payment.services, which records every change."
            )
        super().change_status(status, message)

    change_status.alters_data = True

    def save(self, *args, **kwargs):
        if _changes_recorded.get() and self.pk is not None:
            # A provider saving a payment in the middle of a call payment.services records: the
            # row is written once, when the call is recorded (services._record, in the same
            # transaction, right after it); a call that fails writes nothing either way. The
            # Dummy provider saved an authorisation three times.
            return
        super().save(*args, **kwargs)

    save.alters_data = True

    @staticmethod
    @contextmanager
    def changes_recorded():
        """Used by payment.services around a provider call it records."""
        token = _changes_recorded.set(True)
        try:
            yield
        finally:
            _changes_recorded.reset(token)


# A payment still being paid: the shopper may come back to it, or it may still succeed.
OPEN_PAYMENT_STATUSES = (PaymentStatus.WAITING, PaymentStatus.INPUT)
# A payment that paid: the money is authorised or was taken.
SUCCEEDED_PAYMENT_STATUSES = (PaymentStatus.PREAUTH, PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED)
# A payment attempt that ended without paying (the shopper may try again with a new one).
FAILED_PAYMENT_STATUSES = (PaymentStatus.REJECTED, PaymentStatus.ERROR, PaymentStatus.CANCELLED)


def authorisation_validity(variant: str):
    """How long an authorisation by provider `variant` can be captured (PAYMENT_AUTHORISATION_DAYS;
    7 days for a provider not listed, the shortest a card allows)."""
    return datetime.timedelta(days=settings.PAYMENT_AUTHORISATION_DAYS.get(variant, 7))


class PaymentEvent(models.Model):
    """One row per change of a payment: its status, or money captured, released or refunded."""

    payment = models.ForeignKey(Payment, verbose_name=_("payment"), related_name="events", on_delete=models.CASCADE)
    kind = models.CharField(_("what"), max_length=20, choices=PaymentEventKind.choices)
    from_status = models.CharField(_("from"), max_length=10, choices=PaymentStatus.choices)
    to_status = models.CharField(_("to"), max_length=10, choices=PaymentStatus.choices)
    # The money this change concerns: the amount authorised or charged for a status change, the
    # amount moved for a capture, release or refund. Always the shop's figure, never a provider's.
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    source = models.CharField(_("source"), max_length=10, choices=PaymentEventSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    # The provider's reference for the change (a webhook's or a capture's), when there is one.
    provider_reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")

    def __str__(self):
        return f"{self.payment_id}: {self.kind} {self.from_status} → {self.to_status} {self.amount}"


# --- receipts (payment.receipts) ----------------------------------------------------------------


class ReceiptSequence(models.Model):
    """The counter receipt numbers are drawn from: one row for the shop (SHOP_SEQUENCE), so the
    numbers of all stores form one continuous series. payment.receipts.issue_receipt increments
    it in the capture's transaction: its row lock makes concurrent captures queue for the next
    number, and a capture that rolls back rolls its number back too, so there is never a gap."""

    SHOP = "shop"

    name = models.CharField(_("series"), max_length=20, primary_key=True)
    last_number = models.PositiveBigIntegerField(_("last number issued"), default=0)

    class Meta:
        verbose_name = _("receipt number sequence")
        verbose_name_plural = _("receipt number sequences")

    def __str__(self):
        return f"{self.name}: {self.last_number}"


class Receipt(models.Model):
    """What the shopper was charged when money was captured: a numbered, immutable record.

    Everything printed is a snapshot taken when it was issued (seller, store, lines, VAT, how it
    was paid), so a later change of the seller's details, the store or the catalog never changes
    a receipt. Issued only by payment.receipts.issue_receipt.
    """

    number = models.PositiveBigIntegerField(_("receipt number"), unique=True, editable=False)
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), related_name="receipts", on_delete=models.PROTECT
    )
    payment = models.ForeignKey(Payment, verbose_name=_("payment"), related_name="receipts", on_delete=models.PROTECT)
    issued_at = models.DateTimeField(_("issued at"))
    # The selling store's time zone: the receipt's date is that store's date.
    time_zone = models.CharField(_("time zone"), max_length=64)
    country = models.CharField(_("country code"), max_length=2)
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    vat_amount = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)
    seller_name = models.CharField(_("seller"), max_length=200)
    seller_address = models.CharField(_("seller's address"), max_length=255, blank=True)
    # As the seller's country writes it: "Kt. 550123-4567 · VSK-nr. 123456" / "Org.nr. 923 456 789 MVA".
    seller_registration = models.CharField(_("seller's registration"), max_length=255, blank=True)
    store_name = models.CharField(_("store"), max_length=120)
    store_address = models.CharField(_("store address"), max_length=255)
    # The payment's provider (a PAYMENT_VARIANTS name) and its reference for the payment.
    provider = models.CharField(_("paid with"), max_length=255)
    payment_reference = models.CharField(_("payment reference"), max_length=255, blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.CheckConstraint(condition=Q(number__gte=1), name="receipt_number_positive"),
            models.CheckConstraint(
                condition=Q(total__gt=0, vat_amount__gte=0, vat_amount__lte=F("total")),
                name="receipt_vat_within_total",
            ),
        ]

    def __str__(self):
        return str(self.number)


class ReceiptLine(models.Model):
    """One line of a receipt: units of an order line that were captured, with their VAT."""

    receipt = models.ForeignKey(Receipt, verbose_name=_("receipt"), related_name="lines", on_delete=models.CASCADE)
    order_line = models.ForeignKey(
        "orders.OrderLine", verbose_name=_("order line"), related_name="receipt_lines", on_delete=models.PROTECT
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
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="receipt_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name}"

    @property
    def discount(self) -> Decimal:
        """What the units' price was lowered by (their share of a coupon or points): unit_price ×
        quantity − line_total, so a receipt's line explains its amount."""
        return max(self.unit_price * self.quantity - self.line_total, Decimal(0))


# --- refunds (payment.services.refund_order) ----------------------------------------------------


class RefundReason(models.TextChoices):
    RETURNED = "returned", _("Returned by the shopper")
    FAULTY = "faulty", _("Faulty or damaged")
    NOT_HANDED_OVER = "not_handed_over", _("Not handed over")
    GOODWILL = "goodwill", _("Goodwill or price adjustment")
    OTHER = "other", _("Other (see note)")


class Refund(models.Model):
    """Money given back from one payment of an order, by lines or by an amount, with its reason
    (payment.services.refund_order). Its lines say which units of which order lines it was for,
    so returns can count what was already refunded per line; an amount refund has no lines."""

    order = models.ForeignKey("orders.Order", verbose_name=_("order"), related_name="refunds", on_delete=models.PROTECT)
    payment = models.ForeignKey(Payment, verbose_name=_("payment"), related_name="refunds", on_delete=models.PROTECT)
    # The payment's refund event: the row that moved the money.
    event = models.OneToOneField(
        PaymentEvent, verbose_name=_("payment event"), related_name="refund", on_delete=models.PROTECT
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=20, choices=RefundReason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    # A till payment is refunded at the till: its return receipt's number.
    till_receipt_number = models.CharField(_("till receipt number"), max_length=40, blank=True)
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
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self):
        return f"{self.order_id}: {self.amount} ({self.reason})"


class RefundLine(models.Model):
    """Units of one order line a refund gave the money back for, and that money."""

    refund = models.ForeignKey(Refund, verbose_name=_("refund"), related_name="lines", on_delete=models.CASCADE)
    order_line = models.ForeignKey(
        "orders.OrderLine", verbose_name=_("order line"), related_name="refund_lines", on_delete=models.PROTECT
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("refunded line")
        verbose_name_plural = _("refunded lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="refund_line_quantity_positive"),
            models.UniqueConstraint(fields=["refund", "order_line"], name="refund_line_unique_per_line"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.order_line_id}"
