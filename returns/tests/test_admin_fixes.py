"""The return's admin page, as staff use it: the forms it offers post where they say (none inside
the admin's own change form, which browsers would swallow them into)."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from o2o_site.dates import format_date
from returns.models import Resolution, Return, ReturnReason, ReturnStatus, StoreCredit
from returns.services import ExchangeItem, LineToReturn, receive_return, request_return
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory

from .conftest import line_of
from .test_pages import FIND, find, receive_form

pytestmark = pytest.mark.django_db


class FormNesting(HTMLParser):
    """The action of every <form> opened while another is still open."""

    def __init__(self):
        super().__init__()
        self.depth, self.nested = 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            if self.depth:
                self.nested.append(dict(attrs).get("action"))
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


def nested_forms(html):
    parser = FormNesting()
    parser.feed(html)
    return parser.nested


def held_for_inspection(order, *, store, by):
    return receive_return(
        order=order,
        store=store,
        lines=[
            LineToReturn(
                order_line_id=line_of(order, "Lopi mittens").pk,
                quantity=1,
                reason=ReturnReason.DOES_NOT_FIT,
                to_inspect=1,
            )
        ],
        by=by,
    )


def test_a_held_unit_is_decided_from_the_returns_page_and_the_return_closes(
    client, collected, sigga, returns_store, products
):
    # given a pair of mittens held at Kringlan for inspection
    order_return = held_for_inspection(collected, store=returns_store, by=sigga)
    before = StockLevel.objects.get(store=returns_store, product=products["mittens"]).on_hand
    client.force_login(sigga)

    # when Sigga opens the return, its inspection form is its own form, not one inside the change form
    page = client.get(reverse("admin:returns_return_change", args=[order_return.pk])).content.decode()
    inspect = reverse("admin:returns_return_inspect", args=[order_return.pk, order_return.lines.get().pk])
    assert f'action="{inspect}"' in page
    assert nested_forms(page) == []

    # and she records the pair as resellable there
    response = client.post(inspect, {"resellable": 1, "damaged": 0}, follow=True)

    # then the pair is on sale and the return closed
    assert "The inspected units are recorded." in response.content.decode()
    order_return.refresh_from_db()
    assert order_return.status == ReturnStatus.CLOSED
    assert StockLevel.objects.get(store=returns_store, product=products["mittens"]).on_hand == before + 1


def asked_online(order, name, quantity=1):
    line = LineToReturn(order_line_id=line_of(order, name).pk, quantity=quantity, reason=ReturnReason.DOES_NOT_FIT)
    return request_return(order=order, lines=[line], resolution=Resolution.ORIGINAL_PAYMENT)


def test_a_walk_in_found_by_number_completes_the_shoppers_open_request(client, collected, sigga, returns_store):
    # given Anna asked online to return a pair of mittens, then brings it without the code
    requested = asked_online(collected, "Lopi mittens")
    client.force_login(sigga)

    # when Sigga finds the order by its number and e-mail, the screen points to the request
    receive = find(client, query=collected.number, contact=collected.contact_email)["Location"]
    assert f"Return {requested.code} was started online" in client.get(receive).content.decode()
    confirmed = client.post(
        receive,
        receive_form(collected, **{"Lopi mittens": (1, 1, 0, 0)})
        | {"store": returns_store.pk, "amount": "3990", "confirm": "1"},
    )
    assert confirmed.status_code == 302

    # then that request is the return taken back: no second one, none left open
    assert list(Return.objects.values_list("code", "status")) == [(requested.code, ReturnStatus.CLOSED)]
    assert "Not brought to a store yet." not in client.get(collected.get_absolute_url()).content.decode()
    # and its code opens no second take-back of the pair
    again = find(client, query=requested.code)
    assert again.status_code == 200
    assert f"Return {requested.code} was already taken back on" in again.content.decode()


def test_a_request_whose_units_another_return_took_back_is_cancelled(collected, sigga, returns_store):
    # given Anna asked online to return both pairs of mittens
    requested = asked_online(collected, "Lopi mittens", quantity=2)

    # when both are taken back at the counter as a walk-in return of their own
    walk_in = receive_return(
        order=collected,
        store=returns_store,
        lines=[
            LineToReturn(
                order_line_id=line_of(collected, "Lopi mittens").pk,
                quantity=2,
                reason=ReturnReason.DOES_NOT_FIT,
                resellable=2,
            )
        ],
        by=sigga,
    )

    # then the request is cancelled, saying by which return
    requested.refresh_from_db()
    assert requested.status == ReturnStatus.CANCELLED
    assert walk_in.code in requested.events.order_by("pk").last().note


def test_the_screen_opened_with_one_code_offers_no_line_another_request_claims(client, collected, sigga):
    # given two requests online: the mittens, then the sweater
    mittens = asked_online(collected, "Lopi mittens", quantity=2)
    asked_online(collected, "Hekla lopapeysa")
    client.force_login(sigga)

    # when Sigga opens the mittens' request by its code
    page = client.get(find(client, query=mittens.code)["Location"]).content.decode()

    # then only the mittens are offered
    assert f"line-{line_of(collected, 'Lopi mittens').pk}-quantity" in page
    assert f"line-{line_of(collected, 'Hekla lopapeysa').pk}-quantity" not in page


def test_store_credit_is_said_as_issued_with_its_code_and_expiry(
    client, collected, sigga, returns_store, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(sigga)
    receive = find(client, query=collected.number, contact=collected.contact_email)["Location"]
    form = receive_form(collected, **{"Lopi mittens": (1, 1, 0, 0)}) | {
        "store": returns_store.pk,
        "resolution": "store_credit",
    }

    # when Sigga takes the pair back as store credit, the confirm step says so
    shown = client.post(receive, form).content.decode()
    assert "Store credit to issue: ISK\u00a03,990" in shown and "Confirm the return and issue store credit" in shown
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(receive, form | {"amount": "3990", "confirm": "1"}, follow=True)

    # then the message, the e-mail and the printable receipt give the credit's code and expiry
    credit = StoreCredit.objects.get()
    until = format_date(credit.expires_at)
    assert (
        f"ISK\u00a03,990 issued as store credit: code {credit.code}, valid until {until}." in confirmed.content.decode()
    )
    (receipt_mail,) = [message for message in mailoutbox if message.subject.startswith("Your return receipt")]
    assert "We have issued ISK\u00a03,990 in store credit" in receipt_mail.body
    assert credit.code in receipt_mail.body and until in receipt_mail.body and "refunded" not in receipt_mail.body
    html = receipt_mail.alternatives[0][0]
    assert credit.code in html and until in html and "refunded" not in html.lower()
    order_return = Return.objects.get()
    receipt = client.get(reverse("returns:receipt", args=[collected.access_token, order_return.code])).content.decode()
    assert f"{credit.code}, valid until {until}" in receipt and "Total refunded" not in receipt


def test_the_return_form_states_no_fixed_store_credit_rule(client, collected):
    page = client.get(reverse("returns:start", args=[collected.access_token]), HTTP_ACCEPT_LANGUAGE="is").content
    assert "three years" not in page.decode() and "þrjú ár" not in page.decode()


def test_a_manager_of_a_store_that_takes_no_returns_is_told_so_at_the_find_step(client, collected, returns_store):
    # given Kringlan stopped taking returns
    returns_store.accepts_returns = False
    returns_store.save(update_fields=["accepts_returns"])
    manager = StoreManagerFactory(stores=[returns_store])
    client.force_login(manager)

    # when its manager opens "Take a return" and looks the order up
    opened = client.get(FIND).content.decode()
    found = find(client, query=collected.number, contact=collected.contact_email)

    # then both say Kringlan does not take returns, and no take-back screen opens
    assert "Kringlan does not take returns." in opened
    assert found.status_code == 200 and "Kringlan does not take returns." in found.content.decode()
    assert Return.objects.count() == 0


def test_a_second_tab_confirming_the_same_return_is_told_it_was_already_received(
    client, collected, sigga, returns_store
):
    # given the take-back screen open in two tabs, the first one confirmed
    client.force_login(sigga)
    receive = find(client, query=collected.number, contact=collected.contact_email)["Location"]
    confirm = receive_form(collected, **{"Lopi mittens": (1, 1, 0, 0)}) | {
        "store": returns_store.pk,
        "amount": "3990",
        "confirm": "1",
    }
    assert client.post(receive, confirm).status_code == 302
    taken = Return.objects.get()

    # when the second tab confirms the same items
    response = client.post(receive, confirm, follow=True)

    # then it says which return took them back, when and by whom, and records nothing more
    html = response.content.decode()
    assert f"Return {taken.code} of this order was received at Kringlan on" in html
    assert "by Sigga" in html and "Choose at least one item" not in html
    assert Return.objects.count() == 1


@pytest.mark.parametrize("amount", ["", "abc"])
def test_a_removed_or_garbled_refund_amount_says_start_again(client, collected, sigga, returns_store, amount):
    client.force_login(sigga)
    receive = find(client, query=collected.number, contact=collected.contact_email)["Location"]
    response = client.post(
        receive,
        receive_form(collected, **{"Lopi mittens": (1, 1, 0, 0)})
        | {"store": returns_store.pk, "amount": amount, "confirm": "1"},
    )
    html = response.content.decode()
    assert "The refund amount was changed; start again." in html and "-ISK" not in html
    assert Return.objects.count() == 0


def test_an_exchange_page_shows_money_formatted_its_time_as_exchanged_and_the_item_given_out(
    client, collected, sigga, returns_store, products
):
    # given the sweater swapped at Kringlan for the L, the same price: nothing refunded
    large = ProductFactory(parent=products["sweater"], name="Hekla lopapeysa L", sku="HEKLA-L", price=Decimal("24990"))
    StockLevelFactory(store=returns_store, product=large, on_hand=1)
    swapped = receive_return(
        order=collected,
        store=returns_store,
        lines=[
            LineToReturn(
                order_line_id=line_of(collected, "Hekla lopapeysa").pk,
                quantity=1,
                reason=ReturnReason.DOES_NOT_FIT,
                resellable=1,
            )
        ],
        by=sigga,
        resolution=Resolution.EXCHANGE,
        exchange=[ExchangeItem(product_id=large.pk, quantity=1)],
    )
    client.force_login(sigga)

    # when Sigga opens it
    html = client.get(reverse("admin:returns_return_change", args=[swapped.pk])).content.decode()

    # then amounts pass the money formatter, the time is "Exchanged at", both movements are listed
    assert "ISK\u00a024,990" in html and "24990.00" not in html and "0.00" not in html
    assert "Exchanged at" in html and "Refunded at" not in html
    assert "1 × Hekla lopapeysa (Kringlan)" in html and "1 × Hekla lopapeysa L (Kringlan)" in html
