"""Every change of a rewards balance: joining, earning, redeeming, reversing and expiring.

Units: points are money in the shop's currency (SHOP_CURRENCY), Decimal, rounded to its minor
unit (o2o_site.money); one point is one krónа/krone off. Earning is REWARDS_EARN_RATE per cent
(5 by default) of what the member paid, rounded down per line, so a member never earns more than
the rate.

Every write locks the member's account row first (select_for_update), checks, then moves the
balance with one UPDATE … SET balance = balance + points and appends an entry carrying the
balance after it. A redemption that would take the balance below zero is refused
(InsufficientPoints) and writes nothing; the CheckConstraint `reward_balance_not_negative` is the
last guard. Two tills and a checkout redeeming at once are served one after another
(rewards/tests/test_races.py).

Errors: RewardRefused (a shopper- or staff-facing reason; nothing written) and its subclasses.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

import phonenumbers
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import signed_in
from o2o_site.csv_import import ImportRejected, RowError, decode_csv, extra_values_problem, read_csv
from o2o_site.money import (
    AmountUnclear,
    format_money,
    is_representable,
    minor_unit_digits,
    parse_amount,
    round_to_minor_unit,
    too_many_decimals,
)
from o2o_site.till_receipts import MAX_LENGTH as RECEIPT_MAX_LENGTH
from o2o_site.till_receipts import is_till_receipt, normalise_till_receipt
from orders.models import Order, OrderLine, OrderStatus
from orders.services import COMPLETED_STATUSES, handed_over_by_line
from stores.models import Store

from .models import EntryKind, EntryReason, RewardAccount, RewardChannel, RewardEntry, RewardEntryLine, reason_text

JOIN_SALT = "rewards.join"
# A join link e-mailed to a guest works for this long (seconds).
JOIN_LINK_MAX_AGE = 60 * 60 * 24 * 3
# An order earns when its goods are the shopper's: handed over, delivered, or shipped (the last
# the shop sees of a parcel). Never when merely placed.
EARNING_STATUSES = COMPLETED_STATUSES


class RewardRefused(Exception):
    """The change cannot be made; the message says why. Nothing was written."""


class InsufficientPoints(RewardRefused):
    pass


class AlreadyMember(RewardRefused):
    def __init__(self, message: str, account: RewardAccount):
        super().__init__(message)
        self.account = account


@dataclass(frozen=True)
class Why:
    """A reason the shop words (EntryReason), with what fills it in: put into words when the
    entry is shown, in the reader's language (RewardEntry.reason_shown)."""

    code: EntryReason
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Where:
    """Where and by whom an entry happens: the channel, the store (None online), the member of
    staff (None for the shopper herself or the shop) and why (a Why, or words staff typed)."""

    channel: RewardChannel
    store: Store | None = None
    by: User | None = None
    reason: Why | str = ""


# --- members -----------------------------------------------------------------------------------


def new_member_number() -> str:
    """Ten digits, the last a Luhn check digit, so a mistyped number is caught at the till."""
    body = "".join(secrets.choice("0123456789") for _ in range(9))
    body = str(secrets.choice("123456789")) + body[1:]
    return body + luhn_digit(body)


def luhn_digit(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_member_number(value: str) -> bool:
    return len(value) == 10 and value.isdigit() and luhn_digit(value[:-1]) == value[-1]


def join(*, email: str = "", phone: str = "", user: User | None = None, language: str = "en") -> RewardAccount:
    """Make `user` (a customer account), or a guest with the verified `email` or the verified
    `phone` (E.164, rewards.verification), a member. Raises AlreadyMember (with the account) when
    the account, the address or the number already has one."""
    email = (user.email if user is not None else email or "").strip().lower()
    phone = "" if user is not None or email else (phone or "").strip()
    if not email and not phone:
        raise RewardRefused(_("An e-mail address or a phone number is needed to join."))
    same = Q(email=email) if email else Q(phone=phone)
    existing = RewardAccount.objects.filter(same | Q(user=user) if user else same).first()
    if existing is not None:
        raise AlreadyMember(_("You are already a member."), existing)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return RewardAccount.objects.create(
                    number=new_member_number(), user=user, email=email, phone=phone, language=language
                )
        except IntegrityError:
            existing = RewardAccount.objects.filter(same).first()
            if existing is not None:
                raise AlreadyMember(_("You are already a member."), existing) from None
    raise RewardRefused(_("We could not make you a member. Please try again."))


def join_token(*, email: str, language: str) -> str:
    """The signed token of the link that proves a guest owns `email` (JOIN_LINK_MAX_AGE)."""
    return signing.dumps({"email": email.strip().lower(), "language": language}, salt=JOIN_SALT)


def _join_token_data(token: str) -> dict:
    try:
        return signing.loads(token, salt=JOIN_SALT, max_age=JOIN_LINK_MAX_AGE)
    except signing.BadSignature:
        raise RewardRefused(_("This link is not valid or has expired. Ask for a new one.")) from None


def join_token_email(token: str) -> str:
    """The e-mail address a join link was sent to, without joining (the page that asks her to
    confirm). Raises RewardRefused for a link that is bad or too old."""
    return _join_token_data(token)["email"]


def join_with_token(token: str) -> RewardAccount:
    """The guest confirmed her join link: she is a member now (or already was: the same account).
    Raises RewardRefused for a link that is bad or too old."""
    data = _join_token_data(token)
    try:
        return join(email=data["email"], language=data.get("language", "en"))
    except AlreadyMember as already:
        return already.account


def account_for_order(order: Order) -> RewardAccount | None:
    """The member an order earns for: its customer account's, else the member who verified the
    order's e-mail address, else the one who verified its phone number (a guest who joined)."""
    if order.customer_id:
        account = RewardAccount.objects.filter(user_id=order.customer_id).first()
        if account is not None:
            return account
    email = order.contact_email.strip().lower()
    account = RewardAccount.objects.filter(email=email).first() if email else None
    if account is None:
        phone = e164_or_blank(order.contact_phone)
        account = RewardAccount.objects.filter(phone=phone).first() if phone else None
    return account


def e164_or_blank(value: str) -> str:
    """`value` as an E.164 number (+3545551234; without a country code, one of
    PHONE_DEFAULT_REGION), or "" when it is not a valid phone number."""
    try:
        number = phonenumbers.parse((value or "").strip(), settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def member_for_checkout(user: User | None) -> RewardAccount | None:
    """The signed-in customer's membership (points are used online from an account), else None."""
    user = signed_in(user)
    return RewardAccount.objects.filter(user=user).first() if user is not None else None


def find_member(value: str) -> RewardAccount:
    """The member behind what staff typed or scanned (the number, or the QR code's text, which is
    the number). Raises RewardRefused when it is not a member number or no member has it."""
    # Typed as the member page groups it ("3117 9226 03") or with dashes: the digits count.
    value = "".join(char for char in (value or "") if not char.isspace() and char not in "-–")
    if not is_member_number(value):
        raise RewardRefused(_("“%(value)s” is not a member number: check the digits.") % {"value": value[:40]})
    account = RewardAccount.objects.filter(number=value).first()
    if account is None:
        raise RewardRefused(_("No member has the number %(number)s.") % {"number": value})
    return account


# --- the ledger --------------------------------------------------------------------------------


def _lock(account: RewardAccount) -> RewardAccount:
    return RewardAccount.objects.select_for_update().get(pk=account.pk)


def _valid_until(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(days=settings.REWARDS_POINTS_VALID_DAYS)


def _append(
    locked: RewardAccount,
    *,
    kind: EntryKind,
    points: Decimal,
    where: Where,
    order: Order | None = None,
    till_receipt_number: str = "",
    purchase_amount: Decimal | None = None,
    reverses: RewardEntry | None = None,
    now: datetime.datetime | None = None,
) -> RewardEntry:
    """Move the locked account's balance by `points` (signed) and append the entry. Raises
    InsufficientPoints when the balance would go below zero."""
    now = now or timezone.now()
    if isinstance(where.reason, Why):
        reason_code, reason_args = where.reason.code, where.reason.args
        with translation.override("en"):
            reason = reason_text(reason_code, reason_args)
    else:
        reason_code, reason_args, reason = "", {}, where.reason
    after = locked.balance + points
    if after < 0:
        currency = settings.SHOP_CURRENCY
        raise InsufficientPoints(
            _("Not enough points: the balance is %(balance)s, %(asked)s asked.")
            % {"balance": format_money(locked.balance, currency), "asked": format_money(-points, currency)}
        )
    RewardAccount.objects.filter(pk=locked.pk).update(balance=F("balance") + points)
    locked.balance = after
    return RewardEntry.objects.create(
        account=locked,
        kind=kind,
        points=points,
        balance_after=after,
        channel=where.channel,
        store=where.store,
        order=order,
        till_receipt_number=till_receipt_number,
        purchase_amount=purchase_amount,
        reason_code=reason_code,
        reason_args=reason_args,
        reason=reason[:255],
        actor=signed_in(where.by),
        reverses=reverses,
        expires_at=_valid_until(now) if points > 0 else None,
    )


def points_for(amount: Decimal) -> Decimal:
    """REWARDS_EARN_RATE per cent of `amount`, rounded down to the currency's minor unit."""
    step = Decimal(1).scaleb(-minor_unit_digits(settings.SHOP_CURRENCY))
    return (amount * settings.REWARDS_EARN_RATE / 100).quantize(step, rounding=ROUND_DOWN)


def _checked_amount(amount, *, what: str, points: bool = False) -> Decimal:
    """`amount` (Decimal, int, or text as staff, a shopper or the till's file write it: read by
    o2o_site.money.parse_amount, which refuses what it cannot read as exactly one amount). Finer
    than the currency's minor unit is refused in the words the forms use (too_many_decimals), in
    points when `points`."""
    if isinstance(amount, Decimal | int):
        amount = Decimal(amount)
    else:
        try:
            amount = parse_amount(str(amount), settings.SHOP_CURRENCY)
        except AmountUnclear as unclear:
            raise RewardRefused(_("%(what)s: %(problem)s") % {"what": what, "problem": unclear}) from None
    if not amount.is_finite() or amount <= 0:
        raise RewardRefused(_("%(what)s must be more than zero.") % {"what": what})
    if not is_representable(amount, settings.SHOP_CURRENCY):
        raise RewardRefused(too_many_decimals(settings.SHOP_CURRENCY, points=points))
    if amount >= Decimal("1e10"):
        raise RewardRefused(_("%(what)s cannot be %(amount)s.") % {"what": what, "amount": amount})
    return amount


def checked_points(points) -> Decimal:
    """Points a member asks to use: an amount above zero in the currency's minor unit, else
    RewardRefused saying what is wrong."""
    return _checked_amount(points, what=_("The points to use"), points=True)


def checked_till_receipt(number: str) -> str:
    """A till receipt number as stored and compared: normalised (o2o_site.till_receipts: trimmed,
    spaces collapsed, upper case, so "t-10 " is receipt T-10); RewardRefused when it cannot be one."""
    number = normalise_till_receipt(number)
    if len(number) > RECEIPT_MAX_LENGTH or not is_till_receipt(number):
        raise RewardRefused(
            _("“%(number)s” is not a till receipt number (letters, digits, - . / and at least one digit).")
            % {"number": number[:40]}
        )
    return number


def _receipt_used(store: Store, number: str, kind: EntryKind) -> bool:
    return RewardEntry.objects.filter(store=store, till_receipt_number=number, kind=kind).exists()


def earn_in_store(
    *, account: RewardAccount, store: Store, till_receipt_number: str, amount, by: User | None, reason: Why | str = ""
) -> RewardEntry:
    """A member's purchase at `store`'s till (recorded by staff, or a row of the till's CSV file)
    earns points_for(`amount`). A purchase too small to earn a whole minor unit (ISK 10 at 5 %)
    is still recorded, earning 0, so its receipt cannot earn later. Raises RewardRefused for a bad
    amount or receipt number, or a receipt that already earned at that store (each till receipt
    earns once, whatever its case or spacing; the unique constraint reward_till_receipt_once holds
    it when two tills record it at once)."""
    amount = _checked_amount(amount, what=_("The amount"))
    number = checked_till_receipt(till_receipt_number)
    points = points_for(amount)
    refusal = _("Receipt %(number)s at %(store)s has already earned points.") % {"number": number, "store": store.name}
    try:
        with transaction.atomic():
            locked = _lock(account)
            if _receipt_used(store, number, EntryKind.EARN):
                raise RewardRefused(refusal)
            entry = _append(
                locked,
                kind=EntryKind.EARN,
                points=points,
                where=Where(RewardChannel.IN_STORE, store, by, reason or Why(EntryReason.PURCHASE_IN_STORE)),
                till_receipt_number=number,
                purchase_amount=amount,
            )
    except IntegrityError:  # another member's purchase with the same receipt, at the same moment
        raise RewardRefused(refusal) from None
    account.balance = locked.balance
    return entry


def redeem_at_till(
    *, account: RewardAccount, store: Store, amount, till_receipt_number: str, by: User | None
) -> RewardEntry:
    """Staff at `store` take `amount` off a till sale in points (the member showed her QR code
    or gave her number). Raises InsufficientPoints when the balance is smaller, RewardRefused for
    a bad amount or receipt number or a receipt that already redeemed; nothing is written."""
    amount = _checked_amount(amount, what=_("The amount"))
    number = checked_till_receipt(till_receipt_number)
    refusal = _("Receipt %(number)s at %(store)s has already redeemed points.") % {
        "number": number,
        "store": store.name,
    }
    try:
        with transaction.atomic():
            locked = _lock(account)
            if _receipt_used(store, number, EntryKind.REDEEM):
                raise RewardRefused(refusal)
            entry = _append(
                locked,
                kind=EntryKind.REDEEM,
                points=-amount,
                where=Where(RewardChannel.IN_STORE, store, by, Why(EntryReason.REDEEMED_AT_TILL)),
                till_receipt_number=number,
            )
    except IntegrityError:
        raise RewardRefused(refusal) from None
    account.balance = locked.balance
    return entry


def share_points(amount: Decimal, values: dict[int, Decimal]) -> dict[int, Decimal]:
    """`amount` of points shared over lines by their value ({order line id: what it costs}), in the
    currency's minor unit, largest remainder first, so the shares add up to `amount` exactly and
    none is above its line's value. Raises RewardRefused when `amount` is more than the lines cost."""
    total = sum(values.values(), Decimal(0))
    if amount > total:
        raise RewardRefused(
            _("At most %(total)s can be paid with points on this order.") % {"total": format_money(total)}
        )
    step = Decimal(1).scaleb(-minor_unit_digits(settings.SHOP_CURRENCY))
    exact = {pk: amount * value / total if total else Decimal(0) for pk, value in values.items()}
    shares = {pk: share.quantize(step, rounding=ROUND_DOWN) for pk, share in exact.items()}
    left = amount - sum(shares.values(), Decimal(0))
    for pk in sorted(exact, key=lambda pk: (shares[pk] - exact[pk], pk)):
        if left <= 0:
            break
        if shares[pk] + step <= values[pk]:
            shares[pk] += step
            left -= step
    return {pk: share for pk, share in shares.items() if share}


def reserve_for_order(
    *, account: RewardAccount, order: Order, shares: dict[int, Decimal], by: User | None
) -> RewardEntry:
    """Redeem points online with `order`, in the checkout's transaction (the order is new, each
    line already charged less its share: `shares`, {order line id: points}, see share_points):
    the points leave the balance now and come back if the order is cancelled (release_for_order),
    or line by line when its units are returned (reverse_for_return). Raises InsufficientPoints,
    or RewardRefused for a bad amount or an order not being placed."""
    amount = _checked_amount(sum(shares.values(), Decimal(0)), what=_("The points to use"), points=True)
    if order.status not in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PLACED):
        raise RewardRefused(_("Points can be used only on an order being placed."))
    quantities = dict(OrderLine.objects.filter(order=order, pk__in=list(shares)).values_list("pk", "quantity"))
    if set(quantities) != set(shares):
        raise RewardRefused(_("Points can be used only on the order's own lines."))
    with transaction.atomic():
        locked = _lock(account)
        entry = _append(
            locked,
            kind=EntryKind.REDEEM,
            points=-amount,
            where=Where(RewardChannel.WEB, None, by, Why(EntryReason.USED_AT_CHECKOUT)),
            order=order,
        )
        RewardEntryLine.objects.bulk_create(
            RewardEntryLine(entry=entry, order_line_id=pk, units=quantities[pk], points=-points)
            for pk, points in shares.items()
        )
    return entry


def redeemed_on(order: Order) -> Decimal:
    """Points redeemed with `order` at checkout (0 when none), before any give-back."""
    entry = RewardEntry.objects.filter(order=order, kind=EntryKind.REDEEM).only("points").first()
    return -entry.points if entry is not None else Decimal(0)


def release_for_order(*, order: Order, by: User | None = None) -> RewardEntry | None:
    """A cancelled order gives back the points redeemed with it (once; None when there were none
    or they were given back already). Raises RewardRefused when the order is not cancelled."""
    if order.status != OrderStatus.CANCELLED:
        raise RewardRefused(_("Only a cancelled order gives its points back."))
    redeem = RewardEntry.objects.filter(order=order, kind=EntryKind.REDEEM).first()
    if redeem is None:
        return None
    with transaction.atomic():
        locked = _lock(redeem.account)
        given = RewardEntry.objects.filter(reverses=redeem).aggregate(points=Sum("points"))["points"] or 0
        left = -redeem.points - given
        if left <= 0:
            return None
        return _append(
            locked,
            kind=EntryKind.REVERSE,
            points=left,
            where=Where(RewardChannel.WEB, None, by, Why(EntryReason.ORDER_CANCELLED, {"number": order.number})),
            order=order,
            reverses=redeem,
        )


def _earn_by_line(order: Order) -> list[tuple[OrderLine, int, Decimal]]:
    """(line, units handed over, points) for each line that earns: what the units handed over cost
    (the line's total after its discounts, per unit), less their share of any order-level discount
    (what the lines come to above the order's total), fees excluded (REWARDS_NO_EARN_SKUS)."""
    lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
    taken = handed_over_by_line(order=order)
    lines_total = sum((line.line_total for line in lines), Decimal(0))
    discount = max(lines_total - order.total, Decimal(0))
    result = []
    for line in lines:
        units = taken.get(line.pk, 0)
        if not units or line.sku in settings.REWARDS_NO_EARN_SKUS:
            continue
        # What the line cost after its own discounts (a coupon's, points used), per unit handed over.
        paid = line.line_total * units / line.quantity
        if discount and lines_total:
            paid -= discount * line.line_total / lines_total * units / line.quantity
        points = points_for(max(paid, Decimal(0)))
        if points > 0:
            result.append((line, units, points))
    return result


def earn_for_order(*, order: Order) -> RewardEntry | None:
    """The member of a handed-over, delivered or shipped order earns on what she took and paid
    (see _earn_by_line), once per order. None when the order has no member or earns nothing, or
    the existing entry when it already earned. Raises RewardRefused for an order that is not
    handed over (placed, ready, cancelled)."""
    if order.status not in EARNING_STATUSES:
        raise RewardRefused(
            _("Order %(number)s earns no points while it is “%(status)s”.")
            % {"number": order.number, "status": order.get_status_display()}
        )
    account = account_for_order(order)
    if account is None:
        return None
    by_line = _earn_by_line(order)
    if not by_line:
        return None
    with transaction.atomic():
        locked = _lock(account)
        existing = RewardEntry.objects.filter(order=order, kind=EntryKind.EARN).first()
        if existing is not None:
            return existing
        entry = _append(
            locked,
            kind=EntryKind.EARN,
            points=sum((points for _line, _units, points in by_line), Decimal(0)),
            where=Where(
                RewardChannel.WEB, order.store, None, Why(EntryReason.ORDER_HANDED_OVER, {"number": order.number})
            ),
            order=order,
        )
        RewardEntryLine.objects.bulk_create(
            RewardEntryLine(entry=entry, order_line=line, units=units, points=points) for line, units, points in by_line
        )
    return entry


def reverse_for_return(
    *, order: Order, units: dict[int, int], store: Store, by: User | None, reference: str = ""
) -> list[RewardEntry]:
    """Units of `order` came back at `store` ({order line id: units}, this return's): what those
    units earned is taken back and what they redeemed is given back (_reverse_units). To be called
    in the return's transaction (returns.services.receive_return). Returns the entries written."""
    returned = {"code": reference, "number": order.number}
    return _reverse_units(order, units, RewardChannel.IN_STORE, store, by, EntryReason.RETURNED, returned)


def reverse_for_refund(
    *, order: Order, units: dict[int, int], by: User | None, refund_id: int | None = None
) -> list[RewardEntry]:
    """Units of `order` handed over and then refunded without a return ({order line id: units},
    this refund's: a manager's refund of lines, capped or not): reversed as a return's units are
    (_reverse_units), once per refund. To be called in the refund's transaction (rewards.receivers,
    on orders.signals.goods_refunded; `refund_id`, the refund's, is kept in the entries' reason so
    its e-mail finds them: points_of_refund). Returns the entries written."""
    refunded = {"number": order.number} | ({"refund": refund_id} if refund_id is not None else {})
    return _reverse_units(order, units, RewardChannel.WEB, order.store, by, EntryReason.REFUNDED, refunded)


def _reverse_units(
    order: Order,
    units: dict[int, int],
    channel: RewardChannel,
    store: Store | None,
    by: User | None,
    reason: EntryReason,
    args: dict,
) -> list[RewardEntry]:
    """What `units` earned is taken back and what they redeemed is given back, each in proportion
    to the units (cumulative over the order's returns and refunds, so rounding never takes or
    gives more than the whole). Giving back comes first; taking back never takes the balance below
    zero: what was spent already is taken as far as the balance goes and the entry says so."""
    entries: list[RewardEntry] = []
    earn = RewardEntry.objects.filter(order=order, kind=EntryKind.EARN).select_related("account").first()
    redeem = RewardEntry.objects.filter(order=order, kind=EntryKind.REDEEM).select_related("account").first()
    if earn is None and redeem is None:
        return entries
    account = (earn or redeem).account
    where = Where(channel, store, by, Why(reason, args))
    with transaction.atomic():
        locked = _lock(account)
        if redeem is not None and order.status != OrderStatus.CANCELLED:
            give = _give_back_redeemed(redeem, units)
            if give:
                entry = _append(
                    locked, kind=EntryKind.REVERSE, points=sum(give.values()), where=where, order=order, reverses=redeem
                )
                _write_lines(entry, give, units)
                entries.append(entry)
        if earn is not None:
            take = _take_back_earned(earn, units)
            total = sum(take.values(), Decimal(0))
            if total:
                taken = min(total, locked.balance)
                note = Why(reason, args | ({"spent": str(total - taken)} if taken < total else {}))
                if taken > 0:
                    entry = _append(
                        locked,
                        kind=EntryKind.REVERSE,
                        points=-taken,
                        where=Where(channel, store, by, note),
                        order=order,
                        reverses=earn,
                    )
                    _write_lines(entry, {pk: -points for pk, points in take.items()}, units)
                    entries.append(entry)
    return entries


def _write_lines(entry: RewardEntry, points: dict[int, Decimal], units: dict[int, int]) -> None:
    RewardEntryLine.objects.bulk_create(
        RewardEntryLine(entry=entry, order_line_id=pk, units=units[pk], points=value)
        for pk, value in points.items()
        if value
    )


def _returned_before(reversed_entry: RewardEntry) -> dict[int, tuple[int, Decimal]]:
    """{order line id: (units, points)} already reversed against `reversed_entry`."""
    done: dict[int, tuple[int, Decimal]] = {}
    for pk, units, points in RewardEntryLine.objects.filter(entry__reverses=reversed_entry).values_list(
        "order_line_id", "units", "points"
    ):
        was = done.get(pk, (0, Decimal(0)))
        done[pk] = (was[0] + units, was[1] + points)
    return done


def _take_back_earned(earn: RewardEntry, units: dict[int, int]) -> dict[int, Decimal]:
    before = _returned_before(earn)
    take = {}
    for line in earn.lines.all():
        if not units.get(line.order_line_id):
            continue
        units_before, points_before = before.get(line.order_line_id, (0, Decimal(0)))
        returned = min(units_before + units[line.order_line_id], line.units)
        due = round_to_minor_unit(line.points * returned / line.units, settings.SHOP_CURRENCY)
        take[line.order_line_id] = max(due + points_before, Decimal(0))  # points_before is negative
    return take


def _give_back_redeemed(redeem: RewardEntry, units: dict[int, int]) -> dict[int, Decimal]:
    """Each returned line's share of the points redeemed with the order (its entry line), per unit,
    cumulative over the order's returns."""
    before = _returned_before(redeem)
    give = {}
    for line in redeem.lines.all():
        if not units.get(line.order_line_id):
            continue
        units_before, points_before = before.get(line.order_line_id, (0, Decimal(0)))
        returned = min(units_before + units[line.order_line_id], line.units)
        due = round_to_minor_unit(-line.points * returned / line.units, settings.SHOP_CURRENCY)
        if due - points_before > 0:
            give[line.order_line_id] = due - points_before
    return give


# --- expiry ------------------------------------------------------------------------------------


def expiring(account: RewardAccount, *, by: datetime.datetime) -> Decimal:
    """Points of `account` whose credit expires by `by` and are not spent: credits are spent
    oldest expiry first (redemptions, points taken back and expired alike), so this is what the
    credits due by then add up to, less every debit, never below zero or above the balance."""
    sums = RewardEntry.objects.filter(account=account).aggregate(
        due=Sum("points", filter=Q(points__gt=0, expires_at__lte=by)),
        debits=Sum("points", filter=Q(points__lt=0)),
    )
    left = (sums["due"] or Decimal(0)) + (sums["debits"] or Decimal(0))
    return min(max(left, Decimal(0)), account.balance)


def expire_points(*, account: RewardAccount, now: datetime.datetime | None = None) -> RewardEntry | None:
    """Expire what is left of `account`'s credits whose time has come (REWARDS_POINTS_VALID_DAYS
    after each was credited); None when nothing is due. Safe to run again: what expired is a debit."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(account)
        due = expiring(locked, by=now)
        if due <= 0:
            return None
        return _append(
            locked,
            kind=EntryKind.EXPIRE,
            points=-due,
            where=Where(
                RewardChannel.SHOP,
                None,
                None,
                Why(EntryReason.EXPIRED, {"days": settings.REWARDS_POINTS_VALID_DAYS}),
            ),
            now=now,
        )


# --- the till's CSV file -------------------------------------------------------------------------

TILL_CSV_COLUMNS = ("member", "store", "receipt", "amount")


@dataclass(frozen=True)
class TillRow:
    line: int
    account: RewardAccount
    store: Store
    receipt: str
    amount: Decimal


def import_till_purchases(*, data: bytes, by: User, stores: list[Store]) -> list[RewardEntry]:
    """Import the till's purchases by members (CSV, UTF-8, header `member,store,receipt,amount`:
    the member number, the store's slug, the till receipt number (any case and spacing: stored
    normalised), the amount paid (o2o_site.money.parse_amount: "100.000", "100 000" and "100,000"
    are a hundred thousand in ISK; an ambiguous amount is a bad row). A purchase too small to earn
    is imported, earning 0. Errors name the file's lines (the header is line 1). Every row is
    checked first and the whole file is refused (ImportRejected, every bad row named, nothing
    written) for any bad row: an unknown member or store, a store not among `stores` (the staff's
    own), a bad amount or receipt, the same receipt twice in the file or already earned. A good
    file earns in one transaction. Returns the entries written."""
    rows = read_csv(decode_csv(data), required=TILL_CSV_COLUMNS)
    by_slug = {store.slug: store for store in stores}
    numbers = {(row.get("member") or "").strip() for row in rows}
    accounts = {account.number: account for account in RewardAccount.objects.filter(number__in=numbers)}
    errors: list[RowError] = []
    checked: list[TillRow] = []
    seen: dict[tuple[int, str], int] = {}
    for row in rows:
        index = row.line  # the file's own line (header = 1; blank lines counted)
        problems = extra_values_problem(row)
        member = (row.get("member") or "").strip()
        account = accounts.get(member)
        if account is None:
            problems.append(_("no member has the number “%(value)s”") % {"value": member[:20]})
        slug = (row.get("store") or "").strip()
        store = by_slug.get(slug)
        if store is None:
            problems.append(_("“%(value)s” is not one of your stores") % {"value": slug[:40]})
        receipt = amount = None
        try:
            receipt = checked_till_receipt(row.get("receipt") or "")
        except RewardRefused as refused:
            problems.append(str(refused))
        try:
            amount = _checked_amount(row.get("amount") or "", what=_("The amount"))
        except RewardRefused as refused:
            problems.append(str(refused))
        if store is not None and receipt is not None:
            if (store.pk, receipt) in seen:
                problems.append(
                    _("receipt %(number)s is also on line %(line)s")
                    % {"number": receipt, "line": seen[store.pk, receipt]}
                )
            seen.setdefault((store.pk, receipt), index)
        if problems:
            errors.extend(RowError(line=index, message=problem) for problem in problems)
        else:
            checked.append(TillRow(line=index, account=account, store=store, receipt=receipt, amount=amount))
    if not rows:
        errors.append(RowError(line=1, message=_("the file has no purchases")))
    used = set(
        RewardEntry.objects.filter(
            kind=EntryKind.EARN,
            store__in=[row.store for row in checked],
            till_receipt_number__in=[row.receipt for row in checked],
        ).values_list("store_id", "till_receipt_number")
    )
    for row in checked:
        if (row.store.pk, row.receipt) in used:
            errors.append(
                RowError(
                    line=row.line,
                    message=_("receipt %(number)s at %(store)s has already earned points")
                    % {"number": row.receipt, "store": row.store.name},
                )
            )
    if errors:
        raise ImportRejected(errors)
    reason = Why(EntryReason.TILL_IMPORT)
    with transaction.atomic():
        entries = []
        for row in checked:
            try:
                entries.append(
                    earn_in_store(
                        account=row.account,
                        store=row.store,
                        till_receipt_number=row.receipt,
                        amount=row.amount,
                        by=by,
                        reason=reason,
                    )
                )
            except RewardRefused as refused:  # a receipt that earned meanwhile (another import at once)
                raise ImportRejected([RowError(line=row.line, message=str(refused))]) from None
        return entries
