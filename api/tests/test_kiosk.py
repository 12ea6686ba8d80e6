"""A kiosk's cart and checkout in its store: priced and checked, then placed exactly as priced,
once, in the channel "kiosk"; or refused naming every change, with nothing placed."""

from decimal import Decimal

import pytest

from orders.models import Channel, Order
from stores.models import StockLevel

pytestmark = pytest.mark.django_db

CONTACT = {"name": "Anna Jónsdóttir", "email": "anna@example.com", "phone": "+354 555 1234"}


def cart(client, store, lines, **headers):
    return client.post(
        f"/api/v1/kiosk/stores/{store}/cart", {"lines": lines}, content_type="application/json", **headers
    )


def checkout(client, store, token, **contact):
    return client.post(
        f"/api/v1/kiosk/stores/{store}/checkout",
        {"cart_token": token, **CONTACT, **contact},
        content_type="application/json",
    )


def test_a_cart_checked_out_at_the_kiosk_reserves_the_units_and_is_a_kiosk_order(kiosk_client, world):
    # given a cart of two mittens and a small sweater at Laugavegur
    priced = cart(kiosk_client, "laugavegur", [{"sku": "MIT-1", "quantity": 2}, {"sku": "SWE-S", "quantity": 1}])
    assert priced.status_code == 200
    body = priced.json()
    assert body["problems"] == [] and body["total"] == "34970.00" and body["cart_token"]

    # when the kiosk checks it out
    placed = checkout(kiosk_client, "laugavegur", body["cart_token"])

    # then the order is placed at the store, in the kiosk channel, and the units are reserved
    assert placed.status_code == 201, placed.json()
    order = Order.objects.get(number=placed.json()["number"])
    assert order.channel == Channel.KIOSK and order.store == world["laugavegur"] and order.total == Decimal("34970")
    assert StockLevel.objects.get(store=world["laugavegur"], product=world["mittens"]).reserved == 2
    assert placed.json()["token"] == order.access_token

    # when the same request comes again (a retry): the same order, nothing placed twice
    again = checkout(kiosk_client, "laugavegur", body["cart_token"])
    assert again.status_code == 200 and again.json()["number"] == order.number
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(store=world["laugavegur"], product=world["mittens"]).reserved == 2


def test_a_cart_names_every_problem_and_gives_no_token(kiosk_client, world):
    body = cart(
        kiosk_client,
        "kringlan",
        [{"sku": "MIT-1", "quantity": 1}, {"sku": "SWE", "quantity": 1}, {"sku": "NOPE", "quantity": 1}],
    ).json()
    assert body["cart_token"] is None
    assert len(body["problems"]) == 3
    assert "sold out at Kringlan" in body["problems"][0]


def test_a_price_changed_after_the_cart_was_priced_places_nothing(kiosk_client, world):
    token = cart(kiosk_client, "laugavegur", [{"sku": "MIT-1", "quantity": 1}]).json()["cart_token"]
    world["mittens"].price = Decimal("5990")
    world["mittens"].save()

    refused = checkout(kiosk_client, "laugavegur", token)

    assert refused.status_code == 409
    assert [change["kind"] for change in refused.json()["changes"]] == ["price"]
    assert Order.objects.count() == 0
    assert StockLevel.objects.get(store=world["laugavegur"], product=world["mittens"]).reserved == 0


def test_units_sold_meanwhile_place_nothing(kiosk_client, world):
    token = cart(kiosk_client, "laugavegur", [{"sku": "MIT-1", "quantity": 5}]).json()["cart_token"]
    StockLevel.objects.filter(store=world["laugavegur"], product=world["mittens"]).update(on_hand=4)

    refused = checkout(kiosk_client, "laugavegur", token)

    assert refused.status_code == 409 and refused.json()["changes"][0]["kind"] == "stock"
    assert Order.objects.count() == 0


def test_a_token_of_another_store_a_forged_one_and_bad_contact_details_are_refused(kiosk_client, world):
    token = cart(kiosk_client, "laugavegur", [{"sku": "MIT-1", "quantity": 1}]).json()["cart_token"]
    assert checkout(kiosk_client, "kringlan", token).status_code == 422
    assert checkout(kiosk_client, "laugavegur", token[:-2] + "xx").status_code == 422
    bad_email = checkout(kiosk_client, "laugavegur", token, email="not-an-address", HTTP_ACCEPT_LANGUAGE="is")
    assert bad_email.status_code == 422
    assert Order.objects.count() == 0


def test_only_a_kiosk_at_its_own_stores_may_sell(kiosk_client, world):
    app_key = {"HTTP_X_API_KEY": world["app_key"]}
    assert cart(kiosk_client, "grunerlokka", [{"sku": "MIT-1", "quantity": 1}], **app_key).status_code == 403
    assert cart(kiosk_client, "grunerlokka", [{"sku": "MIT-1", "quantity": 1}]).status_code == 404


@pytest.mark.parametrize(
    ("language", "quantity", "sku"),
    [
        ("is", "Sláðu inn heila tölu.", "Of stutt: lágmarkslengdin er 1 stafabil."),
        ("nb", "Skriv inn et heltall.", "Skriv inn minst 1 tegn."),
    ],
)
def test_a_request_that_is_not_valid_is_answered_per_field_in_its_language(
    kiosk_client, world, language, quantity, sku
):
    refused = cart(kiosk_client, "laugavegur", [{"sku": "", "quantity": "two"}], HTTP_ACCEPT_LANGUAGE=language)

    assert refused.status_code == 422
    messages = [error["message"] for error in refused.json()["errors"]]
    assert quantity in messages and sku in messages
    assert not any("Input should" in message or "String should" in message for message in messages)


def test_bad_contact_details_are_each_a_field_error(kiosk_client, world):
    token = cart(kiosk_client, "laugavegur", [{"sku": "MIT-1", "quantity": 1}]).json()["cart_token"]

    refused = checkout(kiosk_client, "laugavegur", token, email="not-an-address", phone="12")

    assert refused.status_code == 422
    errors = {error["field"]: error["message"] for error in refused.json()["errors"]}
    assert set(errors) == {"email", "phone"}
    assert errors["email"] == "Enter an e-mail address such as anna@example.com."
    assert errors["email"] not in refused.json()["detail"]
    assert Order.objects.count() == 0


def test_a_field_is_named_as_the_client_sent_it(kiosk_client, world):
    refused = cart(kiosk_client, "laugavegur", [{"sku": "MIT-1", "quantity": 0}])
    assert [error["field"] for error in refused.json()["errors"]] == ["lines.0.quantity"]

    token = cart(kiosk_client, "laugavegur", [{"sku": "MIT-1", "quantity": 1}]).json()["cart_token"]
    refused = kiosk_client.post(
        "/api/v1/kiosk/stores/laugavegur/checkout", {"cart_token": token}, content_type="application/json"
    )
    assert sorted(error["field"] for error in refused.json()["errors"]) == ["email", "name", "phone"]


def test_the_same_sku_on_two_lines_past_the_line_limit_is_refused(kiosk_client, world):
    # when a scanner sends the same SKU twice, 60 and 60: 120 units, past the 99 a line allows
    refused = cart(kiosk_client, "laugavegur", [{"sku": "MIT-1", "quantity": 60}, {"sku": "MIT-1", "quantity": 60}])

    # then it is refused at the second line, not merged into a line of 120
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert error["field"] == "lines.1.quantity"
    assert "99" in error["message"] and "MIT-1" in error["message"]

    # and two lines of the same SKU within the limit are still one line
    merged = cart(kiosk_client, "laugavegur", [{"sku": "MIT-1", "quantity": 2}, {"sku": "MIT-1", "quantity": 1}])
    assert [line["quantity"] for line in merged.json()["lines"]] == [3]
