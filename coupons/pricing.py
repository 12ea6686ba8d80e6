"""How much a coupon takes off, line by line.

A coupon's discount is shared out over the lines it applies to, in proportion to their value, and
each line is then charged, and its VAT worked out on, its price less its share
(orders.services.create_order). VAT is due on the consideration actually paid: a price discount
granted at the time of the sale is not part of the taxable amount (Council Directive 2006/112/EC
art. 79(b); Iceland: lög nr. 50/1988 um virðisaukaskatt, 7. gr.; Norway: merverdiavgiftsloven
§ 4-1). With lines at different VAT rates, sharing the discount in proportion to each line's
price is the rule tax authorities accept for a discount on a mixed basket, and the one Shopify
and Saleor apply ("discount allocations" per line).

Amounts are VAT-inclusive and in the currency's minor unit. Shares are rounded by the largest
remainder method, so they always add up exactly to the discount.
"""

from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from o2o_site.money import minor_unit_digits, round_to_minor_unit

from .models import Coupon, CouponKind

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PricedLine:
    """A line of goods as it would be charged without the coupon: `amount` = unit price ×
    quantity (VAT included), `category_id` the product's category."""

    key: Hashable
    amount: Decimal
    category_id: int | None = None


@dataclass(frozen=True)
class Discount:
    """A coupon's discount on one purchase: `lines` {line key: share} for the goods, `fees`
    {fee key: share} for a waived delivery or shipping fee; `goods_amount` is the value of the
    goods the coupon applies to (before the discount)."""

    lines: dict = field(default_factory=dict)
    fees: dict = field(default_factory=dict)
    goods_amount: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return sum(self.lines.values(), Decimal(0)) + sum(self.fees.values(), Decimal(0))


def share_out(amount: Decimal, weights: Sequence[Decimal], *, currency: str) -> list[Decimal]:
    """`amount` split over `weights` in proportion, each share in the currency's minor unit, the
    shares adding up to `amount` exactly (largest remainder; ties to the earlier weight).
    `amount` must not exceed sum(weights); a zero weight gets nothing. 1000 ISK over 3 × 100 ISK
    lines: [334, 333, 333]."""
    total = sum(weights, Decimal(0))
    if not total or not amount:
        return [round_to_minor_unit(0, currency) for _ in weights]
    unit = Decimal(1).scaleb(-minor_unit_digits(currency))
    exact = [amount * weight / total for weight in weights]
    shares = [share.quantize(unit, rounding=ROUND_DOWN) for share in exact]
    left = int(((amount - sum(shares)) / unit).to_integral_value())
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += unit
    return shares


def work_out_discount(
    coupon: Coupon,
    *,
    lines: Sequence[PricedLine],
    fees: dict,
    category_ids: Collection[int] | None,
    currency: str,
) -> Discount:
    """The discount `coupon` gives on `lines` (goods) and `fees` ({key: fee amount}).

    `category_ids`: the categories (with their subcategories) the coupon is limited to, None for
    every product. Percent: each line it applies to, that per cent off, rounded per line. Amount:
    the coupon's value, at most the goods it applies to, shared out over them. Free delivery:
    every fee waived, no goods discounted. The caller checks the minimum order and that the
    discount is not nothing."""
    eligible = [line for line in lines if category_ids is None or line.category_id in category_ids]
    goods = sum((line.amount for line in eligible), Decimal(0))
    if coupon.kind == CouponKind.FREE_DELIVERY:
        return Discount(
            fees={key: round_to_minor_unit(fee, currency) for key, fee in fees.items() if fee}, goods_amount=goods
        )
    if coupon.kind == CouponKind.PERCENT:
        shares = {line.key: round_to_minor_unit(line.amount * coupon.value / HUNDRED, currency) for line in eligible}
    else:
        amount = min(round_to_minor_unit(coupon.value, currency), goods)
        shares = dict(
            zip(
                (line.key for line in eligible),
                share_out(amount, [line.amount for line in eligible], currency=currency),
                strict=True,
            )
        )
    return Discount(lines={key: share for key, share in shares.items() if share}, goods_amount=goods)


def discount_on_amount(coupon: Coupon, *, amount: Decimal, currency: str) -> Decimal:
    """The discount on one till purchase of `amount` (the goods the coupon applies to)."""
    return work_out_discount(
        coupon, lines=[PricedLine(key=0, amount=amount)], fees={}, category_ids=None, currency=currency
    ).total
