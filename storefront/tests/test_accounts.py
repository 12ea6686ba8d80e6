"""Accounts (issue 17): password reset by e-mail, changing the e-mail address with a link sent
to the new one, and ordering again from the order history."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.tests.factories import DEMO_PASSWORD, UserFactory
from catalog.tests.factories import ProductFactory
from checkout.cart import SESSION_KEY
from orders.tests.factories import place_order
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
LINK = re.compile(r"https?://\S+")


def link_in(message):
    return LINK.search(message.body).group(0)


def test_a_shopper_resets_their_password_by_email(client, mailoutbox):
    # given a shopper who forgot their password
    anna = UserFactory(username="anna", email="anna@example.com")
    login_page = client.get(reverse("accounts:login")).content.decode()
    assert reverse("accounts:password_reset") in login_page

    # when they ask for a reset link
    response = client.post(reverse("accounts:password_reset"), {"email": "anna@example.com"}, follow=True)

    # then they are told to check their e-mail, and the e-mail has a link
    assert 'data-testid="password-reset-sent"' in response.content.decode()
    (message,) = mailoutbox
    assert message.to == ["anna@example.com"]
    assert message.subject == "Reset your Norðurbúð password"

    # when they open it and choose a new password
    form_page = client.get(link_in(message), follow=True)
    assert 'data-testid="password-reset-confirm-submit"' in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-new-long-password-9", "new_password2": "a-new-long-password-9"},
        follow=True,
    )

    # then the password is changed, and the link cannot be used again
    assert done.redirect_chain[-1][0] == reverse("accounts:password_reset_complete")
    anna.refresh_from_db()
    assert anna.check_password("a-new-long-password-9")
    again = client.get(link_in(message), follow=True).content.decode()
    assert 'data-testid="password-reset-invalid"' in again


def test_the_reset_email_is_in_the_shoppers_language_and_an_unknown_address_gets_none(client, mailoutbox):
    UserFactory(username="jon", email="jon@example.is")

    client.post(reverse("accounts:password_reset"), {"email": "nobody@example.is"}, HTTP_ACCEPT_LANGUAGE="is")
    client.post(reverse("accounts:password_reset"), {"email": "jon@example.is"}, HTTP_ACCEPT_LANGUAGE="is")

    (message,) = mailoutbox
    assert message.subject == "Endurstilltu lykilorðið þitt hjá Norðurbúð"
    assert "Opnaðu þennan hlekk til að velja nýtt" in message.body


def test_a_shopper_changes_their_email_address_by_opening_a_link_sent_to_it(client, mailoutbox):
    # given Anna, signed in
    anna = UserFactory(username="anna", email="anna@example.com")
    client.force_login(anna)

    # when she asks to use a new address, with her password
    response = client.post(
        reverse("accounts:email_change"), {"email": "anna@new.example", "password": DEMO_PASSWORD}, follow=True
    )

    # then a link goes to the new address, and nothing has changed yet
    assert "We sent a link to anna@new.example." in response.content.decode()
    (message,) = mailoutbox
    assert message.to == ["anna@new.example"]
    anna.refresh_from_db()
    assert anna.email == "anna@example.com"

    # when she opens the link (on her phone, not signed in) and confirms
    phone = client.__class__()
    confirm_page = phone.get(link_in(message))
    assert "anna@new.example" in confirm_page.content.decode()
    anna.refresh_from_db()
    assert anna.email == "anna@example.com"  # opening the link alone changes nothing
    phone.post(link_in(message))

    # then the address is the new one, the old one is told, and the link works once
    anna.refresh_from_db()
    assert anna.email == "anna@new.example"
    assert mailoutbox[1].to == ["anna@example.com"]
    assert "anna@new.example" in mailoutbox[1].body
    used = phone.post(link_in(message))
    assert used.status_code == 400
    assert "This link has been used already" in used.content.decode()


def test_an_email_change_needs_the_password_and_a_free_address(client, mailoutbox):
    anna = UserFactory(username="anna", email="anna@example.com")
    UserFactory(username="bjorn", email="bjorn@example.com")
    client.force_login(anna)

    wrong_password = client.post(reverse("accounts:email_change"), {"email": "a@new.example", "password": "guess"})
    taken = client.post(reverse("accounts:email_change"), {"email": "BJORN@example.com", "password": DEMO_PASSWORD})

    assert "That is not your password." in wrong_password.content.decode()
    assert "Another account uses this e-mail address." in taken.content.decode()
    assert mailoutbox == []


def test_a_tampered_email_change_link_changes_nothing(client):
    anna = UserFactory(username="anna", email="anna@example.com")

    response = client.post(reverse("accounts:email_change_confirm", kwargs={"token": "eyJ1c2VyIjoxfQ:bad:sig"}))

    assert response.status_code == 400
    anna.refresh_from_db()
    assert anna.email == "anna@example.com"


@pytest.fixture
def earlier_order():
    """Anna's order of 2 scarves and 1 candle; the candle is no longer sold."""
    store = StoreFactory()
    anna = UserFactory(username="anna")
    scarf = ProductFactory(name="Wool scarf")
    candle = ProductFactory(name="Beeswax candle")
    for product in (scarf, candle):
        StockLevelFactory(store=store, product=product, on_hand=10)
    order = place_order(store=store, products_and_quantities=[(scarf, 2), (candle, 1)], customer=anna)
    candle.is_active = False
    candle.save()
    return anna, order, scarf, candle


def test_order_again_adds_what_is_still_sold_and_says_what_is_not(client, earlier_order):
    # given Anna has one scarf in her cart already
    anna, order, scarf, candle = earlier_order
    client.force_login(anna)
    session = client.session
    session[SESSION_KEY] = {str(scarf.pk): 1}
    session.save()
    history = client.get(reverse("accounts:orders")).content.decode()
    assert reverse("accounts:order_again", kwargs={"number": order.number}) in history

    # when she orders again from her history
    response = client.post(reverse("accounts:order_again", kwargs={"number": order.number}), follow=True)

    # then the scarves are added to the one in the cart, and the candle is named as not sold
    assert response.redirect_chain[-1][0] == reverse("checkout:cart")
    assert client.session[SESSION_KEY] == {str(scarf.pk): 3}
    html = response.content.decode()
    assert f"Added 2 items from order {order.number} to your cart." in html
    assert "No longer sold, so not added: Beeswax candle." in html


def test_nobody_orders_again_from_another_shoppers_order(client, earlier_order):
    _anna, order, _scarf, _candle = earlier_order
    client.force_login(UserFactory(username="mallory"))

    response = client.post(reverse("accounts:order_again", kwargs={"number": order.number}))

    assert response.status_code == 404
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("products", [2, 12])
def test_order_again_costs_the_same_queries_however_many_lines(client, django_assert_num_queries, products):
    # given an order of 2 or 12 products
    store = StoreFactory()
    anna = UserFactory(username="anna")
    lines = []
    for _ in range(products):
        product = ProductFactory()
        StockLevelFactory(store=store, product=product, on_hand=5)
        lines.append((product, 1))
    order = place_order(store=store, products_and_quantities=lines, customer=anna)
    client.force_login(anna)

    # when / then: the session, the user, the order, its lines with their products, the session
    # saved (in a savepoint: three statements)
    with django_assert_num_queries(7):
        client.post(reverse("accounts:order_again", kwargs={"number": order.number}))
    assert len(client.session[SESSION_KEY]) == products
