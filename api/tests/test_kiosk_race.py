"""Kiosks checking out at the same moment on PostgreSQL, through the API: the units are never
sold twice (reserved never above on hand), every kiosk refused hears why (409), and a cart sent
twice at once (a double tap, a retried request) is one order."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from orders.models import Order
from stores.models import StockLevel

KIOSKS = 6
CONTACT = {"name": "Anna Jónsdóttir", "email": "anna@example.com", "phone": "+354 555 1234"}


def priced(client, key, quantity):
    response = client.post(
        "/api/v1/kiosk/stores/laugavegur/cart",
        {"lines": [{"sku": "MIT-1", "quantity": quantity}]},
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )
    return response.json()["cart_token"]


def check_out_together(key, tokens):
    barrier = threading.Barrier(len(tokens), timeout=30)

    def check_out(token):
        try:
            barrier.wait()
            response = Client().post(
                "/api/v1/kiosk/stores/laugavegur/checkout",
                {"cart_token": token, **CONTACT},
                content_type="application/json",
                HTTP_X_API_KEY=key,
            )
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(len(tokens)) as pool:
        return list(pool.map(check_out, tokens))


@pytest.mark.postgres
def test_kiosks_checking_out_at_once_never_sell_a_unit_twice(require_postgres, transactional_db, world):
    # given five mittens at Laugavegur and six kiosks, each with a priced cart of two
    key = world["kiosk_key"]
    tokens = [priced(Client(), key, 2) for _ in range(KIOSKS)]
    assert all(tokens)

    # when they all check out at the same moment
    answers = check_out_together(key, tokens)

    # then two are placed (four units), the others are told the units are gone, and nothing more is held
    placed = [body for status, body in answers if status == 201]
    refused = [body for status, body in answers if status == 409]
    assert len(placed) == 2 and len(refused) == KIOSKS - 2, answers
    assert all(body["changes"][0]["kind"] == "stock" for body in refused)
    stock = StockLevel.objects.get(store=world["laugavegur"], product=world["mittens"])
    assert stock.reserved == 4 and stock.reserved <= stock.on_hand == 5
    assert Order.objects.filter(channel="kiosk").count() == 2


@pytest.mark.postgres
def test_one_cart_sent_twice_at_once_is_one_order(require_postgres, transactional_db, world):
    key = world["kiosk_key"]
    token = priced(Client(), key, 1)

    answers = check_out_together(key, [token, token, token])

    statuses = sorted(status for status, _body in answers)
    assert statuses == [200, 200, 201], answers
    assert len({body["number"] for _status, body in answers}) == 1
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(store=world["laugavegur"], product=world["mittens"]).reserved == 1
