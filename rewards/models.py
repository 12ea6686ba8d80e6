"""The rewards programme: one account per member and its append-only ledger.

Points are money: one point is one unit of the shop's currency (SHOP_CURRENCY: a króna in ISK, a
krone in NOK), kept as Decimal to the currency's minor unit. A member earns REWARDS_EARN_RATE per
cent of what she paid and redeems points as that much money off a purchase.

`RewardAccount.balance` is the sum of the account's entries, kept on the account row so that a
redemption locks one row (select_for_update) and checks it; a CheckConstraint keeps it at or
above zero as the last guard. Entries are never changed or deleted: a correction is a new entry
(kind REVERSE) naming the entry it reverses. Rows change only through rewards.services.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from o2o_site.money import format_money
from o2o_site.till_receipts import normalised_receipt_check


class EntryKind(models.TextChoices):
    # Worded for points (Icelandic "punktar" and Norwegian "poeng" read them as done to points).
    EARN = "earn", pgettext_lazy("rewards points", "Earned")
    REDEEM = "redeem", pgettext_lazy("rewards points", "Redeemed")
    # Gives back or takes back points of an earlier entry (a cancelled order's redemption, what a
    # returned line earned or redeemed); `reverses` names it.
    REVERSE = "reverse", pgettext_lazy("rewards points", "Reversed")
    EXPIRE = "expire", pgettext_lazy("rewards points", "Expired")


class EntryReason(models.TextChoices):
    """Why the shop wrote an entry. The words are put together when the entry is shown, in the
    reader's language, from the code and its `reason_args` (an order number, a return's code, the
    days points last): an entry written by a worker in English reads in Icelandic on an Icelandic
    member page. The labels are msgids with the args' %(names)s."""

    PURCHASE_IN_STORE = "purchase", _("Purchase in store")
    TILL_IMPORT = "till_import", _("Imported from the till")
    REDEEMED_AT_TILL = "till_redeem", _("Redeemed at the till")
    USED_AT_CHECKOUT = "checkout", _("Used at checkout")
    ORDER_CANCELLED = "cancelled", _("Order %(number)s cancelled")
    ORDER_HANDED_OVER = "handed_over", _("Order %(number)s handed over")
    # args: code, number, and spent (points already spent that a return could not take back).
    RETURNED = "returned", _("Return %(code)s of order %(number)s")
    # args: number, refund (the payment.Refund's id), and spent (as RETURNED's).
    REFUNDED = "refunded", _("Refund of order %(number)s")
    EXPIRED = "expired", _("Points older than %(days)s days")


def reason_text(code: str, args: dict) -> str:
    """The words of an EntryReason `code` with its `args`, in the active language. `args["spent"]`
    (a Decimal as a string, the shop's currency) adds what was already spent."""
    text = str(EntryReason(code).label) % args
    if args.get("spent"):
        text += " — " + gettext("%(points)s already spent") % {"points": format_money(Decimal(args["spent"]))}
    return text


class RewardChannel(models.TextChoices):
    """Where an entry happened."""

    WEB = "web", _("Web shop")
    IN_STORE = "in_store", _("In store")
    # The shop itself: expiry.
    SHOP = "shop", _("The shop")


class RewardAccountQuerySet(models.QuerySet):
    def for_stores_managed_by(self, user):
        """Members a manager has served: with an entry at one of their stores (a superuser: all)."""
        if user.is_superuser:
            return self
        return self.filter(entries__store__managers=user).distinct()


class RewardAccount(models.Model):
    """One member of the programme: a customer account, or a guest who joined with an e-mail
    address or a phone number she verified. `number` is what the member QR code carries and staff
    type at a till."""

    number = models.CharField(_("member number"), max_length=12, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer account"),
        null=True,
        blank=True,
        related_name="rewards_account",
        on_delete=models.PROTECT,
    )
    # Lower-cased; a guest's verified address, or the customer account's at joining ("" for a
    # guest who joined by phone). Orders placed with it (as a guest) earn for this member.
    email = models.EmailField(_("e-mail"), blank=True)
    # E.164 (+3545551234): a guest's verified phone number ("" for none). Orders placed with it
    # (as a guest, with no member's e-mail address) earn for this member.
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    balance = models.DecimalField(_("balance"), max_digits=12, decimal_places=2, default=0, editable=False)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    objects = RewardAccountQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("rewards member")
        verbose_name_plural = _("rewards members")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="reward_balance_not_negative"),
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="reward_account_email_once"),
            models.UniqueConstraint(fields=["phone"], condition=~Q(phone=""), name="reward_account_phone_once"),
            models.CheckConstraint(condition=~Q(email="") | ~Q(phone=""), name="reward_account_email_or_phone"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("rewards:member")


class RewardEntryQuerySet(models.QuerySet):
    def credits(self):
        """Entries that added points: what expires (earned, and points given back)."""
        return self.filter(points__gt=0)


class RewardEntry(models.Model):
    """One change of a member's balance: what (kind, signed points), who (actor), where (channel,
    store, order or till receipt), why (reason), and the balance after it. Append-only."""

    account = models.ForeignKey(
        RewardAccount, verbose_name=_("member"), related_name="entries", on_delete=models.PROTECT
    )
    kind = models.CharField(_("what"), max_length=10, choices=EntryKind.choices)
    points = models.DecimalField(_("points"), max_digits=12, decimal_places=2)
    balance_after = models.DecimalField(_("balance after"), max_digits=12, decimal_places=2)
    channel = models.CharField(_("channel"), max_length=10, choices=RewardChannel.choices)
    store = models.ForeignKey(
        "stores.Store", verbose_name=_("store"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        related_name="reward_entries",
        on_delete=models.PROTECT,
    )
    # Normalised (o2o_site.till_receipts): trimmed, single spaces, upper case.
    till_receipt_number = models.CharField(_("till receipt number"), max_length=40, blank=True)
    # The amount of the purchase an in-store earning was for (Decimal, the shop's currency).
    purchase_amount = models.DecimalField(_("purchase amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    # A reason the shop words (EntryReason and its args), shown in the reader's language; `reason`
    # holds its English words for searching, or words staff typed (reason_code "").
    reason_code = models.CharField(_("why (code)"), max_length=20, blank=True, choices=EntryReason.choices)
    reason_args = models.JSONField(_("why (details)"), default=dict, blank=True)
    reason = models.CharField(_("why"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        related_name="reversals",
        on_delete=models.PROTECT,
    )
    # Credits only: when what is left of these points expires (REWARDS_POINTS_VALID_DAYS later).
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    objects = RewardEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("rewards entry")
        verbose_name_plural = _("rewards entries")
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="reward_entry_balance_not_negative"),
            # Every entry moves the balance, except a till purchase too small to earn (ISK 10 at
            # 5 %): it is recorded, earning 0, so that its receipt cannot earn again.
            models.CheckConstraint(
                condition=(~Q(points=0) | Q(kind="earn", order__isnull=True) & ~Q(till_receipt_number=""))
                & (Q(kind="earn", points__gte=0) | Q(kind__in=["redeem", "expire"], points__lt=0) | Q(kind="reverse")),
                name="reward_entry_points_sign",
            ),
            # Stored as o2o_site.till_receipts normalises it, so the unique constraint below
            # compares receipts whatever case or spacing staff typed.
            models.CheckConstraint(
                condition=normalised_receipt_check("till_receipt_number"), name="reward_till_receipt_normalised"
            ),
            # An order earns once; a till receipt earns once and redeems once at its store.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="earn", order__isnull=False), name="reward_earn_once_per_order"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="redeem", order__isnull=False), name="reward_redeem_once_per_order"
            ),
            models.UniqueConstraint(
                fields=["store", "till_receipt_number", "kind"],
                condition=Q(kind__in=["earn", "redeem"]) & ~Q(till_receipt_number=""),
                name="reward_till_receipt_once",
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"], name="reward_entry_account_idx")]

    def __str__(self):
        return f"{self.account}: {self.get_kind_display()} {self.points}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("reward entries are append-only: write a reversing entry instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("reward entries are append-only: write a reversing entry instead")

    @property
    def reason_shown(self) -> str:
        """Why, in the active language: the shop's reason put into words now, else what was typed."""
        if self.reason_code:
            return reason_text(self.reason_code, self.reason_args)
        return self.reason


class RewardEntryLine(models.Model):
    """What one order line contributed to an entry: the points it earned (an EARN), or the points
    a return of its units took back or gave back (a REVERSE). A return reverses per line from these."""

    entry = models.ForeignKey(RewardEntry, verbose_name=_("entry"), related_name="lines", on_delete=models.PROTECT)
    order_line = models.ForeignKey(
        "orders.OrderLine", verbose_name=_("order line"), related_name="+", on_delete=models.PROTECT
    )
    units = models.PositiveIntegerField(_("units"))
    points = models.DecimalField(_("points"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("rewards entry line")
        verbose_name_plural = _("rewards entry lines")

    def __str__(self):
        return f"{self.units} × {self.order_line_id}: {self.points}"


class ExpiryNotice(models.Model):
    """The e-mail telling a member that points expire soon: one per member and expiry day, so
    beat's daily run and its retries send it once."""

    account = models.ForeignKey(RewardAccount, verbose_name=_("member"), related_name="+", on_delete=models.CASCADE)
    expires_on = models.DateField(_("expires on"))
    points = models.DecimalField(_("points"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("expiry notice")
        verbose_name_plural = _("expiry notices")
        constraints = [
            models.UniqueConstraint(fields=["account", "expires_on"], name="reward_expiry_notice_once"),
        ]

    def __str__(self):
        return f"{self.account}: {self.points} on {self.expires_on}"


class PhoneVerification(models.Model):
    """A code sent by text message to a guest joining with her phone number: she proves the number
    is hers by typing it back. The code is kept only as a keyed hash (rewards.verification);
    it expires (REWARDS_PHONE_CODE_MINUTES), allows REWARDS_PHONE_CODE_ATTEMPTS wrong tries, and
    is used once."""

    phone = models.CharField(_("phone"), max_length=16, db_index=True)
    code_hash = models.CharField(_("code (hashed)"), max_length=64)
    language = models.CharField(_("language"), max_length=10, default="en")
    attempts = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("phone verification")
        verbose_name_plural = _("phone verifications")
        indexes = [models.Index(fields=["phone", "-created_at"], name="reward_phone_code_idx")]

    def __str__(self):
        return f"{self.phone} ({self.created_at:%Y-%m-%d %H:%M})"
