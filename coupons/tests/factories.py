import datetime
import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from coupons.models import Coupon, CouponCode, CouponKind


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    name = factory.Sequence(lambda n: f"Coupon {n}")
    kind = CouponKind.PERCENT
    value = Decimal("10")
    valid_from = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))


class CouponCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouponCode

    coupon = factory.SubFactory(CouponFactory)
    code = factory.Sequence(lambda n: f"SUMAR{n:03d}")
    single_use = False


_receipts = itertools.count(1)


def till_receipt() -> str:
    """A till receipt number not used before in this test run ("T-1", "T-2", …)."""
    return f"T-{next(_receipts)}"
