"""Shoppers' accounts: signing up, logging in and out, and the history of their own orders."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.tests.factories import DEMO_PASSWORD, UserFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def mittens(store):
    product = ProductFactory(name="Lopi mittens")
    StockLevelFactory(store=store, product=product, on_hand=500)
    return product


def test_a_guest_signs_up_and_keeps_the_store_they_chose(client, store):
    # given a guest who chose Laugavegur as their store
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()

    # when they sign up
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "anna",
            "first_name": "Anna",
            "last_name": "Jónsdóttir",
            "email": "anna@example.com",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
    )

    # then the account exists, they are logged in, and the store is remembered on it
    anna = get_user_model().objects.get(username="anna")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:orders")
    assert anna.email == "anna@example.com"
    assert anna.check_password("a-long-unusual-passphrase")
    assert anna.preferred_store == store
    assert client.get(reverse("accounts:orders")).status_code == 200


def test_an_email_already_used_cannot_open_a_second_account(client):
    UserFactory(username="anna", email="anna@example.com")

    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "anna2",
            "email": "ANNA@example.com",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
    )

    assert response.status_code == 200
    assert "An account with this e-mail address exists already" in response.content.decode()
    assert not get_user_model().objects.filter(username="anna2").exists()


def test_a_shopper_logs_in_and_out(client):
    UserFactory(username="kari")

    logged_in = client.post(reverse("accounts:login"), {"username": "kari", "password": DEMO_PASSWORD})
    logged_out = client.post(reverse("accounts:logout"))

    assert logged_in.status_code == 302
    assert logged_in["Location"] == reverse("accounts:orders")
    assert logged_out.status_code == 302
    assert client.get(reverse("accounts:orders")).status_code == 302


def test_a_wrong_password_is_refused_on_our_page(client):
    UserFactory(username="kari")

    response = client.post(reverse("accounts:login"), {"username": "kari", "password": "wrong"})

    assert response.status_code == 200
    assert "accounts/login.html" in [template.name for template in response.templates]
    assert "_auth_user_id" not in client.session


def test_the_order_history_needs_a_login(client):
    response = client.get(reverse("accounts:orders"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_shopper_sees_only_their_own_orders_each_linking_to_its_page(client, store, mittens):
    # given Anna has two orders, Kári one, and a guest one
    anna, kari = UserFactory(username="anna"), UserFactory(username="kari")
    annas = [place_order(store=store, products_and_quantities=[(mittens, 1)], customer=anna) for _ in range(2)]
    karis = place_order(store=store, products_and_quantities=[(mittens, 1)], customer=kari)
    guests = place_order(store=store, products_and_quantities=[(mittens, 1)])

    # when Anna opens her order history
    client.force_login(anna)
    html = client.get(reverse("accounts:orders")).content.decode()

    # then she sees her two orders with links to their pages, and no one else's
    for order in annas:
        assert f'href="{order.get_absolute_url()}"' in html
    assert karis.number not in html
    assert guests.number not in html
    assert html.count('data-testid="order-history-row"') == 2
    # newest first
    assert html.index(annas[1].number) < html.index(annas[0].number)


@pytest.mark.parametrize("order_count", [10, 200])
def test_the_order_history_has_a_fixed_number_of_queries(
    client, store, mittens, django_assert_num_queries, order_count
):
    # given a shopper with 10 or 200 orders (the page shows up to 20)
    anna = UserFactory(username="anna")
    for _ in range(order_count):
        place_order(store=store, products_and_quantities=[(mittens, 1)], customer=anna)
    client.force_login(anna)

    # then the page costs the same: session, user, count, orders
    with django_assert_num_queries(4):
        response = client.get(reverse("accounts:orders"))

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="order-history-row"') == min(order_count, 20)
