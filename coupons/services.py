"""Issuing coupon codes and redeeming them: online with an order, at a store's till.

Every redemption is decided under a lock on the coupon's row (SELECT … FOR UPDATE), so two
shoppers or tills using the last allowed use at the same moment take turns: one gets it, the
other is refused. What is checked, in this order, each refusal a CouponRefused with a message for
the shopper or the member of staff: the code exists; the coupon is active and valid now; it may
be used in this channel and at this store; a single-use code was not used; the coupon's total and
per-customer limits; the minimum order; that it takes something off.

Views, admin actions and other apps (campaigns, rewards) call these; a refusal writes nothing.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import signed_in
from catalog.models import Category
from o2o_site.dates import format_datetime
from o2o_site.money import format_money, round_to_minor_unit
from o2o_site.till_receipts import MAX_LENGTH as RECEIPT_MAX_LENGTH
from o2o_site.till_receipts import is_till_receipt, normalise_till_receipt
from orders.models import Channel, Order
from stores.models import Store

from .codes import VALID_CODE, generate_code, normalise_code
from .models import Coupon, CouponBatch, CouponCode, CouponKind, Redemption, RedemptionStatus
from .pricing import Discount, PricedLine, discount_on_amount, work_out_discount

# A batch made in the admin at once: bulk_create in chunks of this many rows.
BATCH_CHUNK = 1000
MAX_BATCH_SIZE = 50_000


class Refusal(StrEnum):
    UNKNOWN = "unknown"
    INACTIVE = "inactive"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    WRONG_CHANNEL = "wrong_channel"
    WRONG_STORE = "wrong_store"
    ALREADY_USED = "already_used"
    EXHAUSTED = "exhausted"
    CUSTOMER_LIMIT = "customer_limit"
    MINIMUM_ORDER = "minimum_order"
    NOTHING_OFF = "nothing_off"
    # At a till: the receipt number is not one, or this coupon was already used on that receipt.
    BAD_RECEIPT = "bad_receipt"
    RECEIPT_USED = "receipt_used"


# The constraint that keeps a coupon to one use per till receipt (coupons.models.Redemption).
ONCE_PER_RECEIPT = "redemption_once_per_till_receipt"


class CouponRefused(Exception):
    """The code cannot be used here and now; `message` says why (in the active language)."""

    def __init__(self, reason: Refusal, message: str):
        self.reason, self.message = reason, message
        super().__init__(message)


@dataclass(frozen=True)
class AppliedCoupon:
    """A code checked for one purchase, and the discount it gives (pricing.Discount)."""

    code: CouponCode
    discount: Discount

    @property
    def coupon(self) -> Coupon:
        return self.code.coupon


# --- issuing -------------------------------------------------------------------------------------


def add_shared_code(*, coupon: Coupon, code: str) -> CouponCode:
    """Give `coupon` a code anyone may use (within its limits), as typed ("sumar 25" is stored
    "SUMAR25"). Raises ValueError with a message when the code is not 3–32 letters and digits or
    is already taken."""
    normal = normalise_code(code)
    if not VALID_CODE.match(normal):
        raise ValueError(_("A code is 3 to 32 letters and digits."))
    try:
        with transaction.atomic():
            return CouponCode.objects.create(coupon=coupon, code=normal, single_use=False)
    except IntegrityError:
        raise ValueError(_("The code %(code)s is already taken.") % {"code": normal}) from None


def generate_batch(
    *,
    coupon: Coupon,
    count: int,
    label: str = "",
    by: User | None = None,
    issued_to: Sequence[User] | None = None,
) -> CouponBatch:
    """Make `count` new single-use codes for `coupon` in one batch (bulk inserts of BATCH_CHUNK
    rows), each random from coupons.codes.CODE_ALPHABET; with `issued_to`, one code per user in
    that order (count must equal its length). A code that happens to exist already is drawn
    again. Raises ValueError when count is not 1..MAX_BATCH_SIZE or does not match issued_to."""
    if not 1 <= count <= MAX_BATCH_SIZE:
        raise ValueError(_("A batch has 1 to %(max)s codes.") % {"max": MAX_BATCH_SIZE})
    if issued_to is not None and len(issued_to) != count:
        raise ValueError(f"{count} codes for {len(issued_to)} customers")
    with transaction.atomic():
        batch = CouponBatch.objects.create(coupon=coupon, label=label, size=count, created_by=signed_in(by))
        codes: set[str] = set()
        while len(codes) < count:
            wanted = {generate_code() for _ in range(count - len(codes))} - codes
            taken = set(CouponCode.objects.filter(code__in=wanted).values_list("code", flat=True))
            codes |= wanted - taken
        owners = list(issued_to) if issued_to is not None else [None] * count
        if connection.vendor == "postgresql":
            _insert_codes(batch=batch, codes=sorted(codes), owner_ids=[owner and owner.pk for owner in owners])
        else:
            CouponCode.objects.bulk_create(
                (
                    CouponCode(coupon=coupon, code=code, single_use=True, batch=batch, issued_to=owner)
                    for code, owner in zip(sorted(codes), owners, strict=True)
                ),
                batch_size=BATCH_CHUNK,
            )
    return batch


def _insert_codes(*, batch: CouponBatch, codes: list[str], owner_ids: list[int | None]) -> None:
    """The batch's codes, in the order given, by INSERT … SELECT FROM unnest of two arrays, one
    statement per BATCH_CHUNK × 10 rows (PostgreSQL). A campaign to 100 000 writes 100 000 codes
    while it is queued: building a model instance per code for bulk_create was most of the time
    (7-11 s of a 10 000-code batch on a loaded 2-core machine), this is a fraction of it."""
    table = CouponCode._meta.db_table
    now = timezone.now()
    step = BATCH_CHUNK * 10
    with connection.cursor() as cursor:
        for start in range(0, len(codes), step):
            cursor.execute(
                f"INSERT INTO {table} (coupon_id, code, single_use, batch_id, issued_to_id, created_at) "
                f"SELECT %s, t.code, true, %s, t.owner, %s FROM unnest(%s::varchar[], %s::bigint[]) "
                f"WITH ORDINALITY AS t(code, owner, n) ORDER BY t.n",
                [batch.coupon_id, batch.pk, now, codes[start : start + step], owner_ids[start : start + step]],
            )


def issue_codes(
    *, coupon: Coupon, count: int, label: str = "", by: User | None = None, issued_to: Sequence[User] | None = None
) -> list[str]:
    """generate_batch, returning the new codes as stored (normalised, "K7QXM4HPRT"), in the
    order of `issued_to` when given. For campaigns and rewards that send codes to people."""
    batch = generate_batch(coupon=coupon, count=count, label=label, by=by, issued_to=issued_to)
    return list(CouponCode.objects.filter(batch_id=batch.pk).order_by("pk").values_list("code", flat=True))


# --- checking ------------------------------------------------------------------------------------


def find_code(text: str) -> CouponCode:
    """The code `text` names (normalised first: case, spaces, dashes do not matter), with its
    coupon. Raises CouponRefused(UNKNOWN) when there is none."""
    normal = normalise_code(text)
    found = CouponCode.objects.select_related("coupon").filter(code=normal).first() if normal else None
    if found is None:
        shown = normal or (text or "").strip()
        raise CouponRefused(
            Refusal.UNKNOWN,
            _("There is no coupon with the code %(code)s. Check the code and try again.") % {"code": shown}
            if shown
            else _("Enter a coupon code."),
        )
    return found


def _check_rules(
    code: CouponCode,
    *,
    channel: Channel,
    store: Store,
    customer: User | None,
    email: str,
    at: datetime.datetime,
) -> None:
    coupon = code.coupon
    names = {"code": code.display, "store": store.name}
    if not coupon.is_active:
        raise CouponRefused(Refusal.INACTIVE, _("Coupon %(code)s is no longer valid.") % names)
    if coupon.valid_from > at:
        raise CouponRefused(
            Refusal.NOT_YET_VALID,
            _("Coupon %(code)s is valid from %(date)s.")
            % {**names, "date": format_datetime(coupon.valid_from, zone=store.zone)},
        )
    if coupon.valid_until is not None and coupon.valid_until <= at:
        raise CouponRefused(
            Refusal.EXPIRED,
            _("Coupon %(code)s expired on %(date)s.")
            % {**names, "date": format_datetime(coupon.valid_until, zone=store.zone)},
        )
    # An order placed in a store (the in-store mode, a kiosk) is an in-store use of the coupon.
    if (Channel.WEB if channel == Channel.WEB else Channel.IN_STORE) not in coupon.channels():
        message = (
            _("Coupon %(code)s cannot be used online; show it at a store's till.")
            if channel == Channel.WEB
            else _("Coupon %(code)s can only be used online, at checkout.")
        )
        raise CouponRefused(Refusal.WRONG_CHANNEL, message % names)
    # Through the link table: one query, and no per-coupon relation loaded (django-zeal).
    stores = set(Coupon.stores.through.objects.filter(coupon_id=coupon.pk).values_list("store_id", flat=True))
    if stores and store.pk not in stores:
        raise CouponRefused(Refusal.WRONG_STORE, _("Coupon %(code)s is not valid at %(store)s.") % names)
    live = Redemption.objects.filter(coupon=coupon, status=RedemptionStatus.REDEEMED)
    if code.single_use and live.filter(code=code).exists():
        raise CouponRefused(Refusal.ALREADY_USED, _("Code %(code)s has already been used.") % names)
    if coupon.limit_total is not None and live.count() >= coupon.limit_total:
        raise CouponRefused(Refusal.EXHAUSTED, _("Coupon %(code)s has been used up.") % names)
    if coupon.limit_per_customer is not None:
        whose = _customer_filter(customer, email)
        if whose is not None and live.filter(whose).count() >= coupon.limit_per_customer:
            raise CouponRefused(
                Refusal.CUSTOMER_LIMIT, _("You have already used coupon %(code)s as often as it allows.") % names
            )


def _customer_filter(customer: User | None, email: str) -> Q | None:
    """Who a per-customer limit counts: the account, and a guest by their e-mail."""
    email = (email or "").strip().lower()
    if customer is not None and email:
        return Q(customer=customer) | Q(email=email)
    if customer is not None:
        return Q(customer=customer)
    if email:
        return Q(email=email)
    return None


def _coupon_category_ids(coupon: Coupon) -> set[int] | None:
    chosen = set(Coupon.categories.through.objects.filter(coupon_id=coupon.pk).values_list("category_id", flat=True))
    if not chosen:
        return None
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, pending = set(), list(chosen)
    while pending:
        pk = pending.pop()
        if pk not in found:
            found.add(pk)
            pending.extend(children.get(pk, []))
    return found


def _discount_for_order(
    code: CouponCode, *, store: Store, lines: Sequence[PricedLine], fees: dict, currency: str
) -> Discount:
    coupon = code.coupon
    names = {"code": code.display}
    goods = sum((line.amount for line in lines), Decimal(0))
    if goods < coupon.minimum_order:
        raise CouponRefused(
            Refusal.MINIMUM_ORDER,
            _("Coupon %(code)s needs an order of at least %(minimum)s (the goods come to %(amount)s).")
            % {**names, "minimum": format_money(coupon.minimum_order), "amount": format_money(goods)},
        )
    discount = work_out_discount(
        coupon, lines=lines, fees=fees, category_ids=_coupon_category_ids(coupon), currency=currency
    )
    if not discount.total:
        if coupon.kind == CouponKind.FREE_DELIVERY:
            message = _("Coupon %(code)s gives free delivery; this order has no delivery fee.")
        else:
            message = _("Coupon %(code)s does not apply to anything in this order.")
        raise CouponRefused(Refusal.NOTHING_OFF, message % names)
    return discount


def preview_for_checkout(
    *,
    code: str,
    store: Store,
    customer: User | None,
    email: str = "",
    lines: Sequence[PricedLine],
    fees: dict | None = None,
    at: datetime.datetime | None = None,
) -> AppliedCoupon:
    """What the code would take off this checkout now, for the checkout page (nothing is locked
    or written; hold_for_order decides again when the order is placed). `lines` are the goods at
    the prices shown, `fees` {key: amount} the delivery or shipping fee, if any. Raises
    CouponRefused."""
    found = find_code(code)
    customer = signed_in(customer)
    _check_rules(found, channel=Channel.WEB, store=store, customer=customer, email=email, at=at or timezone.now())
    discount = _discount_for_order(found, store=store, lines=lines, fees=fees or {}, currency=settings.SHOP_CURRENCY)
    return AppliedCoupon(code=found, discount=discount)


def _lock(found: CouponCode) -> None:
    """Take the lock that makes this use and any other of the same limit take turns, until the
    transaction ends, and read the coupon again under it. A coupon with a total or per-customer
    limit: its row (every use of it counts). Otherwise a single-use code: the code's row (only
    its own uses count). A shared code without limits has nothing to race for and locks nothing,
    so a popular code does not make every checkout using it wait for the others."""
    coupon = found.coupon
    if coupon.limit_total is not None or coupon.limit_per_customer is not None:
        found.coupon = Coupon.objects.select_for_update().get(pk=found.coupon_id)
    elif found.single_use:
        CouponCode.objects.select_for_update().filter(pk=found.pk).values_list("pk", flat=True).first()


def hold_for_order(
    *,
    code: str,
    store: Store,
    customer: User | None,
    email: str = "",
    lines: Sequence[PricedLine],
    fees: dict | None = None,
    channel: Channel = Channel.WEB,
    at: datetime.datetime | None = None,
) -> AppliedCoupon:
    """Check the code for an order about to be placed in `channel` (the web shop, or a store's
    in-store mode), under a lock held until the caller's transaction ends (it must be in one:
    checkout.services places the order in it and then calls record_order_redemption). Returns
    the discount per line and fee. Raises CouponRefused as preview_for_checkout does; decided
    under the lock (_lock), so the coupon's limits hold when many checkouts use it at once."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("hold_for_order must run inside the transaction that places the order")
    found = find_code(code)
    _lock(found)
    customer = signed_in(customer)
    _check_rules(found, channel=channel, store=store, customer=customer, email=email, at=at or timezone.now())
    discount = _discount_for_order(found, store=store, lines=lines, fees=fees or {}, currency=settings.SHOP_CURRENCY)
    return AppliedCoupon(code=found, discount=discount)


def record_order_redemption(*, applied: AppliedCoupon, order: Order) -> Redemption:
    """The redemption of a code held by hold_for_order, for the `order` just placed with its
    discount (same transaction): the order's channel and store, its customer or guest e-mail."""
    return Redemption.objects.create(
        coupon=applied.coupon,
        code=applied.code,
        single_use=applied.code.single_use,
        channel=order.channel,
        store_id=order.store_id,
        order=order,
        customer=order.customer,
        email=(order.contact_email or "").lower() if order.customer_id is None else "",
        purchase_amount=applied.discount.goods_amount,
        discount=applied.discount.total,
        currency=order.currency,
    )


def release_order_redemptions(*, order_id: int) -> int:
    """Give back the uses an order held: it was cancelled (by the store, the shopper, not
    collected, or its payment not completed in time). Returns how many were released (0 when
    the order had no coupon or it was released already)."""
    with transaction.atomic():
        Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True).first()
        return Redemption.objects.filter(order_id=order_id, status=RedemptionStatus.REDEEMED).update(
            status=RedemptionStatus.RELEASED, released_at=timezone.now()
        )


def redeem_at_till(
    *,
    code: str,
    store: Store,
    purchase_amount: Decimal,
    by: User | None,
    till_receipt: str,
    at: datetime.datetime | None = None,
) -> Redemption:
    """Staff at `store`'s till scan or type a coupon's code for a purchase of `purchase_amount`
    (VAT included, in the shop's currency: the goods the coupon applies to) on the till's receipt
    `till_receipt`; the redemption is recorded (channel in store, the store, the receipt number
    normalised as o2o_site.till_receipts does, who) and the discount to give at the till returned
    on it. For a code issued to a customer, the use counts as theirs. A coupon is used once per
    receipt at a store, whatever case or spacing the number is typed in (two codes of one batch
    too); the constraint redemption_once_per_till_receipt holds it when two tills try at once.
    Raises CouponRefused (every check of the module's docstring; BAD_RECEIPT, RECEIPT_USED; a
    free-delivery coupon gives nothing at a till), ValueError when the amount is not a positive
    amount in the currency."""
    currency = settings.SHOP_CURRENCY
    if (
        purchase_amount is None
        or purchase_amount <= 0
        or round_to_minor_unit(purchase_amount, currency) != purchase_amount
    ):
        raise ValueError(_("Enter the purchase amount, more than zero."))
    receipt = normalise_till_receipt(till_receipt)
    if len(receipt) > RECEIPT_MAX_LENGTH or not is_till_receipt(receipt):
        raise CouponRefused(
            Refusal.BAD_RECEIPT,
            _("“%(number)s” is not a till receipt number: use the number printed on the till's receipt.")
            % {"number": receipt[:40]},
        )
    try:
        return _redeem_at_till(
            code=code, store=store, purchase_amount=purchase_amount, by=by, receipt=receipt, at=at, currency=currency
        )
    except IntegrityError as error:
        if ONCE_PER_RECEIPT not in str(error):
            raise
        # another till recorded this coupon on this receipt at the same moment
        raise _receipt_used(find_code(code).display, receipt, store) from None


def _receipt_used(code: str, receipt: str, store: Store) -> CouponRefused:
    return CouponRefused(
        Refusal.RECEIPT_USED,
        _("Coupon %(code)s was already used on receipt %(number)s at %(store)s.")
        % {"code": code, "number": receipt, "store": store.name},
    )


def _redeem_at_till(
    *,
    code: str,
    store: Store,
    purchase_amount: Decimal,
    by: User | None,
    receipt: str,
    at: datetime.datetime | None,
    currency: str,
) -> Redemption:
    with transaction.atomic():
        found = find_code(code)
        _lock(found)
        customer = found.issued_to
        _check_rules(found, channel=Channel.IN_STORE, store=store, customer=customer, email="", at=at or timezone.now())
        coupon = found.coupon
        names = {"code": found.display}
        if Redemption.objects.filter(
            coupon=coupon, store=store, till_receipt=receipt, status=RedemptionStatus.REDEEMED
        ).exists():
            raise _receipt_used(found.display, receipt, store)
        if purchase_amount < coupon.minimum_order:
            raise CouponRefused(
                Refusal.MINIMUM_ORDER,
                _("Coupon %(code)s needs a purchase of at least %(minimum)s.")
                % {**names, "minimum": format_money(coupon.minimum_order)},
            )
        discount = discount_on_amount(coupon, amount=purchase_amount, currency=currency)
        if not discount:
            raise CouponRefused(
                Refusal.NOTHING_OFF, _("Coupon %(code)s gives free delivery and takes nothing off at a till.") % names
            )
        return Redemption.objects.create(
            coupon=coupon,
            code=found,
            single_use=found.single_use,
            channel=Channel.IN_STORE,
            store=store,
            till_receipt=receipt,
            customer=customer,
            purchase_amount=purchase_amount,
            discount=discount,
            currency=currency,
            by=signed_in(by),
        )


__all__ = [
    "AppliedCoupon",
    "CouponRefused",
    "Refusal",
    "add_shared_code",
    "find_code",
    "generate_batch",
    "hold_for_order",
    "issue_codes",
    "preview_for_checkout",
    "record_order_redemption",
    "redeem_at_till",
    "release_order_redemptions",
]
