"""Refunds from the admin: a manager refunds an order of their own store by lines or by an amount,
with a reason; another store's manager cannot reach the screen; the order page shows the payment
history (authorised, captured, released, refunded, paid at the till)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from checkout.handover import hand_over
from orders.tests.factories import place_order
from payment.models import Refund, RefundReason
from payment.services import refund_order
from payment.tests.factories import DUMMY, authorised_payment
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

# The order's change page: what it read before payments (session, user, permissions, the order,
# its inlines and pickup), the store's time zone (the page is in store time) and one query for
# its payment history, however long.
CHANGE_PAGE_QUERIES = 17


@pytest.fixture(autouse=True)
def payment_variants(settings):
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", slug="laugavegur")


@pytest.fixture
def products(laugavegur):
    sweater = ProductFactory(name="Hekla lopapeysa", sku="HEKLA-1", price=Decimal("24990"))
    mittens = ProductFactory(name="Lopi mittens", sku="LOPI-1", price=Decimal("3990"))
    for product in (sweater, mittens):
        StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return sweater, mittens


@pytest.fixture
def gudrun(laugavegur):
    return StoreManagerFactory(username="gudrun", first_name="Guðrún", stores=[laugavegur])


@pytest.fixture
def collected(laugavegur, products, gudrun):
    """Paid online, handed over in part: the sweater and one of two pairs of mittens."""
    sweater, mittens = products
    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 1), (mittens, 2)])
    authorised_payment(order)
    mark_ready_for_pickup(order=order)
    lines = {line.product_id: line for line in order.lines.all()}
    hand_over(
        order=order,
        code=pickup_of(order).code,
        by=gudrun,
        quantities={lines[sweater.pk].pk: 1, lines[mittens.pk].pk: 1},
    )
    return order


def refund_url(order):
    return reverse("admin:orders_order_refund", args=[order.pk])


def test_a_manager_refunds_a_returned_line_from_the_order_page(client, gudrun, collected, products):
    # given Guðrún opens the collected order
    sweater, mittens = products
    client.force_login(gudrun)
    change_page = client.get(reverse("admin:orders_order_change", args=[collected.pk])).content.decode()
    screen = client.get(refund_url(collected)).content.decode()
    mittens_line = collected.lines.get(product=mittens)

    # when she refunds the pair of mittens Anna brought back
    response = client.post(
        refund_url(collected),
        {f"line-{mittens_line.pk}": "1", "reason": "returned", "note": "Wrong size"},
        follow=True,
    )

    # then ISK 3,990 is refunded for that line, and the order's payment history says so
    assert f'href="{refund_url(collected)}"' in change_page
    assert "Up to ISK\u00a028,980 can be refunded." in screen
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.note, refund.created_by) == (
        Decimal("3990"),
        "returned",
        "Wrong size",
        gudrun,
    )
    assert list(refund.lines.values_list("order_line", "quantity")) == [(mittens_line.pk, 1)]
    assert f"ISK\u00a03,990 refunded for order {collected.number}." in [
        str(message) for message in get_messages(response.wsgi_request)
    ]
    page = response.content.decode()
    assert "Payment authorised: ISK\u00a032,970" in page
    assert "Payment taken: ISK\u00a028,980" in page
    assert "Released, not charged: ISK\u00a03,990" in page
    assert "Refunded: ISK\u00a03,990 (Returned by the shopper)" in page


def test_lines_and_an_amount_together_are_refused_and_nothing_is_refunded(client, gudrun, collected, products):
    client.force_login(gudrun)
    sweater_line = collected.lines.get(product=products[0])

    response = client.post(refund_url(collected), {f"line-{sweater_line.pk}": "1", "amount": "100", "reason": "faulty"})

    assert response.context["form"].non_field_errors() == ["Refund either lines or an amount."]
    assert not Refund.objects.exists()


def test_more_than_was_taken_is_refused_on_the_screen(client, gudrun, collected):
    client.force_login(gudrun)

    response = client.post(refund_url(collected), {"amount": "28981", "reason": "goodwill"})

    assert response.context["form"].non_field_errors() == [
        "At most ISK\u00a028,980 can be refunded; ISK\u00a028,981 is more."
    ]
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    ("posted", "field", "error"),
    [
        (
            {"amount": "100.5", "reason": "goodwill"},
            "amount",
            "Amounts in ISK have no decimals: enter a whole number.",
        ),
        ({"amount": "1000", "reason": ""}, "reason", "Choose why the money is refunded."),
    ],
    ids=["part-of-a-krona", "no-reason"],
)
def test_an_amount_the_currency_cannot_pay_or_no_reason_is_refused_and_kept(
    client, gudrun, collected, posted, field, error
):
    client.force_login(gudrun)

    response = client.post(refund_url(collected), posted)

    # then the field says what is wrong, what was typed is kept, and nothing is refunded
    form = response.context["form"]
    assert form.errors[field] == [error]
    assert form["amount"].value() == posted["amount"]
    assert not Refund.objects.exists()


def test_a_manager_of_another_store_cannot_refund(client, collected):
    # given Kari manages Grünerløkka only
    kari = StoreManagerFactory(username="kari", stores=[StoreFactory(name="Grünerløkka", slug="grunerlokka")])
    client.force_login(kari)

    # when she opens and posts the refund screen of a Laugavegur order
    shown = client.get(refund_url(collected))
    posted = client.post(refund_url(collected), {"amount": "1000", "reason": "goodwill"})

    # then neither finds the order, and nothing is refunded
    assert (shown.status_code, posted.status_code) == (404, 404)
    assert not Refund.objects.exists()


def test_staff_without_the_refund_permission_are_refused(client, laugavegur, collected):
    clerk = UserFactory(username="clerk", is_staff=True)
    laugavegur.managers.add(clerk)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=("view_order", "change_order"), content_type__app_label="orders")
    )
    client.force_login(clerk)

    assert client.post(refund_url(collected), {"amount": "1000", "reason": "goodwill"}).status_code == 403
    assert not Refund.objects.exists()


def test_the_refund_screen_has_a_fixed_number_of_queries(client, gudrun, laugavegur, django_assert_num_queries):
    products = ProductFactory.create_batch(8)
    for product in products:
        StockLevelFactory(store=laugavegur, product=product, on_hand=3)
    order = place_order(store=laugavegur, products_and_quantities=[(product, 2) for product in products])
    authorised_payment(order)
    mark_ready_for_pickup(order=order)
    hand_over(order=order, code=pickup_of(order).code, by=gudrun)
    client.force_login(gudrun)

    # Session, user, the order, permissions (user's, group's), managed stores, the payments, the
    # units handed over, refunded and given back by returns, the lines: the same for 8 lines as for 1.
    with django_assert_num_queries(10):
        response = client.get(refund_url(order))

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="refund-quantity-') == 8


@pytest.mark.parametrize("refunds", [1, 6])
def test_the_order_page_shows_the_payment_history_at_a_fixed_number_of_queries(
    client, gudrun, collected, refunds, django_assert_num_queries
):
    # given an order paid online, handed over in part, and refunded in several steps
    for _step in range(refunds):
        refund_order(order=collected, amount=Decimal("100"), reason=RefundReason.GOODWILL, by=gudrun)
    client.force_login(gudrun)
    url = reverse("admin:orders_order_change", args=[collected.pk])
    client.get(url)  # the admin's own first-visit reads (content types) are not the page's

    # when the manager opens it, the history costs one query however many changes it has
    with django_assert_num_queries(CHANGE_PAGE_QUERIES):
        page = client.get(url).content.decode()

    assert page.count("Refunded: ISK\u00a0100 (Goodwill or price adjustment)") == refunds


def test_a_line_refunded_after_a_goodwill_amount_gives_back_what_is_left(client, gudrun, collected, products):
    # given ISK 2,000 was refunded as goodwill from the ISK 28,980 taken
    sweater, _mittens = products
    client.force_login(gudrun)
    client.post(refund_url(collected), {"amount": "2000", "reason": "goodwill"})
    sweater_line = collected.lines.get(product=sweater)
    mittens_line = collected.lines.get(product=products[1])
    client.post(refund_url(collected), {f"line-{mittens_line.pk}": "1", "reason": "returned"})
    # when the sweater (ISK 24,990, with ISK 22,990 left to refund) comes back too
    response = client.post(refund_url(collected), {f"line-{sweater_line.pk}": "1", "reason": "returned"}, follow=True)
    # then what is left is refunded for it, not refused, and never more than was taken
    refund = Refund.objects.order_by("-pk").first()
    assert refund.amount == Decimal("22990")
    assert list(refund.lines.values_list("order_line", "quantity", "amount")) == [
        (sweater_line.pk, 1, Decimal("22990"))
    ]
    assert sum(Refund.objects.values_list("amount", flat=True)) == Decimal("28980")
    assert f"ISK\u00a022,990 refunded for order {collected.number}." in [
        str(message) for message in get_messages(response.wsgi_request)
    ]


def test_the_screen_shows_what_each_unit_was_paid_after_a_coupon(client, gudrun, laugavegur, products):
    # given a sweater bought with ISK 1,000 off (a coupon's share of the line), paid and collected
    sweater, _mittens = products
    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    order.lines.update(discount=Decimal("1000"), line_total=Decimal("23990"))
    type(order).objects.filter(pk=order.pk).update(total=Decimal("23990"))
    order.refresh_from_db()
    authorised_payment(order)
    mark_ready_for_pickup(order=order)
    hand_over(order=order, code=pickup_of(order).code, by=gudrun)
    client.force_login(gudrun)
    # then the refund screen shows what a unit was paid, not its price before the discount
    page = client.get(refund_url(order)).content.decode()
    assert 'data-testid="refund-paid-per-unit">ISK\u00a023,990' in page


@pytest.mark.parametrize(
    ("units", "amount", "field", "error"),
    [
        ("2", "", "line", "At most 1 of this can be refunded."),
        ("-1", "", "line", "Enter 0 or more units."),
        ("0", "100.5", "amount", "Amounts in ISK have no decimals: enter a whole number."),
    ],
    ids=["more-than-bought", "negative", "part-of-a-krona"],
)
def test_a_wrong_quantity_or_amount_shows_only_its_own_error(
    client, gudrun, collected, products, units, amount, field, error
):
    client.force_login(gudrun)
    sweater_line = collected.lines.get(product=products[0])
    name = f"line-{sweater_line.pk}" if field == "line" else "amount"
    response = client.post(
        refund_url(collected), {f"line-{sweater_line.pk}": units, "amount": amount, "reason": "goodwill"}
    )
    form = response.context["form"]
    assert form.errors[name] == [error]
    # no second, wrong error: "Choose what to refund: at least one item, or an amount above zero"
    assert form.non_field_errors() == []
    assert not Refund.objects.exists()


def test_the_staff_payment_history_speaks_of_the_shopper_not_to_them(client, laugavegur, products, gudrun):
    # given an order paid online, not yet collected
    sweater, _mittens = products
    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    authorised_payment(order)

    # when Guðrún opens it in the admin
    client.force_login(gudrun)
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    # then the hold is taken "when the order is collected": "when you collect" is the shopper's page
    assert "Payment authorised: ISK\u00a024,990 (taken when the order is collected)" in page
    assert "when you collect" not in page
    shopper_page = client.get(order.get_absolute_url()).content.decode()
    assert "Payment authorised: ISK\u00a024,990 (taken when you collect)" in shopper_page


def test_an_order_not_yet_handed_over_says_so_not_that_its_items_are_refunded(client, gudrun, laugavegur, products):
    # given an order charged at checkout and not handed over yet
    sweater, _mittens = products
    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    authorised_payment(order, status="confirmed")
    client.force_login(gudrun)

    # when its manager opens the refund screen
    response = client.get(refund_url(order))

    # then it says nothing was handed over (only an amount can be refunded), not "refunded already"
    page = response.content.decode()
    assert "Nothing has been handed over yet, so no item can be refunded" in page
    assert "refunded already" not in page
