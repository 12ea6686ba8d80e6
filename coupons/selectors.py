"""Reads of coupons for other pages and apps (a member's coupons, a campaign's figures)."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User

from .codes import normalise_code
from .models import Coupon, CouponCode, Redemption, RedemptionStatus


@dataclass(frozen=True)
class MemberCoupon:
    """A code issued to a member, as their coupon page lists it: `usable` unless it was used
    (a single-use code), the coupon ended, or is not active."""

    code: CouponCode
    used: bool
    usable: bool

    @property
    def coupon(self) -> Coupon:
        return self.code.coupon


def coupons_for(customer: User, *, at: datetime.datetime | None = None) -> list[MemberCoupon]:
    """The codes issued to `customer` (campaigns, rewards), newest first, each with whether it
    was used and whether it can be used now. Two queries whatever the number of codes (the codes
    with their coupons and a used flag, then nothing else)."""
    at = at or timezone.now()
    if customer is None or not customer.is_authenticated:
        return []
    codes = (
        CouponCode.objects.filter(issued_to=customer)
        .select_related("coupon")
        .annotate(live_uses=Exists(Redemption.objects.filter(code=OuterRef("pk"), status=RedemptionStatus.REDEEMED)))
        .order_by("-created_at", "-pk")
    )
    result = []
    for code in codes:
        coupon = code.coupon
        used = code.single_use and code.live_uses
        live = coupon.is_active and coupon.valid_from <= at and (coupon.valid_until is None or coupon.valid_until > at)
        result.append(MemberCoupon(code=code, used=bool(used), usable=live and not used))
    return result


def redemptions_of_codes(codes: Iterable[str]) -> int:
    """How many live redemptions (not released) the given codes have, as stored or as typed:
    what a campaign shows as 'redeemed' for the codes it sent. One query."""
    normal = [normalise_code(code) for code in codes]
    return Redemption.objects.filter(code__code__in=normal, status=RedemptionStatus.REDEEMED).count()


def redemption_figures(coupon: Coupon) -> dict[str, int]:
    """Live redemptions of `coupon` by channel ({"web": n, "in_store": m}); one query."""
    rows = (
        Redemption.objects.filter(coupon=coupon, status=RedemptionStatus.REDEEMED)
        .values("channel")
        .annotate(n=Count("pk"))
    )
    return {row["channel"]: row["n"] for row in rows}


def live_uses(coupon: Coupon) -> int:
    """Redemptions of `coupon` that count against its limits now."""
    return Redemption.objects.filter(coupon=coupon).filter(Q(status=RedemptionStatus.REDEEMED)).count()
