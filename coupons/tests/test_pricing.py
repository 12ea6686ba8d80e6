from decimal import Decimal

import pytest

from coupons.models import Coupon, CouponKind
from coupons.pricing import PricedLine, share_out, work_out_discount


def test_shares_add_up_to_the_discount_exactly_in_whole_kronur():
    # given three equal lines and 1000 ISK to share
    # when
    shares = share_out(Decimal("1000"), [Decimal("100"), Decimal("100"), Decimal("100")], currency="ISK")
    # then
    assert shares == [Decimal("334"), Decimal("333"), Decimal("333")]
    assert sum(shares) == Decimal("1000")


def test_shares_in_ore_follow_the_weights():
    shares = share_out(Decimal("10.00"), [Decimal("30.00"), Decimal("10.00")], currency="NOK")
    assert shares == [Decimal("7.50"), Decimal("2.50")]


def test_amount_off_is_never_more_than_the_goods_it_applies_to():
    coupon = Coupon(kind=CouponKind.AMOUNT, value=Decimal("5000"))
    discount = work_out_discount(
        coupon,
        lines=[PricedLine(key=1, amount=Decimal("1990"), category_id=7), PricedLine(key=2, amount=Decimal("990"))],
        fees={},
        category_ids={7},
        currency="ISK",
    )
    # only the line in category 7, and only its price
    assert discount.lines == {1: Decimal("1990")}
    assert discount.goods_amount == Decimal("1990")


def test_percent_off_is_per_line_rounded_to_the_minor_unit():
    coupon = Coupon(kind=CouponKind.PERCENT, value=Decimal("15"))
    discount = work_out_discount(
        coupon,
        lines=[PricedLine(key="a", amount=Decimal("4990")), PricedLine(key="b", amount=Decimal("1990"))],
        fees={"delivery": Decimal("990")},
        category_ids=None,
        currency="ISK",
    )
    assert discount.lines == {"a": Decimal("749"), "b": Decimal("299")}
    assert discount.fees == {}
    assert discount.total == Decimal("1048")


def test_free_delivery_waives_the_fee_and_nothing_else():
    coupon = Coupon(kind=CouponKind.FREE_DELIVERY, value=0)
    discount = work_out_discount(
        coupon,
        lines=[PricedLine(key=1, amount=Decimal("4990"))],
        fees={"delivery": Decimal("990")},
        category_ids=None,
        currency="ISK",
    )
    assert discount.lines == {}
    assert discount.fees == {"delivery": Decimal("990")}


@pytest.mark.parametrize(
    ("text", "stored"),
    [(" sumar 25 ", "SUMAR25"), ("k7qx-m4hp-rt", "K7QXM4HPRT"), ("ＳＵＭＡＲ２５", "SUMAR25"), ("\u00a0ab c\t", "ABC")],
)
def test_codes_are_normalised(text, stored):
    from coupons.codes import normalise_code

    assert normalise_code(text) == stored


def test_generated_codes_avoid_characters_people_confuse():
    from coupons.codes import CODE_ALPHABET, generate_code

    assert not set("0O1IL5S2Z8B") & set(CODE_ALPHABET)
    code = generate_code()
    assert len(code) == 10 and set(code) <= set(CODE_ALPHABET)
