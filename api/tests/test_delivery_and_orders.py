"""Delivery options for a postcode, and an order's status by its signed link token."""

import contextlib
from decimal import Decimal

import pytest
from payments import RedirectNeeded
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory, UserFactory
from checkout.handover import hand_over
from coupons.tests.factories import CouponCodeFactory, CouponFactory
from delivery.tests.factories import next_monday, place_delivery
from orders.tests.factories import place_order
from payment.models import RefundReason
from payment.services import Actor, payment_form, refund_order
from payment.tests.factories import DUMMY
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from rewards import services as rewards

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
        {
            "sku": "MIT-1",
            "name": "Lopi mittens",
            "quantity": 2,
            "unit_price": "4990.00",
            "discount": "0.00",
            "line_total": "9980.00",
        }
    ]
    assert found["discounts"] == []
    assert found["fulfilment"] == "in_store" and [change["status"] for change in found["history"]] == ["placed"]


def test_a_coupon_and_points_orders_lines_add_up_with_their_discounts_and_say_where_from(kiosk_client, world, settings):
    # given Anna, a member with 1,000 points, orders 2 pairs of mittens (ISK 4,990) with a 10 %
    # coupon (ISK 998 off) and 500 of her points, paying online
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    PROVIDER_CACHE.clear()
    anna = UserFactory(username="anna", email="anna@example.com")
    member = rewards.join(email=anna.email, user=anna)
    rewards.earn_in_store(account=member, store=world["laugavegur"], till_receipt_number="T-0", amount="20000", by=None)
    CouponCodeFactory(code="VETUR10", coupon=CouponFactory(value=Decimal("10")))
    order = place_order(
        store=world["laugavegur"],
        products_and_quantities=[(world["mittens"], 2)],
        customer=anna,
        payment="dummy",
        points=Decimal("500"),
        coupon_code="VETUR10",
    )

    # when a partner reads it
    found = kiosk_client.get(f"/api/v1/orders/{order.access_token}").json()

    # then its line says what came off it, and the order where that came from, as its page does
    [line] = found["lines"]
    assert (line["unit_price"], line["quantity"], line["discount"], line["line_total"]) == (
        "4990.00",
        2,
        "1498.00",
        "8482.00",
    )
    assert found["discounts"] == [
        {"kind": "coupon", "code": "VETUR10", "amount": "998.00"},
        {"kind": "points", "code": "", "amount": "500.00"},
    ]
    assert found["total"] == "8482.00"
    # and the figures reconcile: price × quantity − discount per line, the discounts' sum
    assert Decimal(line["unit_price"]) * line["quantity"] - Decimal(line["discount"]) == Decimal(line["line_total"])
    assert sum(Decimal(discount["amount"]) for discount in found["discounts"]) == Decimal(line["discount"])

    # and the OpenAPI schema publishes both
    components = kiosk_client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "discount" in components["OrderLine"]["required"]
    assert "discounts" in components["Order"]["required"]
    assert set(components["OrderDiscount"]["properties"]) == {"kind", "code", "amount"}


def test_an_order_of_another_channels_store_or_a_forged_token_is_not_found(app_client, world):
    order = place_order(store=world["laugavegur"], products_and_quantities=[(world["mittens"], 1)])
    assert app_client.get(f"/api/v1/orders/{order.access_token}").status_code == 404
    assert app_client.get(f"/api/v1/orders/{order.number}:forged").status_code == 404


def test_a_delivered_orders_window_address_and_state_as_its_page_shows_them(kiosk_client, world):
    # given an order delivered by Laugavegur's van next Monday evening
    delivery = place_delivery(
        store=world["laugavegur"],
        products_and_quantities=[(world["mittens"], 1)],
        starts_at=next_monday(17),
        now=None,
    )

    # when a channel reads it
    found = kiosk_client.get(f"/api/v1/orders/{delivery.fulfilment.order.access_token}").json()

    # then it has the delivery the order page shows, and no shipment, payment or refund
    assert found["fulfilment"] == "local_delivery" and found["pickup_from"] is None
    assert found["delivery"]["state"] == "to_pack" and found["delivery"]["state_label"] == "To be packed"
    assert (found["delivery"]["street"], found["delivery"]["postcode"], found["delivery"]["city"]) == (
        "Bergstaðastræti 12",
        "101",
        "Reykjavík",
    )
    assert found["delivery"]["window_start"].startswith(next_monday(17).date().isoformat())
    assert found["delivery"]["fee"] == "990.00"
    assert (found["shipment"], found["payment"], found["refunds"]) == (None, None, [])


def test_an_orders_payment_and_refunds_as_its_page_shows_them(kiosk_client, world, settings):
    # given an order paid online, collected, then one pair refunded as faulty and ISK 500 as goodwill
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    PROVIDER_CACHE.clear()
    order = place_order(store=world["laugavegur"], products_and_quantities=[(world["mittens"], 2)], payment="dummy")
    with contextlib.suppress(RedirectNeeded):
        payment_form(
            payment=order.payments.get(),
            data={"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"},
            by=Actor.shopper(),
        )
    manager = StoreManagerFactory(stores=[world["laugavegur"]])
    mark_ready_for_pickup(order=order)
    hand_over(order=order, code=pickup_of(order).code, by=manager)
    line = order.lines.get()
    refund_order(order=order, lines={line.pk: 1}, reason=RefundReason.FAULTY, by=manager)
    refund_order(order=order, amount=Decimal("500"), reason=RefundReason.GOODWILL, by=manager)

    # when a channel reads it
    found = kiosk_client.get(f"/api/v1/orders/{order.access_token}").json()

    # then it says what was taken and given back, and each refund with its lines
    assert found["payment"] == {
        "authorised": "9980.00",
        "captured": "9980.00",
        "released": "0.00",
        "refunded": "5490.00",
    }
    faulty, goodwill = found["refunds"]
    assert (faulty["amount"], faulty["reason"], faulty["reason_label"]) == ("4990.00", "faulty", "Faulty or damaged")
    assert faulty["lines"] == [{"sku": "MIT-1", "name": "Lopi mittens", "quantity": 1, "amount": "4990.00"}]
    assert (goodwill["amount"], goodwill["lines"]) == ("500.00", [])
    assert found["delivery"] is None and found["shipment"] is None
