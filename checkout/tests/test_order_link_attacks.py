"""Attacks on another shopper's order: guessing, tampering with the signed link, the history page.

Every failed attempt gets the very same 404 (body and headers) whether or not the order exists,
so probing teaches nothing.
"""

from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core import signing
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from orders.models import ORDER_LINK_SALT, Order
from orders.services import new_order_number
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def mittens(store):
    product = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=store, product=product, on_hand=50)
    return product


@pytest.fixture
def annas_order(store, mittens):
    return place_order(store=store, products_and_quantities=[(mittens, 1)], email="anna@example.com")


@pytest.fixture
def bjorns_order(store, mittens):
    return place_order(store=store, products_and_quantities=[(mittens, 2)], email="bjorn@example.com")


def page(token):
    return "/orders/" + token + "/"


def unknown_number():
    number = new_order_number()
    assert not Order.objects.filter(number=number).exists()
    return number


def signed(number):
    return signing.Signer(salt=ORDER_LINK_SALT).sign(number)


def fingerprint(response):
    """What a prober can observe: status, every header, and the body. Not X-Request-ID: it is
    random for every request (ops.request_id), so it tells nothing about the order."""
    headers = tuple(sorted((name, value) for name, value in response.headers.items() if name != "X-Request-ID"))
    return response.status_code, headers, response.content


def tampered_links(order, other):
    token = order.access_token
    number, signature = token.split(":")
    other_signature = other.access_token.split(":")[1]
    return {
        "the bare order number": page(number),
        "a signature for an unknown number": page(signed(unknown_number())),
        "the number changed, signature kept": page(f"{unknown_number()}:{signature}"),
        "another order's number with this signature": page(f"{other.number}:{signature}"),
        "this number with another order's signature": page(f"{number}:{other_signature}"),
        "one character of the signature changed": page(
            f"{number}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
        ),
        "the signature upper-cased": page(f"{number}:{signature.upper()}")
        if signature.upper() != signature
        else page(f"{number}:{signature.lower()}"),
        "the signature truncated": page(f"{number}:{signature[:10]}"),
        "the signature empty": page(f"{number}:"),
        "the number lower-cased": page(f"{number.lower()}:{signature}"),
        "a signature with another salt": page(signing.Signer(salt="another-salt").sign(number)),
        "a signature with another key": page(signing.Signer(key="guess", salt=ORDER_LINK_SALT).sign(number)),
        "a timestamped signature": page(signing.TimestampSigner(salt=ORDER_LINK_SALT).sign(number)),
        "a double-encoded colon": page(f"{number}%253A{signature}"),
        "an encoded NUL before the signature": page(f"{number}%00:{signature}"),
        "trailing whitespace": page(f"{token}%20"),
        "a second colon": page(f"{number}:{signature}:{signature}"),
        "the whole link twice": page(f"{token}{token}"),
        "a path traversal": page(f"..%2F..%2F{quote(token)}"),
        "a very long token": page("A" * 5000),
        "a full-width lookalike": page(f"{chr(ord(number[0]) + 0xFEE0)}{number[1:]}:{signature}"),
    }


def test_every_tampered_link_gets_the_same_404_as_a_link_to_nothing(client, annas_order, bjorns_order):
    # given links to an order that does not exist, and links tampered from Anna's real one
    nothing = client.get(page(signed(unknown_number())))
    links = tampered_links(annas_order, bjorns_order)

    # when a prober opens them
    responses = {reason: client.get(link) for reason, link in links.items()}

    # then each answer is indistinguishable from the one about no order at all
    assert nothing.status_code == 404
    different = [reason for reason, response in responses.items() if fingerprint(response) != fingerprint(nothing)]
    assert different == []
    html = b"".join(response.content for response in responses.values()).decode()
    assert annas_order.number not in html and bjorns_order.number not in html
    assert pickup_of(annas_order).code not in html


def test_the_real_link_still_opens_also_when_its_colon_is_percent_encoded(client, annas_order):
    number, signature = annas_order.access_token.split(":")
    assert client.get(annas_order.get_absolute_url()).status_code == 200
    # the same link as a mail client may encode it: not a trick, still the shopper's own link
    assert client.get(page(f"{number}%3A{signature}")).status_code == 200


def test_guessing_order_numbers_finds_nothing(client, annas_order):
    # given a prober who tries plausible order numbers, including the real one, without a valid signature
    guesses = [unknown_number() for _ in range(20)] + [annas_order.number]

    # then every guess is the same 404
    fingerprints = {fingerprint(client.get(page(guess))) for guess in guesses}
    fingerprints |= {fingerprint(client.get(page(f"{guess}:{'x' * 27}"))) for guess in guesses}
    assert len(fingerprints) == 1
    assert next(iter(fingerprints))[0] == 404


def test_the_order_page_itself_takes_no_posts(client, annas_order):
    # when someone posts to Anna's page (hoping for a hidden cancel or change)
    response = client.post(annas_order.get_absolute_url(), {"status": "cancelled", "contact_email": "evil@example.com"})

    # then it is refused and nothing about the order changes
    assert response.status_code == 405
    annas_order.refresh_from_db()
    assert (annas_order.status, annas_order.contact_email) == ("placed", "anna@example.com")


def test_naming_a_collector_through_a_tampered_link_changes_nothing(client, annas_order, bjorns_order):
    # given the links tampered from Anna's order, pointed at the "who collects" form
    nothing = client.post(page(signed(unknown_number())) + "collector/", {"collector_name": "Mallory"})
    links = tampered_links(annas_order, bjorns_order)

    # when a prober posts a collector name to each
    responses = {
        reason: client.post(link + "collector/", {"collector_name": "Mallory"}) for reason, link in links.items()
    }

    # then each is the same 404 as for no order at all, and neither order names Mallory
    assert nothing.status_code == 404
    assert [reason for reason, response in responses.items() if fingerprint(response) != fingerprint(nothing)] == []
    for order in (annas_order, bjorns_order):
        order.refresh_from_db()
        assert "Mallory" not in pickup_of(order).collector_name


def test_a_logged_in_shopper_sees_only_their_own_orders(client, store, mittens):
    # given Anna and Björn with accounts and orders, and a guest order placed with Anna's e-mail
    anna, bjorn = UserFactory(username="anna", email="anna@example.com"), UserFactory(username="bjorn")
    annas = place_order(store=store, products_and_quantities=[(mittens, 1)], customer=anna)
    bjorns = [place_order(store=store, products_and_quantities=[(mittens, 1)], customer=bjorn) for _ in range(3)]
    guest = place_order(store=store, products_and_quantities=[(mittens, 1)], email="anna@example.com")

    # when Anna opens her order history, also with page and filter parameters in the address
    client.force_login(anna)
    pages = [
        client.get(reverse("accounts:orders"), params)
        for params in ({}, {"page": 2}, {"page": "last"}, {"customer": bjorn.pk}, {"user": bjorn.pk})
    ]

    # then she sees her own order and nothing of Björn's, nor the guest order she cannot prove is hers
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert all(order.number not in html for order in bjorns)
        assert guest.number not in html
    assert annas.number in pages[0].content.decode()


def test_the_order_history_needs_a_login(client, annas_order):
    response = client.get(reverse("accounts:orders"))
    assert response.status_code == 302
    assert annas_order.number not in response.content.decode()
