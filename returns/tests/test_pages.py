"""The returns' pages: the shopper starts a return from the order page; staff at another store find
the order and take it back in the admin. Every bad input is refused with a message, nothing written."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import ProductFactory
from delivery.services import mark_delivered, mark_packed, send_out
from delivery.tests.factories import DeliveryZoneFactory, evening_windows, next_monday, place_delivery
from orders.models import Fulfilment
from payment.models import RefundReason
from payment.services import refund_order
from returns.models import Return, ReturnStatus, StockMovement
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

from .conftest import line_of

pytestmark = pytest.mark.django_db

FIND = reverse("admin:returns_return_find")


def find(client, **data):
    return client.post(FIND, {"query": "", "contact": "", **data})


def receive_form(order, **lines):
    """The check-in form's fields: {product name: (quantity, resellable, damaged, to inspect)}."""
    data = {"resolution": "original_payment", "till_receipt_number": "", "override_reason": ""}
    for name, (quantity, resellable, damaged, to_inspect) in lines.items():
        pk = line_of(order, name).pk
        data |= {
            f"line-{pk}-quantity": quantity,
            f"line-{pk}-reason": "does_not_fit",
            f"line-{pk}-note": "",
            f"line-{pk}-resellable": resellable,
            f"line-{pk}-damaged": damaged,
            f"line-{pk}-to_inspect": to_inspect,
        }
    return data


def test_a_refunded_order_page_says_what_was_refunded_and_offers_no_return_for_it(client, collected, pickup_manager):
    # given Anna's collected order (ISK 32,970 taken), the sweater refunded on the refund screen
    sweater, mittens = line_of(collected, "Hekla lopapeysa"), line_of(collected, "Lopi mittens")
    refund_order(order=collected, reason=RefundReason.RETURNED, lines={sweater.pk: 1}, by=pickup_manager)
    page = client.get(collected.get_absolute_url()).content.decode().replace("\xa0", " ")
    # then the payment box says what was taken and what was refunded, and the mittens may still go back
    assert "ISK 32,970 taken from your card, ISK 24,990 refunded to it." in page
    assert "was taken from your card." not in page
    assert 'data-testid="start-return"' in page and 'data-testid="withdrawal"' in page

    # when ISK 300 goes back as goodwill and then the mittens, capped to what is left (a fresh-eyes tester)
    refund_order(order=collected, reason=RefundReason.GOODWILL, amount=Decimal("300"), by=pickup_manager)
    refund_order(order=collected, reason=RefundReason.RETURNED, lines={mittens.pk: 2}, by=pickup_manager)
    page = client.get(collected.get_absolute_url()).content.decode().replace("\xa0", " ")

    # then everything taken was refunded, and nothing is offered to return or withdraw from
    assert "ISK 32,970 taken from your card, ISK 32,970 refunded to it." in page
    assert 'data-testid="start-return"' not in page and 'data-testid="withdrawal"' not in page


def test_the_shopper_starts_a_return_from_the_order_page(client, collected):
    # given Anna's collected order offers "Return items"
    page = client.get(collected.get_absolute_url()).content.decode()
    assert 'data-testid="start-return"' in page

    # when she forgets why, the form says so and keeps what she chose
    start = reverse("returns:start", args=[collected.access_token])
    mittens = line_of(collected, "Lopi mittens")
    response = client.post(start, {f"line-{mittens.pk}-quantity": 1, "resolution": "original_payment"})
    assert "Choose why you return it." in response.content.decode()
    assert '<option value="1" selected>1</option>' in response.content.decode()
    assert Return.objects.count() == 0

    # when she gives it, the return has a code and a QR code, and the order page lists it
    response = client.post(
        start,
        {
            f"line-{mittens.pk}-quantity": 1,
            f"line-{mittens.pk}-reason": "does_not_fit",
            "resolution": "original_payment",
        },
        follow=True,
    )
    order_return = Return.objects.get()
    html = response.content.decode()
    assert order_return.code in html and 'data-testid="return-qr"' in html
    page = client.get(collected.get_absolute_url()).content.decode()
    assert order_return.code in page and "Not brought to a store yet." in page


def test_a_manager_at_another_store_takes_a_return_started_online(client, collected, sigga, returns_store, products):
    # given Anna started a return of one pair of mittens online
    client.post(
        reverse("returns:start", args=[collected.access_token]),
        {
            f"line-{line_of(collected, 'Lopi mittens').pk}-quantity": 1,
            f"line-{line_of(collected, 'Lopi mittens').pk}-reason": "does_not_fit",
            "resolution": "original_payment",
        },
    )
    code = Return.objects.get().code
    before = StockLevel.objects.get(store=returns_store, product=products["mittens"]).on_hand

    # when Sigga at Kringlan scans its QR code, checks the pair in as resellable and confirms
    client.force_login(sigga)
    response = find(client, query=f"O2O-RETURN:{code}")
    assert response.status_code == 302
    receive = response["Location"]
    shown = client.post(
        receive, receive_form(collected, **{"Lopi mittens": (1, 1, 0, 0)}) | {"store": returns_store.pk}
    )
    assert "Refund: ISK\u00a03,990" in shown.content.decode()
    confirmed = client.post(
        receive,
        receive_form(collected, **{"Lopi mittens": (1, 1, 0, 0)})
        | {"store": returns_store.pk, "amount": "3990", "confirm": "1"},
    )

    # then the return is refunded and closed, the pair on sale at Kringlan
    assert confirmed.status_code == 302, confirmed.content.decode()
    order_return = Return.objects.get()
    assert (order_return.status, order_return.refund_amount) == (ReturnStatus.CLOSED, Decimal("3990"))
    assert StockLevel.objects.get(store=returns_store, product=products["mittens"]).on_hand == before + 1


def test_a_tampered_amount_is_refused_in_the_admin_and_nothing_is_written(client, collected, sigga, returns_store):
    client.force_login(sigga)
    receive = find(client, query=collected.number, contact=collected.contact_email)["Location"]
    response = client.post(
        receive,
        receive_form(collected, **{"Lopi mittens": (1, 1, 0, 0)})
        | {"store": returns_store.pk, "amount": "1", "confirm": "1"},
    )
    assert "The refund for these items is ISK\u00a03,990, not ISK\u00a01." in response.content.decode()
    assert Return.objects.count() == 0 and StockMovement.objects.count() == 0


def test_more_than_was_bought_is_refused_in_the_admin(client, collected, sigga, returns_store):
    client.force_login(sigga)
    receive = find(client, query=collected.number, contact=collected.contact_email)["Location"]
    response = client.post(
        receive,
        receive_form(collected, **{"Lopi mittens": (3, 3, 0, 0)})
        | {"store": returns_store.pk, "amount": "11970", "confirm": "1"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Return.objects.count() == 0


def test_another_stores_order_is_not_found_by_a_guessed_number(client, collected, sigga):
    client.force_login(sigga)

    # a number alone, or with the wrong e-mail, finds nothing, and says what to ask for
    for data in ({"query": collected.number}, {"query": collected.number, "contact": "eve@example.com"}):
        response = find(client, **data)
        assert response.status_code == 200
        assert "ask the shopper for the e-mail or phone number" in response.content.decode()
    # a receive page cannot be reached by an id typed into the address either
    assert client.get(reverse("admin:returns_return_receive", args=[str(collected.pk)])).status_code == 404

    # with the phone she placed it with (typed another way), it is found
    assert find(client, query=collected.number.lower(), contact="5551234")["Location"].startswith("/admin/")
    assert Return.objects.count() == 0


def test_after_the_window_the_admin_refuses_without_a_reason(client, collected, sigga, returns_store):
    Fulfilment.objects.filter(order=collected).update(fulfilled_at=timezone.now() - datetime.timedelta(days=40))
    client.force_login(sigga)
    receive = find(client, query=collected.number, contact=collected.contact_email)["Location"]
    data = receive_form(collected, **{"Lopi mittens": (1, 1, 0, 0)}) | {"store": returns_store.pk, "amount": "3990"}
    response = client.post(receive, data | {"confirm": "1"})
    assert re.search(r"The return period of order \w+ ended on", response.content.decode())
    assert Return.objects.count() == 0

    response = client.post(receive, data | {"confirm": "1", "override_reason": "Faulty seam, goodwill"})
    assert response.status_code == 302
    assert Return.objects.get().window_overridden_by == sigga


def test_the_order_page_costs_the_same_however_many_returns(
    client, collected, sigga, returns_store, django_assert_max_num_queries
):
    from returns.services import LineToReturn, receive_return

    for _ in range(2):
        receive_return(
            order=collected,
            store=returns_store,
            lines=[
                LineToReturn(
                    order_line_id=line_of(collected, "Lopi mittens").pk, quantity=1, reason="faulty", damaged=1
                )
            ],
            by=sigga,
        )
    with django_assert_max_num_queries(16) as counted:
        assert client.get(collected.get_absolute_url()).status_code == 200
    assert len(counted.captured_queries) <= 16


def test_a_delivered_order_offers_return_items_too(client):
    # given an order delivered to the shopper's door by Laugavegur's van
    PostcodeLocationFactory(country="IS", postcode="101")
    store = StoreFactory(name="Laugavegur")
    DeliveryZoneFactory(store=store)
    evening_windows(store, capacity=2)
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("4990"))
    StockLevelFactory(store=store, product=sweater, on_hand=3)
    now = next_monday(10)
    delivery = place_delivery(
        store=store, products_and_quantities=[(sweater, 1)], starts_at=now.replace(hour=17), now=now
    )
    mark_packed(delivery=delivery)
    send_out(delivery=delivery)
    mark_delivered(delivery=delivery)
    order = delivery.fulfilment.order
    order.refresh_from_db()

    # when the shopper opens the order page, "Return items" is there, and the return starts
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'data-testid="start-return"' in page
    line = order.lines.get()
    response = client.post(
        reverse("returns:start", args=[order.access_token]),
        {f"line-{line.pk}-quantity": 1, f"line-{line.pk}-reason": "does_not_fit", "resolution": "exchange"},
    )
    assert response.status_code == 302
    assert Return.objects.get(order=order).resolution == "exchange"


def test_a_return_code_typed_in_lower_case_with_a_dash_is_found(client, collected, sigga):
    # given a return started online, its code read out as "rabc-d1234" (as coupon codes are typed)
    client.post(
        reverse("returns:start", args=[collected.access_token]),
        {
            f"line-{line_of(collected, 'Lopi mittens').pk}-quantity": 1,
            f"line-{line_of(collected, 'Lopi mittens').pk}-reason": "does_not_fit",
            "resolution": "original_payment",
        },
    )
    code = Return.objects.get().code
    typed = f"{code[:4].lower()}-{code[4:].lower()}"
    client.force_login(sigga)

    # when staff type it so at "Take a return", and the order number likewise
    by_code = find(client, query=typed)
    by_number = find(client, query=f" {collected.number[:4].lower()}-{collected.number[4:]}", contact="")

    # then the return is found, and the number is read as the order number it is (another store's
    # order: the shopper's e-mail or phone is asked for)
    assert by_code.status_code == 302
    assert f"No order {collected.number} among your stores" in by_number.content.decode()


def test_staff_see_the_refund_option_in_staff_words(client, collected, sigga):
    client.force_login(sigga)
    receive = find(client, query=collected.number, contact=collected.contact_email)["Location"]

    page = client.get(receive).content.decode()

    assert "Refund to the original payment" in page
    assert "Refund to how I paid" not in page
    # and the shopper's own form keeps the shopper's words
    client.logout()
    assert (
        "Refund to how I paid" in client.get(reverse("returns:start", args=[collected.access_token])).content.decode()
    )
