"""Points used at online checkout: taken off the lines (VAT on what is paid), reserved with the
order in the checkout's transaction, captured and receipted as charged, earned on what was paid;
a refusal is a change on the page and places nothing."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from checkout.selectors import order_discounts
from checkout.services import CheckoutChanged
from checkout.tests.test_checkout import CONTACT, fill_cart
from coupons.tests.factories import CouponCodeFactory, CouponFactory
from o2o_site.money import format_money
from orders.models import Order
from orders.tests.factories import place_order
from payment.models import Payment, Receipt
from pickup.services import mark_ready_for_pickup
from rewards import services
from rewards.models import EntryKind, RewardAccount, RewardEntry
from stores.models import StockLevel

from .conftest import collect

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_points(member, pickup_store):
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-0", amount="20000", by=None)
    return member  # 1,000 points


def test_points_used_online_come_off_the_lines_and_are_captured_and_earned_on_what_was_paid(
    with_points, anna, pickup_store, products, pickup_manager, django_capture_on_commit_callbacks
):
    # when Anna uses her 1,000 points on a sweater and two pairs of mittens (ISK 32,970), paying online
    order = place_order(
        store=pickup_store,
        products_and_quantities=[(products["sweater"], 1), (products["mittens"], 2)],
        customer=anna,
        payment="dummy",
        points=Decimal("1000"),
    )

    # then the order is ISK 31,970: 758 off the sweater, 242 off the mittens, VAT on what is paid
    assert order.total == Decimal("31970")
    sweater, mittens = order.lines.order_by("pk")
    assert (sweater.discount, sweater.line_total, mittens.discount, mittens.line_total) == (
        Decimal("758"),
        Decimal("24232"),
        Decimal("242"),
        Decimal("7738"),
    )
    assert sweater.vat_amount == Decimal("4690")  # 24,232 × 24/124, not 24,990's 4,837
    # and the points left her balance with the order, line by line
    redeem = RewardEntry.objects.get(kind=EntryKind.REDEEM)
    assert (redeem.points, redeem.order, redeem.channel) == (Decimal("-1000"), order, "web")
    assert sorted(line.points for line in redeem.lines.all()) == [Decimal("-758"), Decimal("-242")]
    assert RewardAccount.objects.get(pk=with_points.pk).balance == 0
    # and the payment is for what she pays
    assert Payment.objects.get(order=order).total == Decimal("31970")

    # when it is collected, the card is charged 31,970, receipted so, and she earns 5 % of it per line
    with django_capture_on_commit_callbacks(execute=True):
        collect(order, pickup_manager)
    assert Payment.objects.get(order=order).captured_amount == Decimal("31970")
    assert Receipt.objects.get(order=order).total == Decimal("31970")
    earn = RewardEntry.objects.get(kind=EntryKind.EARN, order=order)
    assert earn.points == Decimal("1211") + Decimal("386")


def test_more_points_than_the_balance_refuse_the_checkout_and_place_nothing(with_points, anna, pickup_store, products):
    with pytest.raises(CheckoutChanged, match="Not enough points: the balance is ISK"):
        place_order(
            store=pickup_store,
            products_and_quantities=[(products["mittens"], 1)],
            customer=anna,
            points=Decimal("1001"),
        )
    assert not Order.objects.exists()
    assert RewardEntry.objects.filter(kind=EntryKind.REDEEM).count() == 0
    assert StockLevel.objects.get(store=pickup_store, product=products["mittens"]).reserved == 0


def test_more_points_than_the_goods_cost_are_refused(with_points, anna, pickup_store, products):
    RewardAccount.objects.filter(pk=with_points.pk).update(balance=Decimal("5000"))
    with pytest.raises(CheckoutChanged, match="At most ISK"):
        place_order(
            store=pickup_store,
            products_and_quantities=[(products["mittens"], 1)],
            customer=anna,
            points=Decimal("4000"),
        )
    assert not Order.objects.exists()


def test_a_guest_cannot_use_points_online(with_points, pickup_store, products):
    with pytest.raises(CheckoutChanged, match="Log in as a rewards member"):
        place_order(store=pickup_store, products_and_quantities=[(products["mittens"], 1)], points=Decimal("100"))
    assert not Order.objects.exists()


def test_the_checkout_page_offers_points_to_a_member_only(client, with_points, anna, pickup_store, products):
    client.post(reverse("checkout:cart_add"), {"product_id": products["mittens"].pk, "quantity": 1})
    assert 'data-testid="points"' not in client.get(reverse("checkout:checkout")).content.decode()
    client.force_login(anna)
    client.post(reverse("checkout:cart_add"), {"product_id": products["mittens"].pk, "quantity": 1})
    page = client.get(reverse("checkout:checkout")).content.decode()
    assert 'data-testid="points"' in page and "You have ISK\xa01,000 in points" in page


@pytest.mark.parametrize(
    ("language", "typed", "message"),
    [
        ("en", "100.5", "Points are counted in ISK, which has no decimals: enter a whole number of points."),
        ("is", "100,5", "Punktar eru taldir í ISK, sem er án aukastafa: sláðu inn heila tölu punkta."),
        ("nb", "100,5", "Poeng telles i ISK, som ikke har desimaler: skriv inn et helt antall poeng."),
    ],
)
def test_points_with_decimals_are_refused_at_the_field_kept_and_nothing_is_placed(
    client, with_points, anna, pickup_store, products, language, typed, message
):
    # given Anna, a member with 1,000 points, at the checkout in her language
    client.force_login(anna)
    fill_cart(client, {products["mittens"]: 1})
    with translation.override(language):
        page = client.get(reverse("checkout:checkout"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
        # when she types points with a decimal (krónur have none, and points are krónur)
        data = {**CONTACT, "store": pickup_store.pk, "checkout_token": token, "points": typed}
        response = client.post(reverse("checkout:checkout"), data, HTTP_ACCEPT_LANGUAGE=language)
    # then the points field says why, shows what she typed, and nothing is written
    form = response.context["form"]
    assert response.status_code == 200
    assert form.errors["points"] == [message]
    assert f'name="points" value="{typed}"' in response.content.decode()
    assert not Order.objects.exists()
    assert RewardEntry.objects.filter(kind=EntryKind.REDEEM).count() == 0
    assert RewardAccount.objects.get(pk=with_points.pk).balance == Decimal("1000")


def test_the_order_e_mails_list_the_coupon_and_points_as_the_order_page_does(
    client, with_points, anna, pickup_store, products, mailoutbox, django_capture_on_commit_callbacks
):
    # given Anna places a sweater with a 10 % coupon and her 1,000 points, paying online
    CouponCodeFactory(code="VETUR10", coupon=CouponFactory(value=Decimal("10")))
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(
            store=pickup_store,
            products_and_quantities=[(products["sweater"], 1)],
            customer=anna,
            payment="dummy",
            points=Decimal("1000"),
            coupon_code="VETUR10",
        )
    payment = order.payments.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"/payments/{payment.token}/")
        client.post(
            f"/payments/{payment.token}/",
            {"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"},
        )
        # when it is ready for pickup
        mark_ready_for_pickup(order=Order.objects.get(pk=order.pk))

    # then the order page shows the coupon and the points above the total
    page = client.get(order.get_absolute_url()).content.decode()
    coupon = re.search(r'data-testid="order-coupon">.*?Coupon VETUR10.*?<td class="number">([^<]+)</td>', page, re.S)
    points = re.search(r'data-testid="order-points">.*?<td class="number">([^<]+)</td>', page, re.S)
    assert coupon and points
    # and what the lines came to before them, so the rows add up to the total (found by a
    # fresh-eyes test: the lines are after the discounts, and the rows took them off again)
    order = Order.objects.get(pk=order.pk)
    line = order.lines.get()
    before = format_money(line.line_total + line.discount, order.currency)
    assert re.search(
        r'data-testid="order-before-discounts">.*?Before discounts.*?<td class="number">' + re.escape(before),
        page,
        re.S,
    )
    discounts = order_discounts(order)
    assert discounts["before_discounts"] - discounts["coupon_amount"] - discounts["points"] == order.total
    # and the "order received" and "ready" e-mails show the same lines, as text and as HTML
    received, ready = (
        next(message for message in mailoutbox if subject in message.subject)
        for subject in ("We have received your order", "is ready for pickup")
    )
    for message in (received, ready):
        assert f"Before discounts: {before}\nCoupon VETUR10: {coupon.group(1)}" in message.body, message.body
        assert f"Reward points used: {points.group(1)}" in message.body, message.body
        html = message.alternatives[0][0]
        assert "Coupon VETUR10" in html and coupon.group(1) in html and "Reward points used" in html
        assert "Before discounts" in html and before in html
