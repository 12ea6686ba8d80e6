"""Rewards points on the delivery, shipping and split checkouts, by the same rules as on a pickup
(rewards/tests/test_checkout.py): a signed-in member's points come off the goods' lines, leave her
balance with the order and come back if it is cancelled; too many refuse the checkout as a change
and place nothing; a guest is not offered them."""

import dataclasses
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from checkout.cart import SESSION_KEY
from checkout.services import (
    CheckoutChanged,
    ConfirmedCheckout,
    DeliveryChoice,
    place_delivery_order,
    place_split_order,
)
from orders.models import CancelReason, Order, OrderLine
from orders.services import cancel_order
from rewards import services as rewards
from rewards.models import EntryKind, RewardAccount, RewardEntry

from .test_checkout_shipping import find, ship
from .test_checkout_shipping import providers as _shipping_providers  # noqa: F401 — fixture
from .test_checkout_shipping import world as _shipping_world
from .test_split_order import ADDRESS, ANNA, earliest_window, line, nothing_placed, split_checkout, stock

pytestmark = pytest.mark.django_db


shipping_world = pytest.fixture(_shipping_world.__wrapped__, name="shipping_world")


@pytest.fixture
def anna(db):
    return UserFactory(username="anna", email="anna@example.com")


def member_with_points(anna, store, amount="20000"):
    account = rewards.join(email=anna.email, user=anna)
    rewards.earn_in_store(account=account, store=store, till_receipt_number="T-0", amount=amount, by=None)
    return account  # 1,000 points for 20,000


def balance(account):
    return RewardAccount.objects.get(pk=account.pk).balance


def test_a_member_uses_points_on_a_shipped_order_and_gets_them_back_when_it_is_cancelled(
    client, shipping_world, anna, django_capture_on_commit_callbacks
):
    # given Anna, a member with 1,000 points, signed in, shipping two sweaters to Akureyri
    account = member_with_points(anna, shipping_world["store"])
    client.force_login(anna)
    html = find(client).content.decode()
    # then the page offers her points
    assert 'data-testid="points"' in html and 'name="points"' in html

    # when she ships it using 600 of them
    response = ship(client, html, points="600")

    # then the order is 600 less, the points left her balance with it, line by line
    order = Order.objects.get()
    assert response.status_code == 302
    assert order.total == Decimal("24990") * 2 + Decimal("1490") - Decimal("600")
    redeem = RewardEntry.objects.get(kind=EntryKind.REDEEM)
    assert (redeem.points, redeem.order) == (Decimal("-600"), order)
    assert OrderLine.objects.get(order=order, product=shipping_world["sweater"]).discount == Decimal("600")
    assert balance(account) == Decimal("400")

    # when the order is cancelled, they come back
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason=CancelReason.SHOPPER)
    assert balance(account) == Decimal("1000")


def test_too_many_points_on_a_shipped_order_are_named_and_nothing_is_placed(client, shipping_world, anna):
    account = member_with_points(anna, shipping_world["store"])
    client.force_login(anna)
    html = find(client).content.decode()
    response = ship(client, html, points="1500")
    page = response.content.decode()
    assert response.status_code == 200 and "Not enough points" in page
    assert 'name="points" value="1500"' in page  # what she typed is kept
    assert not Order.objects.exists() and balance(account) == Decimal("1000")


def test_points_with_decimals_on_a_shipped_order_are_refused_at_the_field_and_nothing_is_placed(
    client, shipping_world, anna
):
    # given Anna, a member with 1,000 points, signed in
    account = member_with_points(anna, shipping_world["store"])
    client.force_login(anna)
    html = find(client).content.decode()
    # when she types points with a decimal
    response = ship(client, html, points="100.5")
    # then the field says points are whole krónur, keeps what she typed, and nothing is written
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors["points"] == [
        "Points are counted in ISK, which has no decimals: enter a whole number of points."
    ]
    assert 'name="points" value="100.5"' in page
    assert not Order.objects.exists() and balance(account) == Decimal("1000")


def test_a_guest_is_not_offered_points_on_the_delivery_checkout(client, shipping_world):
    html = find(client).content.decode()
    assert 'data-testid="points"' not in html


@pytest.fixture
def split_world_paid(split_payment_provider, split_world):
    return split_world


def test_a_member_uses_points_on_a_delivered_order(split_world_paid, anna, django_capture_on_commit_callbacks):
    world = split_world_paid
    account = member_with_points(anna, world["laugavegur"])
    window = earliest_window(world["laugavegur"])
    # when Anna has the boots delivered using 500 points
    order = place_delivery_order(
        checkout=ConfirmedCheckout(
            lines=(line(world["boots"], 1),),
            store=world["laugavegur"],
            contact=ANNA,
            customer=anna,
            payment="dummy",
            checkout_token="page-d",
            delivery=DeliveryChoice(address=ADDRESS, window_start=window.starts_at, fee_shown=Decimal("990")),
            points=Decimal("500"),
        )
    )
    # then the boots cost 500 less (not the delivery fee) and the points are reserved with the order
    assert order.total == Decimal("12990") - Decimal("500") + Decimal("990")
    assert OrderLine.objects.get(order=order, sku="BOOT-1").discount == Decimal("500")
    assert rewards.redeemed_on(order) == Decimal("500") and balance(account) == Decimal("500")
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason=CancelReason.SHOPPER)
    assert balance(account) == Decimal("1000")


def test_a_member_uses_points_on_an_order_in_parts_shared_over_every_part(
    split_world_paid, anna, django_capture_on_commit_callbacks
):
    world = split_world_paid
    account = member_with_points(anna, world["kringlan"])
    # when Anna places her cart in two parts (ISK 45,950 of goods) using 1,000 points
    order = place_split_order(
        checkout=dataclasses.replace(split_checkout(world), customer=anna, points=Decimal("1000"))
    )
    # then the points come off the goods of both parts by their value, adding up to 1,000
    discounts = dict(OrderLine.objects.filter(order=order).values_list("sku", "discount"))
    assert discounts["DELIVERY"] == 0
    assert sum(discounts.values()) == Decimal("1000") and discounts["BOOT-1"] > 0 and discounts["HEKLA-1"] > 0
    assert order.total == Decimal("24990") + 2 * Decimal("3990") + Decimal("12990") + Decimal("990") - 1000
    redeem = RewardEntry.objects.get(kind=EntryKind.REDEEM, order=order)
    assert sorted(-entry_line.points for entry_line in redeem.lines.all()) == sorted(
        value for sku, value in discounts.items() if value
    )
    assert balance(account) == 0
    # and cancelling gives them back
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason=CancelReason.SHOPPER)
    assert balance(account) == Decimal("1000")


def test_too_many_points_on_an_order_in_parts_place_nothing(split_world_paid, anna):
    world = split_world_paid
    account = member_with_points(anna, world["kringlan"])
    with pytest.raises(CheckoutChanged, match="Not enough points"):
        place_split_order(checkout=dataclasses.replace(split_checkout(world), customer=anna, points=Decimal("1001")))
    nothing_placed(world)
    assert balance(account) == Decimal("1000") and stock(world["kringlan"], world["sweater"]) == (3, 0)


def test_a_guest_using_points_on_an_order_in_parts_is_refused(split_world_paid):
    with pytest.raises(CheckoutChanged, match="Log in as a rewards member"):
        place_split_order(checkout=dataclasses.replace(split_checkout(split_world_paid), points=Decimal("10")))
    nothing_placed(split_world_paid)


def test_the_split_checkout_page_offers_points_to_a_member(client, split_world_paid, anna):
    world = split_world_paid
    member_with_points(anna, world["kringlan"])
    session = client.session
    session[SESSION_KEY] = {str(world["sweater"].pk): 1, str(world["boots"].pk): 1}
    session.save()
    client.force_login(anna)
    address = {
        "street": ADDRESS.street,
        "postcode": "101",
        "city": "Reykjavík",
        "country": "IS",
        "phone": ADDRESS.phone,
    }
    html = client.post(reverse("checkout:split"), {**address, "action": "find"}).content.decode()
    assert 'data-testid="place-split"' in html
    assert 'data-testid="points"' in html and "ISK\xa01,000" in html
