"""Delivery options for a postcode, and an order's status by its signed link token."""

import pytest

from orders.tests.factories import place_order

pytestmark = pytest.mark.django_db


def test_delivery_options_of_the_channels_stores(kiosk_client, world):
    response = kiosk_client.get("/api/v1/delivery-options", {"postcode": "101", "country": "IS", "order_value": 5000})

    assert response.status_code == 200
    found = response.json()
    assert found["postcode"] == "101" and found["place"] == "Reykjavík"
    [option] = found["options"]
    assert option["store"]["slug"] == "laugavegur" and option["fee"] == "990.00"
    assert option["can_deliver"] is True and option["earliest"] == option["windows"][0]
    assert response["ETag"]
    again = kiosk_client.get(
        "/api/v1/delivery-options",
        {"postcode": "101", "country": "IS", "order_value": 5000},
        HTTP_IF_NONE_MATCH=response["ETag"],
    )
    assert again.status_code == 304


def test_a_postcode_no_channel_store_delivers_to(app_client, world):
    # Laugavegur delivers to 101, but the app channel has Oslo only
    response = app_client.get("/api/v1/delivery-options", {"postcode": "101", "country": "IS"})
    assert response.status_code == 200 and response.json()["options"] == []
    assert response.json()["message"] == "None of this channel's stores delivers to 101 Reykjavík."


def test_a_postcode_of_the_wrong_shape_is_refused_in_the_callers_language(kiosk_client, world):
    english = kiosk_client.get("/api/v1/delivery-options", {"postcode": "12", "country": "IS"})
    icelandic = kiosk_client.get(
        "/api/v1/delivery-options", {"postcode": "12", "country": "IS"}, HTTP_ACCEPT_LANGUAGE="is"
    )
    assert english.status_code == icelandic.status_code == 404
    assert "3 digits" in english.json()["detail"] and english.json()["detail"] != icelandic.json()["detail"]


def test_an_order_by_its_token(kiosk_client, world):
    order = place_order(store=world["laugavegur"], products_and_quantities=[(world["mittens"], 2)])

    response = kiosk_client.get(f"/api/v1/orders/{order.access_token}")

    assert response.status_code == 200
    found = response.json()
    assert found["number"] == order.number and found["status"] == "placed" and found["status_label"] == "Placed"
    assert found["store"]["slug"] == "laugavegur" and found["total"] == "9980.00" and found["channel"] == "web"
    assert found["lines"] == [
        {"sku": "MIT-1", "name": "Lopi mittens", "quantity": 2, "unit_price": "4990.00", "line_total": "9980.00"}
    ]
    assert found["fulfilment"] == "in_store" and [change["status"] for change in found["history"]] == ["placed"]


def test_an_order_of_another_channels_store_or_a_forged_token_is_not_found(app_client, world):
    order = place_order(store=world["laugavegur"], products_and_quantities=[(world["mittens"], 1)])
    assert app_client.get(f"/api/v1/orders/{order.access_token}").status_code == 404
    assert app_client.get(f"/api/v1/orders/{order.number}:forged").status_code == 404
