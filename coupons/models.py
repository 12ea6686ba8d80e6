"""Coupons: what a discount is (Coupon), the codes that apply it (CouponCode, single-use ones made
in batches, CouponBatch) and every use of one (Redemption).

The rules a coupon carries (dates, minimum order, limits, stores, categories, channels) are
checked by coupons.services, under a lock on the coupon's row, so its limits hold when many
shoppers and tills use it at once; the database keeps a single-use code to one live redemption
and an order to one coupon (unique constraints) as the last guard.
"""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from o2o_site.dates import format_date
from o2o_site.till_receipts import normalised_receipt_check
from orders.models import Channel
from stores.models import Store

from .codes import MAX_CODE_LENGTH, display_code


class CouponKind(models.TextChoices):
    PERCENT = "percent", _("Percent off")
    AMOUNT = "amount", _("Amount off")
    FREE_DELIVERY = "free_delivery", _("Free delivery")


# Who may make and see coupons of any store, the chain-wide ones (no store chosen) included: head
# office's marketing staff are given it, and superusers have it. Store managers have not: theirs
# are the coupons restricted to their own stores (CouponQuerySet.for_stores_managed_by).
ANY_STORE_PERMISSION = "coupons.any_store_coupon"


class CouponQuerySet(models.QuerySet):
    def live_at(self, moment):
        """Active coupons whose validity includes `moment` (an aware datetime)."""
        return self.filter(is_active=True, valid_from__lte=moment).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=moment)
        )

    def not_over_at(self, moment):
        """Active coupons still valid at `moment` or later (live now, or starting later): what a
        campaign may still hand out."""
        return self.filter(is_active=True).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=moment))

    def for_stores_managed_by(self, user):
        """The coupons `user` may see, change and hand out in the admin: every coupon with
        ANY_STORE_PERMISSION; otherwise those restricted to one or more stores, all of them
        stores the user manages (Store.managers) — a chain-wide coupon, or one also valid at
        another store, is not theirs. Subqueries: one query, no duplicate rows."""
        if user.is_superuser or user.has_perm(ANY_STORE_PERMISSION):
            return self
        links = Coupon.stores.through.objects.filter(coupon_id=OuterRef("pk"))
        managed = Store.objects.managed_by(user).values("pk")
        return self.filter(Exists(links)).exclude(Exists(links.exclude(store_id__in=managed)))


class Coupon(models.Model):
    """A discount and the rules of its use. Its codes (CouponCode) are how shoppers and staff name
    it: one shared code ("SUMAR25") and/or single-use codes generated in batches."""

    name = models.CharField(_("name"), max_length=120, help_text=_("For staff: what the coupon is for."))
    kind = models.CharField(_("kind"), max_length=16, choices=CouponKind.choices)
    # Percent off: 0 < value ≤ 100. Amount off: in the shop's currency (VAT included, like prices).
    # Free delivery: 0 (the delivery or shipping fee is waived).
    value = models.DecimalField(
        _("value"),
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text=_("Per cent for a percent coupon; an amount in the shop's currency for an amount coupon."),
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True, help_text=_("Empty: no end."))
    minimum_order = models.DecimalField(
        _("minimum order"),
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text=_("The goods in the order (or the till purchase) must come to at least this much."),
    )
    limit_per_customer = models.PositiveIntegerField(
        _("uses per customer"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    limit_total = models.PositiveIntegerField(
        _("uses in total"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    stores = models.ManyToManyField(
        "stores.Store",
        verbose_name=_("stores"),
        blank=True,
        related_name="+",
        help_text=_("Only at these stores (the order's store, or the till's). Empty: every store."),
    )
    categories = models.ManyToManyField(
        "catalog.Category",
        verbose_name=_("categories"),
        blank=True,
        related_name="+",
        help_text=_("Only on products in these categories or their subcategories. Empty: every product."),
    )
    online = models.BooleanField(_("online"), default=True, help_text=_("Redeemable with a code at checkout."))
    in_store = models.BooleanField(
        _("in store"), default=True, help_text=_("Redeemable at a store's till (staff scan the code).")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CouponQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        permissions = [("any_store_coupon", "Can make and see coupons of every store, chain-wide ones too")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=CouponKind.PERCENT, value__gt=0, value__lte=100)
                    | Q(kind=CouponKind.AMOUNT, value__gt=0)
                    | Q(kind=CouponKind.FREE_DELIVERY, value=0)
                ),
                name="coupon_value_fits_kind",
                violation_error_message=_(
                    "The value does not fit the kind: a percentage from 1 to 100, an amount above 0, "
                    "or 0 for free delivery."
                ),
            ),
            models.CheckConstraint(
                condition=Q(minimum_order__gte=0),
                name="coupon_minimum_not_negative",
                violation_error_message=_("The minimum order cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="coupon_valid_until_after_from",
                violation_error_message=_("“Valid until” must be after “valid from”."),
            ),
        ]

    def __str__(self):
        return self.name

    def channels(self) -> set[str]:
        """The channels (orders.models.Channel values) the coupon may be redeemed in."""
        return {
            channel for channel, allowed in ((Channel.WEB, self.online), (Channel.IN_STORE, self.in_store)) if allowed
        }


class CouponBatch(models.Model):
    """Single-use codes generated at once (coupons.services.generate_batch), exported as CSV."""

    coupon = models.ForeignKey(Coupon, verbose_name=_("coupon"), related_name="batches", on_delete=models.CASCADE)
    label = models.CharField(_("label"), max_length=120, blank=True)
    size = models.PositiveIntegerField(_("codes"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("code batch")
        verbose_name_plural = _("code batches")

    def __str__(self):
        return f"{self.coupon} – {self.label or format_date(self.created_at)}"


class CouponCode(models.Model):
    """A code that applies its coupon: shared (used by anyone, within the coupon's limits) or
    single-use (one live redemption at most). Stored normalised (coupons.codes.normalise_code)."""

    coupon = models.ForeignKey(Coupon, verbose_name=_("coupon"), related_name="codes", on_delete=models.CASCADE)
    code = models.CharField(_("code"), max_length=MAX_CODE_LENGTH, unique=True)
    single_use = models.BooleanField(_("single use"), default=False)
    batch = models.ForeignKey(
        CouponBatch,
        verbose_name=_("batch"),
        null=True,
        blank=True,
        related_name="codes",
        on_delete=models.CASCADE,
    )
    # Whom the code was sent to (a campaign, a reward): their coupon page lists it.
    issued_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued to"),
        null=True,
        blank=True,
        related_name="coupon_codes",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("coupon code")
        verbose_name_plural = _("coupon codes")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z0-9]{3,32}$"),
                name="coupon_code_normalised",
                violation_error_message=_(
                    "A code is 3 to 32 capital letters (A–Z) and digits, with no spaces or dashes."
                ),
            ),
        ]

    def __str__(self):
        return self.display

    @property
    def display(self) -> str:
        """Generated codes in groups of four ("K7QX-M4HP-RT"); a shared code as chosen."""
        return display_code(self.code) if self.single_use else self.code


class RedemptionStatus(models.TextChoices):
    # Counts against the coupon's limits: with an order (placed, paid, handed over) or at a till.
    REDEEMED = "redeemed", _("Redeemed")
    # The order was cancelled (by anyone, or its payment not completed): the use is given back.
    RELEASED = "released", _("Released")


class Redemption(models.Model):
    """One use of a coupon: in which channel, at which store, for which order or till receipt,
    by whom, and the discount given. Online, it is written with the order (held against the
    limits from then on) and released if the order is cancelled."""

    coupon = models.ForeignKey(Coupon, verbose_name=_("coupon"), related_name="redemptions", on_delete=models.PROTECT)
    code = models.ForeignKey(CouponCode, verbose_name=_("code"), related_name="redemptions", on_delete=models.PROTECT)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    store = models.ForeignKey("stores.Store", verbose_name=_("store"), related_name="+", on_delete=models.PROTECT)
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        related_name="coupon_redemptions",
        on_delete=models.PROTECT,
    )
    # The code's single_use, copied so the database can keep such a code to one live use.
    single_use = models.BooleanField(_("single use"), default=False, editable=False)
    # At a till: the receipt number, normalised (o2o_site.till_receipts); blank online.
    till_receipt = models.CharField(_("till receipt"), max_length=40, blank=True)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        related_name="coupon_redemptions",
        on_delete=models.SET_NULL,
    )
    # A guest's e-mail (lower case): the per-customer limit counts a guest by it.
    email = models.EmailField(_("e-mail"), blank=True)
    # The goods the discount was worked out on, and the discount given (VAT included, in the
    # order's currency); a waived delivery fee is part of the discount.
    purchase_amount = models.DecimalField(_("purchase"), max_digits=12, decimal_places=2)
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=16, choices=RedemptionStatus.choices, default=RedemptionStatus.REDEEMED
    )
    redeemed_at = models.DateTimeField(_("redeemed at"), auto_now_add=True, db_index=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )

    class Meta:
        ordering = ["-redeemed_at", "-pk"]
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        indexes = [models.Index(fields=["coupon", "status"], name="redemption_coupon_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount__gte=0, purchase_amount__gte=0),
                name="redemption_amounts_not_negative",
                violation_error_message=_("The discount and the purchase amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=False) | Q(channel=Channel.IN_STORE),
                name="redemption_online_has_order",
            ),
            # A coupon once per till receipt at a store (services check first; the last guard,
            # comparing receipts as stored: normalised, which the check below holds).
            models.UniqueConstraint(
                fields=["coupon", "store", "till_receipt"],
                condition=Q(status="redeemed") & ~Q(till_receipt=""),
                name="redemption_once_per_till_receipt",
            ),
            models.CheckConstraint(
                condition=normalised_receipt_check("till_receipt"), name="redemption_till_receipt_normalised"
            ),
            # One live use of a single-use code (services check first; this is the last guard).
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(status="redeemed", single_use=True),
                name="redemption_single_use_code_once",
            ),
            # One coupon per order.
            models.UniqueConstraint(fields=["order"], condition=Q(status="redeemed"), name="redemption_one_per_order"),
        ]

    def __str__(self):
        return f"{self.code} – {self.get_channel_display()}"
