"""Coupons at checkout: the discount on each line (and VAT on what is paid), a free delivery, what
the payment takes, the use released when the order is cancelled, every bad code refused with its
reason and nothing written, and the checkout page's "Apply"."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from checkout import handover
from checkout.services import CheckoutChanged, ConfirmedCheckout, cancel_by_shopper, place_pickup_order
from checkout.tests.test_checkout import CONTACT, fill_cart
from coupons.codes import display_code
from coupons.models import CouponCode, CouponKind, Redemption, RedemptionStatus
from coupons.services import issue_codes
from coupons.tests.factories import CouponCodeFactory, CouponFactory
from orders.models import Channel, Order, OrderLine
from orders.services import Contact
from payment.models import PaymentStatus, Receipt
from payment.tests.factories import authorised_payment
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

DUMMY = ("payments.dummy.DummyProvider", {"capture": False})


@pytest.fixture(autouse=True)
def providers(settings):
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    settings.SHOP_PAYMENT_OPTIONS = "both"
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


@pytest.fixture
def world():
    store = StoreFactory(name="Laugavegur")
    wool = CategoryFactory(name="Wool", slug="wool")
    food = CategoryFactory(name="Food", slug="food")
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"), category=wool)
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("3990"), category=wool)
    # food carries the reduced rate (11 % in Iceland)
    skyr = ProductFactory(name="Skyr", price=Decimal("990"), category=food, vat_class="reduced")
    for product in (sweater, mittens, skyr):
        StockLevelFactory(store=store, product=product, on_hand=5)
    return {"store": store, "sweater": sweater, "mittens": mittens, "skyr": skyr, "wool": wool}


def checkout(world, quantities, code, **extra):
    return ConfirmedCheckout.at_current_prices(
        quantities={product.pk: units for product, units in quantities},
        store=world["store"],
        contact=Contact(name="Anna Jónsdóttir", email="anna@example.com", phone="+354 555 1234"),
        coupon_code=code,
        **extra,
    )


def test_a_percent_coupon_takes_its_share_off_each_line_and_vat_is_on_what_is_paid(world):
    # given a 10 % coupon
    CouponCodeFactory(code="VETUR10", coupon=CouponFactory(value=Decimal("10")))
    # when Anna orders a sweater and two skyr with it, typed in lower case with a space
    order = place_pickup_order(checkout=checkout(world, [(world["sweater"], 1), (world["skyr"], 2)], "vetur 10"))
    # then each line is charged 10 % less, its VAT on that, and the order total is the sum
    lines = {line.product_id: line for line in OrderLine.objects.filter(order=order)}
    sweater, skyr = lines[world["sweater"].pk], lines[world["skyr"].pk]
    assert (sweater.discount, sweater.line_total, sweater.vat_rate, sweater.vat_amount) == (
        Decimal("2499"),
        Decimal("22491"),
        Decimal("24"),
        Decimal("4353"),  # 22491 × 24/124, not 4837 on the full price
    )
    assert (skyr.discount, skyr.line_total, skyr.vat_amount) == (Decimal("198"), Decimal("1782"), Decimal("177"))
    assert order.total == Decimal("24273")
    # and the use is recorded: channel, store, order, the discount
    redemption = Redemption.objects.get()
    assert (redemption.channel, redemption.store, redemption.order, redemption.discount) == (
        Channel.WEB,
        world["store"],
        order,
        Decimal("2697"),
    )
    assert redemption.email == "anna@example.com"


def test_an_amount_coupon_for_one_category_is_shared_over_its_lines_only(world):
    coupon = CouponFactory(kind=CouponKind.AMOUNT, value=Decimal("3000"))
    coupon.categories.set([world["wool"]])
    CouponCodeFactory(code="ULL3000", coupon=coupon)
    order = place_pickup_order(
        checkout=checkout(world, [(world["sweater"], 1), (world["mittens"], 1), (world["skyr"], 1)], "ULL3000")
    )
    discounts = dict(OrderLine.objects.filter(order=order).values_list("product_id", "discount"))
    # 3000 over 24990 and 3990 by value: 2587 and 413; the skyr (food) pays in full
    assert discounts == {world["sweater"].pk: Decimal("2587"), world["mittens"].pk: Decimal("413"), world["skyr"].pk: 0}
    assert order.total == Decimal("24990") + Decimal("3990") + Decimal("990") - Decimal("3000")


def test_the_payment_is_for_the_discounted_total_and_a_partial_hand_over_captures_what_was_charged(world):
    # given an order of a sweater and two pairs of mittens with 10 % off, paid online
    CouponCodeFactory(code="VETUR10", coupon=CouponFactory(value=Decimal("10")))
    order = place_pickup_order(checkout=checkout(world, [(world["sweater"], 1), (world["mittens"], 2)], "VETUR10"))
    assert order.total == Decimal("29673")  # 22491 + 7182
    payment = authorised_payment(order)
    assert payment.total == Decimal("29673")
    manager = StoreManagerFactory(stores=[world["store"]])
    mark_ready_for_pickup(order=order)
    # when she takes the sweater and one pair
    mittens_line = OrderLine.objects.get(order=order, product=world["mittens"])
    sweater_line = OrderLine.objects.get(order=order, product=world["sweater"])
    handover.hand_over(
        order=order, code=pickup_of(order).code, by=manager, quantities={sweater_line.pk: 1, mittens_line.pk: 1}
    )
    # then what was charged for them is captured, the rest released, and the receipt adds up
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.released_amount) == (
        PaymentStatus.CONFIRMED,
        Decimal("26082"),  # 22491 + 7182 / 2
        Decimal("3591"),
    )
    receipt = Receipt.objects.get(payment=payment)
    assert sum(line.line_total for line in receipt.lines.all()) == Decimal("26082")


def test_cancelling_the_order_releases_the_use(world, django_capture_on_commit_callbacks):
    code = CouponCodeFactory(code="EINU", coupon=CouponFactory(limit_total=1))
    order = place_pickup_order(checkout=checkout(world, [(world["mittens"], 1)], "EINU"))
    # the one use is taken: another order cannot have it
    with pytest.raises(CheckoutChanged) as refused:
        place_pickup_order(checkout=checkout(world, [(world["mittens"], 1)], "EINU"))
    assert refused.value.changes[0].message == "Coupon EINU has been used up."
    # when Anna cancels, the use is given back
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_shopper(order=order)
    assert Redemption.objects.get(order=order).status == RedemptionStatus.RELEASED
    assert place_pickup_order(checkout=checkout(world, [(world["mittens"], 1)], code.code)).pk


def _refused_and_nothing_written(world, code):
    def written():
        level = StockLevel.objects.get(store=world["store"], product=world["mittens"])
        return Order.objects.count(), Redemption.objects.count(), level.reserved

    before = written()
    with pytest.raises(CheckoutChanged) as refused:
        place_pickup_order(checkout=checkout(world, [(world["mittens"], 1)], code))
    assert written() == before
    return refused.value.changes[0].message


def test_bad_codes_at_checkout_say_why_and_write_nothing(world):
    ended = timezone.now() - datetime.timedelta(minutes=5)
    CouponCodeFactory(
        code="LIDID", coupon=CouponFactory(valid_from=ended - datetime.timedelta(days=3), valid_until=ended)
    )
    CouponCodeFactory(code="BUID", coupon=CouponFactory(limit_total=0))
    elsewhere = CouponFactory()
    elsewhere.stores.set([StoreFactory(name="Akureyri")])
    CouponCodeFactory(code="NORDUR", coupon=elsewhere)
    [single] = issue_codes(coupon=CouponFactory(), count=1)
    place_pickup_order(checkout=checkout(world, [(world["mittens"], 1)], single.lower()))

    assert _refused_and_nothing_written(world, "lidid").startswith("Coupon LIDID expired on ")
    assert _refused_and_nothing_written(world, "BUID") == "Coupon BUID has been used up."
    assert _refused_and_nothing_written(world, "NORDUR") == "Coupon NORDUR is not valid at Laugavegur."
    assert "has already been used" in _refused_and_nothing_written(world, f" {single[:4]} {single[4:]} ")
    assert "no coupon with the code" in _refused_and_nothing_written(world, "ekki-til")


def test_a_free_delivery_coupon_on_a_pickup_says_there_is_no_fee(world):
    CouponCodeFactory(code="FRITT", coupon=CouponFactory(kind=CouponKind.FREE_DELIVERY, value=0))
    assert "no delivery fee" in _refused_and_nothing_written(world, "FRITT")


def test_the_checkout_page_shows_the_discount_on_apply_and_places_the_order_with_it(client, world):
    CouponCodeFactory(code="VETUR10", coupon=CouponFactory(value=Decimal("10")))
    fill_cart(client, {world["sweater"]: 1})
    page = client.get(reverse("checkout:checkout")).content.decode()
    token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
    data = {**CONTACT, "store": world["store"].pk, "checkout_token": token, "coupon_code": "vetur10"}
    # when she presses "Apply"
    applied = client.post(reverse("checkout:checkout"), {**data, "apply_coupon": "1"}).content.decode()
    # then the page shows what it takes off and the new total; nothing is placed yet
    assert 'data-testid="coupon-discount"' in applied
    assert "ISK\u00a022,491" in applied
    assert not Order.objects.exists()
    # and placing the order applies it
    response = client.post(reverse("checkout:checkout"), data)
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.total == Decimal("22491")
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'data-testid="order-coupon"' in page and "Coupon VETUR10" in page


@pytest.mark.parametrize("single_use", [False, True], ids=["shared", "single-use"])
def test_the_code_reads_as_the_shop_made_it_on_the_checkout_and_the_order_page(client, world, single_use):
    # given a shared code the shop chose ("EYES10") or a generated single-use one
    coupon = CouponFactory(value=Decimal("10"))
    if single_use:
        [stored] = issue_codes(coupon=coupon, count=1)
    else:
        stored = CouponCodeFactory(code="EYES10", coupon=coupon).code
    made = CouponCode.objects.get(code=stored).display
    fill_cart(client, {world["sweater"]: 1})
    page = client.get(reverse("checkout:checkout")).content.decode()
    token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
    # typed in lower case with spaces where the shop put none
    typed = " ".join(stored.lower())
    data = {**CONTACT, "store": world["store"].pk, "checkout_token": token, "coupon_code": typed}
    # when she applies it, then places the order
    applied = client.post(reverse("checkout:checkout"), {**data, "apply_coupon": "1"}).content.decode()
    client.post(reverse("checkout:checkout"), data)
    order_page = client.get(Order.objects.get().get_absolute_url()).content.decode()
    # then both pages name the code in the one form the shop made it
    assert f"Coupon {made} (at Laugavegur)" in applied
    assert f"Coupon {made}<" in order_page
    assert made == (display_code(stored) if single_use else "EYES10")


def test_a_bad_code_on_the_checkout_page_is_said_and_nothing_is_placed(client, world):
    fill_cart(client, {world["sweater"]: 1})
    page = client.get(reverse("checkout:checkout")).content.decode()
    token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
    data = {**CONTACT, "store": world["store"].pk, "checkout_token": token, "coupon_code": "nope"}
    applied = client.post(reverse("checkout:checkout"), {**data, "apply_coupon": "1"}).content.decode()
    assert 'data-testid="coupon-refused"' in applied and "no coupon with the code NOPE" in applied
    placed = client.post(reverse("checkout:checkout"), data).content.decode()
    assert "no coupon with the code NOPE" in placed
    assert not Order.objects.exists()
