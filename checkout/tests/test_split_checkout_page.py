"""The checkout offers a cart no single location can supply as a split (issue 11): the pickup
page links to it; after the address, each part is shown with its lines, location, method, fee,
time or windows and total, and the order total; placing confirms every part at once and sends the
shopper to pay; a part that changed meanwhile refuses all of it with the cart kept."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from checkout.cart import SESSION_KEY
from delivery.models import Delivery, DeliveryZone
from delivery.selectors import forget_directory
from orders.models import Order
from payment.models import Payment
from pickup.models import Pickup
from stores.models import StockLevel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("split_payment_provider")]


@pytest.fixture
def world(split_world):
    return split_world


ADDRESS = {
    "street": "Bergstaðastræti 12",
    "postcode": "101",
    "city": "Reykjavík",
    "country": "IS",
    "phone": "+354 555 1234",
}


def fill_cart(client, world):
    session = client.session
    session[SESSION_KEY] = {str(world["sweater"].pk): 1, str(world["mittens"].pk): 2, str(world["boots"].pk): 1}
    session.save()


def hidden(html, name):
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def find(client):
    forget_directory()
    return client.post(reverse("checkout:split"), {**ADDRESS, "action": "find"}).content.decode()


def place(client, html, **extra):
    window = re.search(r'<select name="window"[^>]*>\s*<option value="([^"]+)"', html).group(1)
    return client.post(
        reverse("checkout:split"),
        {
            **ADDRESS,
            "action": "place",
            "checkout_token": hidden(html, "checkout_token"),
            "plan": hidden(html, "plan"),
            "window": window,
            "payment": "dummy",
            "name": "Anna Jónsdóttir",
            "email": "anna@example.com",
            **extra,
        },
    )


def test_the_pickup_checkout_offers_the_split_when_no_store_has_it_all(client, world):
    fill_cart(client, world)
    html = client.get(reverse("checkout:checkout")).content.decode()
    assert 'data-testid="no-store-can-supply"' in html
    assert f'href="{reverse("checkout:split")}"' in html


def test_each_part_is_shown_with_its_lines_location_fee_time_and_total(client, world, django_assert_max_num_queries):
    fill_cart(client, world)
    with django_assert_max_num_queries(40):
        html = find(client)

    assert 'data-testid="split-offer"' in html
    assert "Part 1 of 2: Pickup in store" in html and "Part 2 of 2: Local delivery" in html
    assert "Collect at Kringlan" in html and "Delivered from Laugavegur" in html
    assert 'data-testid="part-time"' in html
    assert html.count('data-testid="part-total"') == 2
    assert "ISK\u00a032,970" in html and "ISK\u00a013,980" in html
    assert 'data-testid="split-total">ISK\u00a046,950<' in html


def test_placing_the_split_reserves_every_part_and_sends_the_shopper_to_pay(client, world):
    fill_cart(client, world)
    response = place(client, find(client))

    order = Order.objects.get()
    payment = Payment.objects.get(order=order)
    assert response.status_code == 302
    assert response["Location"] == reverse("payment_page", kwargs={"token": payment.token})
    assert order.is_split and order.total == Decimal("46950") == payment.total
    assert Pickup.objects.get().fulfilment.stock_location == world["kringlan"]
    assert Delivery.objects.get().store == world["laugavegur"]
    assert StockLevel.objects.get(store=world["laugavegur"], product=world["boots"]).reserved == 1
    assert not client.session.get(SESSION_KEY)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda world: StockLevel.objects.filter(store=world["laugavegur"]).update(on_hand=0),
            "&#x27;Gúmmístígvél&#x27; is sold out at Laugavegur.",
        ),
        (
            lambda world: DeliveryZone.objects.update(is_active=False),
            "Laugavegur does not deliver to 101 Reykjavík.",
        ),
    ],
    ids=["stock gone", "no longer delivers"],
)
def test_a_part_that_changed_meanwhile_refuses_all_with_the_cart_kept(client, world, change, message):
    fill_cart(client, world)
    html = find(client)
    change(world)
    forget_directory()

    response = place(client, html)

    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert not Order.objects.exists()
    assert all(level.reserved == 0 for level in StockLevel.objects.all())
    assert len(client.session[SESSION_KEY]) == 3
