"""Redeeming at a store's till (coupons.services.redeem_at_till), and every bad code refused with
a clear message and nothing written."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory, UserFactory
from coupons.models import CouponKind, Redemption, RedemptionStatus
from coupons.services import CouponRefused, Refusal, generate_batch, issue_codes, redeem_at_till
from orders.models import Channel
from stores.tests.factories import StoreFactory

from .factories import CouponCodeFactory, CouponFactory, till_receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def staff(store):
    return StoreManagerFactory(stores=[store])


def test_a_till_redemption_records_channel_store_receipt_and_the_discount(store, staff):
    # given a 20 % coupon with a shared code
    code = CouponCodeFactory(code="VETUR20", coupon=CouponFactory(value=Decimal("20")))
    # when staff scan it for a 12 990 ISK purchase
    redemption = redeem_at_till(
        code="vetur20", store=store, purchase_amount=Decimal("12990"), by=staff, till_receipt="K2-000123"
    )
    # then
    redemption.refresh_from_db()
    assert redemption.channel == Channel.IN_STORE
    assert redemption.store == store
    assert redemption.till_receipt == "K2-000123"
    assert redemption.discount == Decimal("2598")
    assert redemption.by == staff
    assert redemption.coupon == code.coupon


def test_a_code_typed_in_lower_case_with_spaces_and_dashes_is_the_same_code(store, staff):
    CouponCodeFactory(code="SUMAR25", coupon=CouponFactory(kind=CouponKind.AMOUNT, value=Decimal("1000")))
    redemption = redeem_at_till(
        code="  sumar - 25 ", store=store, purchase_amount=Decimal("5000"), by=staff, till_receipt=till_receipt()
    )
    assert redemption.code.code == "SUMAR25"
    assert redemption.discount == Decimal("1000")


def _refused(reason, store, staff, code, amount=Decimal("5000")):
    before = Redemption.objects.count()
    with pytest.raises(CouponRefused) as refused:
        redeem_at_till(code=code, store=store, purchase_amount=amount, by=staff, till_receipt=till_receipt())
    assert refused.value.reason == reason
    assert Redemption.objects.count() == before  # nothing written
    return refused.value.message


def test_an_expired_code_is_refused_with_its_end_date(store, staff):
    ended = timezone.now() - datetime.timedelta(hours=1)
    CouponCodeFactory(
        code="HAUST",
        coupon=CouponFactory(valid_from=ended - datetime.timedelta(days=10), valid_until=ended),
    )
    message = _refused(Refusal.EXPIRED, store, staff, "haust")
    assert "HAUST" in message and "expired" in message


def test_an_exhausted_coupon_is_refused(store, staff):
    code = CouponCodeFactory(code="FYRSTU2", coupon=CouponFactory(limit_total=2))
    redeem_at_till(code=code.code, store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt=till_receipt())
    redeem_at_till(code=code.code, store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt=till_receipt())
    message = _refused(Refusal.EXHAUSTED, store, staff, code.code)
    assert "used up" in message


def test_a_code_for_other_stores_is_refused_naming_this_store(store, staff):
    coupon = CouponFactory()
    coupon.stores.set([StoreFactory(name="Akureyri")])
    CouponCodeFactory(code="NORDUR", coupon=coupon)
    message = _refused(Refusal.WRONG_STORE, store, staff, "NORDUR")
    assert message == "Coupon NORDUR is not valid at Laugavegur."


def test_a_single_use_code_is_refused_the_second_time(store, staff):
    coupon = CouponFactory()
    [code] = issue_codes(coupon=coupon, count=1)
    redeem_at_till(code=code, store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt=till_receipt())
    message = _refused(Refusal.ALREADY_USED, store, staff, code.lower())
    assert "already been used" in message


def test_an_unknown_code_and_an_empty_one_are_refused(store, staff):
    assert "no coupon with the code NOPE" in _refused(Refusal.UNKNOWN, store, staff, " nope ")
    assert _refused(Refusal.UNKNOWN, store, staff, "   ") == "Enter a coupon code."


def test_an_online_only_coupon_and_free_delivery_give_nothing_at_the_till(store, staff):
    CouponCodeFactory(code="NETID", coupon=CouponFactory(in_store=False))
    CouponCodeFactory(code="FRITT", coupon=CouponFactory(kind=CouponKind.FREE_DELIVERY, value=0))
    _refused(Refusal.WRONG_CHANNEL, store, staff, "NETID")
    _refused(Refusal.NOTHING_OFF, store, staff, "FRITT")


def test_below_the_minimum_purchase_is_refused(store, staff):
    CouponCodeFactory(code="STOR", coupon=CouponFactory(minimum_order=Decimal("10000")))
    assert "at least" in _refused(Refusal.MINIMUM_ORDER, store, staff, "STOR", amount=Decimal("9999"))


def test_a_bad_amount_is_refused_before_anything_is_looked_up(store, staff):
    CouponCodeFactory(code="SUMAR")
    for amount in (Decimal("0"), Decimal("-5"), Decimal("10.5")):
        with pytest.raises(ValueError):
            redeem_at_till(code="SUMAR", store=store, purchase_amount=amount, by=staff, till_receipt=till_receipt())
    assert not Redemption.objects.exists()


def test_the_per_customer_limit_counts_the_codes_issued_to_a_customer(store, staff):
    coupon = CouponFactory(limit_per_customer=1)
    anna = UserFactory()
    first, second = issue_codes(coupon=coupon, count=2, issued_to=[anna, anna])
    redeem_at_till(code=first, store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt=till_receipt())
    _refused(Refusal.CUSTOMER_LIMIT, store, staff, second)


def test_a_batch_of_thousands_is_generated_in_a_few_queries(django_assert_max_num_queries):
    coupon = CouponFactory()
    with django_assert_max_num_queries(12):
        batch = generate_batch(coupon=coupon, count=5000, label="Póstlisti")
    codes = list(batch.codes.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 5000
    assert all(len(code) == 10 for code in codes)


def test_a_released_redemption_no_longer_counts(store, staff):
    code = CouponCodeFactory(code="EINN", coupon=CouponFactory(limit_total=1))
    used = redeem_at_till(
        code="EINN", store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt=till_receipt()
    )
    Redemption.objects.filter(pk=used.pk).update(status=RedemptionStatus.RELEASED)
    assert redeem_at_till(
        code=code.code, store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt=till_receipt()
    ).pk


def test_a_coupon_is_used_once_per_till_receipt_whatever_its_spelling(store, staff):
    # given a shared 10 % code used on receipt K2-000123 at Laugavegur
    coupon = CouponFactory()
    CouponCodeFactory(code="VETUR", coupon=coupon)
    first = redeem_at_till(
        code="VETUR", store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt=" k2-000123"
    )
    assert first.till_receipt == "K2-000123"
    # when the same receipt is typed again in another case and spacing: refused, nothing written
    before = Redemption.objects.count()
    for typed in ("K2-000123", "k2-000123  "):
        with pytest.raises(CouponRefused) as refused:
            redeem_at_till(code="vetur", store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt=typed)
        assert refused.value.reason == Refusal.RECEIPT_USED
        assert refused.value.message == "Coupon VETUR was already used on receipt K2-000123 at Laugavegur."
    # and two single-use codes of one coupon on one receipt are one coupon twice
    batch_coupon = CouponFactory()
    one, two = issue_codes(coupon=batch_coupon, count=2)
    redeem_at_till(code=one, store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt="R 45")
    with pytest.raises(CouponRefused, match="already used on receipt R 45"):
        redeem_at_till(code=two, store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt="r  45")
    assert Redemption.objects.count() == before + 1
    # another receipt, or the same number at another store's till, is another sale
    redeem_at_till(code="VETUR", store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt="K2-000124")
    redeem_at_till(
        code="VETUR",
        store=StoreFactory(name="Akureyri"),
        purchase_amount=Decimal("1000"),
        by=None,
        till_receipt="K2-000123",
    )
    # a released use gives the receipt back
    Redemption.objects.filter(pk=first.pk).update(status=RedemptionStatus.RELEASED)
    redeem_at_till(code="VETUR", store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt="K2-000123")


@pytest.mark.parametrize("typed", ["", "   ", "###", "NO-DIGITS", "1" * 41])
def test_a_till_redemption_needs_a_receipt_number(store, staff, typed):
    CouponCodeFactory(code="VETUR")
    with pytest.raises(CouponRefused) as refused:
        redeem_at_till(code="VETUR", store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt=typed)
    assert refused.value.reason == Refusal.BAD_RECEIPT
    assert not Redemption.objects.exists()


def test_the_database_keeps_one_use_per_receipt_and_receipts_normalised(store, staff):
    used = redeem_at_till(
        code=CouponCodeFactory().code, store=store, purchase_amount=Decimal("1000"), by=staff, till_receipt="K2-1"
    )
    fields = {
        field: getattr(used, field)
        for field in ("coupon", "code", "channel", "store", "purchase_amount", "discount", "currency")
    }
    with pytest.raises(IntegrityError, match="redemption_once_per_till_receipt"), transaction.atomic():
        Redemption.objects.create(**fields, till_receipt="K2-1")
    with pytest.raises(IntegrityError, match="redemption_till_receipt_normalised"), transaction.atomic():
        Redemption.objects.create(**fields, till_receipt="k2-2")
