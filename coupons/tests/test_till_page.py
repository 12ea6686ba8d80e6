"""The till page in the admin: staff redeem a coupon at one of their stores, see the discount to
give, are told why a code is refused; another store's till is not theirs. And the QR tag."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory, UserFactory
from coupons.models import Redemption
from orders.models import Channel
from stores.tests.factories import StoreFactory

from .factories import CouponCodeFactory, CouponFactory

pytestmark = pytest.mark.django_db

TILL = reverse("admin:coupons_redemption_till")


@pytest.fixture
def stores():
    return StoreFactory(name="Laugavegur"), StoreFactory(name="Grünerløkka", country="NO", time_zone="Europe/Oslo")


@pytest.fixture
def staff(client, stores):
    member = StoreManagerFactory(stores=[stores[0]])
    client.force_login(member)
    return member


def test_staff_redeem_a_scanned_code_at_their_store_and_are_told_the_discount(client, staff, stores):
    CouponCodeFactory(code="VETUR20", coupon=CouponFactory(value=Decimal("20")))
    page = client.get(TILL).content.decode()
    assert "Laugavegur" in page and "Grünerløkka" not in page  # only their stores
    response = client.post(
        TILL,
        {"store": stores[0].pk, "code": " vetur20 ", "purchase_amount": "12990", "till_receipt": "K2-1"},
        follow=True,
    )
    text = response.content.decode()
    assert "take ISK\u00a02,598 off; the shopper pays ISK\u00a010,392" in text
    redemption = Redemption.objects.get()
    assert (redemption.channel, redemption.store, redemption.till_receipt, redemption.by) == (
        Channel.IN_STORE,
        stores[0],
        "K2-1",
        staff,
    )
    assert "K2-1" in text  # the last redemptions list


@pytest.mark.parametrize(
    ("code", "amount", "message"),
    [
        ("NOPE", "1000", "There is no coupon with the code NOPE"),
        ("", "1000", "Scan or type the coupon&#x27;s code."),
        ("VETUR20", "0", "Enter an amount above zero."),
        ("VETUR20", "-5", "Enter an amount above zero."),
        ("VETUR20", "10.5", "Amounts in ISK have no decimals: enter a whole number."),
    ],
)
def test_a_bad_code_or_amount_is_said_and_nothing_recorded(client, staff, stores, code, amount, message):
    CouponCodeFactory(code="VETUR20", coupon=CouponFactory(value=Decimal("20")))
    response = client.post(
        TILL, {"store": stores[0].pk, "code": code, "purchase_amount": amount, "till_receipt": "K2-2"}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Redemption.objects.exists()


def test_a_coupon_used_on_a_receipt_is_refused_at_the_receipt_field_in_any_spelling(client, staff, stores):
    # given VETUR20 was used on receipt K2-000123
    CouponCodeFactory(code="VETUR20", coupon=CouponFactory(value=Decimal("20")))
    sale = {"store": stores[0].pk, "code": "VETUR20", "purchase_amount": "12990"}
    client.post(TILL, {**sale, "till_receipt": "K2-000123"})
    # when it is scanned again for the same receipt, typed in lower case with spaces
    response = client.post(TILL, {**sale, "till_receipt": "  k2-000123 "})
    # then the receipt's field says why, what was typed is kept, and nothing more is recorded
    form = response.context["form"]
    assert form.errors == {"till_receipt": ["Coupon VETUR20 was already used on receipt K2-000123 at Laugavegur."]}
    assert 'value="  k2-000123 "' in response.content.decode()
    assert Redemption.objects.count() == 1
    # and a receipt number is needed at all, and must be one
    for typed, message in (("", "Enter the receipt number printed by the till."), ("###", "is not a till receipt")):
        response = client.post(TILL, {**sale, "till_receipt": typed})
        assert message in response.context["form"].errors["till_receipt"][0]
    assert Redemption.objects.count() == 1


def test_another_stores_till_is_refused_and_nothing_recorded(client, staff, stores):
    CouponCodeFactory(code="VETUR20")
    response = client.post(
        TILL, {"store": stores[1].pk, "code": "VETUR20", "purchase_amount": "1000", "till_receipt": "K2-3"}
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Redemption.objects.exists()


def test_a_shopper_cannot_open_the_till(client):
    client.force_login(UserFactory())
    assert client.get(TILL).status_code == 302  # to the admin login


def test_the_till_page_costs_the_same_queries_with_many_redemptions(
    client, staff, stores, django_assert_max_num_queries
):
    code = CouponCodeFactory(code="MARGIR")
    for n in range(12):
        Redemption.objects.create(
            coupon=code.coupon,
            code=code,
            channel=Channel.IN_STORE,
            store=stores[0],
            till_receipt=f"R{n}",
            purchase_amount=Decimal("1000"),
            discount=Decimal("100"),
            currency="ISK",
        )
    with django_assert_max_num_queries(12):
        assert client.get(TILL).status_code == 200


def test_the_qr_tag_draws_the_code_as_inline_svg():
    html = Template("{% load coupons %}{% coupon_qr code %}").render(Context({"code": "K7QXM4HPRT"}))
    assert html.startswith("<svg") and "<title>K7QXM4HPRT</title>" in html
    assert "style=" not in html
