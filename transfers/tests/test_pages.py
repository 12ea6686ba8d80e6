"""The shopper's "send it to this store" page, their order page, and staff's transfer admin."""

import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from orders.models import Order, OrderStatus
from stores.models import StockLevel
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory
from transfers.models import Transfer, TransferStatus
from transfers.services import receive_transfer, send_transfer

from .factories import order_by_transfer, reykjavik_shop

pytestmark = pytest.mark.django_db


def in_store(client, store):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()


def test_the_page_says_where_it_comes_from_and_when_and_places_the_order(client, django_assert_max_num_queries):
    # given a shopper whose store is Kringlan, and size 38 only at Smáralind
    kringlan, smaralind, boots = reykjavik_shop()
    in_store(client, kringlan)
    url = reverse("checkout:transfer")

    # when they open "send it to Kringlan" (queries do not grow with the number of stores)
    for n in range(6):
        StockLevelFactory(store=StoreFactory(name=f"Store {n}"), product=boots, on_hand=0)
    with django_assert_max_num_queries(16):
        page = client.get(url, {"product": boots.pk})

    # then it names Smáralind and the day, two days on (the default lead time)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Sent from Smáralind to Kringlan" in body
    expected = kringlan.local_now().date() + datetime.timedelta(days=2)
    assert Transfer.objects.count() == 0
    shown = page.context["shown"]

    # when they place it
    response = client.post(url, {"shown": shown, "name": "Anna", "email": "anna@example.com", "phone": "+354 555 1234"})

    # then the order is Kringlan's, waiting for a transfer from Smáralind, expected that day
    order = Order.objects.get()
    assert response.status_code == 302 and response.url == order.get_absolute_url()
    transfer = Transfer.objects.get()
    assert (order.store, transfer.source, transfer.expected_on) == (kringlan, smaralind, expected)
    # and a second submit of the same page places nothing more
    again = client.post(url, {"shown": shown, "name": "Anna", "email": "anna@example.com", "phone": "+354 555 1234"})
    assert again.status_code == 302 and Order.objects.count() == 1

    # and the order page says it is on its way
    order_page = client.get(order.get_absolute_url()).content.decode()
    assert "On its way to Kringlan from Smáralind, expected" in order_page


@pytest.mark.parametrize("typed", ["99999", "0", "-2", "two", "1.5", ""])
def test_a_quantity_that_is_not_one_is_named_at_the_field_and_kept(client, typed):
    # (a fresh-eyes tester typed 99999: it became 99, then "no other location can send this")
    kringlan, _smaralind, boots = reykjavik_shop()
    in_store(client, kringlan)

    page = client.get(reverse("checkout:transfer"), {"product": boots.pk, "quantity": typed})

    body = page.content.decode()
    assert page.status_code == 200
    assert "Enter a whole number of units from 1 to 99." in body
    assert f'value="{typed}"' in body  # what was typed, kept
    assert "No other location can send" not in body
    assert 'data-testid="transfer-form"' not in body  # nothing to place until it is a quantity


def test_more_than_any_location_has_says_how_many_can_be_sent(client):
    # given 3 boots at Smáralind
    kringlan, _smaralind, boots = reykjavik_shop(units_at_smaralind=3)
    in_store(client, kringlan)

    # when 5 are asked for, then 3 is named as the most, not "none"
    body = client.get(reverse("checkout:transfer"), {"product": boots.pk, "quantity": "5"}).content.decode()
    assert "At most 3 units can be sent to Kringlan at once." in body
    assert "No other location can send" not in body
    assert 'data-testid="transfer-form"' not in body

    # and 3 can be ordered
    body = client.get(reverse("checkout:transfer"), {"product": boots.pk, "quantity": "3"}).content.decode()
    assert "3 × Rain boots, size 38" in body and 'data-testid="transfer-form"' in body


def test_an_order_waiting_for_its_transfer_says_on_its_way_and_staff_cannot_mark_it_ready(client):
    # (a fresh-eyes tester saw "Kringlan is getting your order ready" and a "Mark ready" button)
    kringlan, smaralind, boots = reykjavik_shop()
    order = order_by_transfer(destination=kringlan, product=boots)

    page = client.get(order.get_absolute_url()).content.decode()
    assert "Your order is on its way to Kringlan from another of our locations." in page
    assert "is getting your order ready" not in page

    client.force_login(StoreManagerFactory(username="jon", stores=[kringlan]))
    admin_page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'data-testid="waiting-for-transfer"' in admin_page
    assert 'data-testid="mark-ready"' not in admin_page
    assert 'data-testid="mark-lines-ready"' not in admin_page

    # once the boots are received at Kringlan the order is ready, and its page says so
    transfer = Transfer.objects.get()
    send_transfer(transfer=transfer, at_store=smaralind)
    receive_transfer(transfer=transfer, at_store=kringlan)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    page = Client().get(order.get_absolute_url()).content.decode()
    assert "Your order is ready for pickup at Kringlan" in page and "on its way to Kringlan" not in page
    admin_page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'data-testid="waiting-for-transfer"' not in admin_page


def test_a_tampered_page_or_a_sold_out_source_places_nothing(client):
    kringlan, smaralind, boots = reykjavik_shop(units_at_smaralind=1)
    in_store(client, kringlan)
    url = reverse("checkout:transfer")
    shown = client.get(url, {"product": boots.pk}).context["shown"]
    details = {"name": "Anna", "email": "anna@example.com", "phone": "+354 555 1234"}

    tampered = client.post(url, {**details, "shown": shown[:-2] + "xx"})
    assert tampered.status_code == 302 and Order.objects.count() == 0

    # the last boot is sold at Smáralind meanwhile
    StockLevel.objects.filter(store=smaralind).update(on_hand=0)
    refused = client.post(url, {**details, "shown": shown})
    assert refused.status_code == 200
    assert "sold out at Smáralind" in refused.content.decode()
    assert (Order.objects.count(), Transfer.objects.count()) == (0, 0)


def test_staff_see_their_incoming_and_outgoing_transfers_and_move_them(client, django_assert_max_num_queries):
    kringlan, smaralind, boots = reykjavik_shop(units_at_smaralind=20)
    akureyri = StoreFactory(name="Akureyri")
    StockLevelFactory(store=akureyri, product=boots, on_hand=5)
    orders = [order_by_transfer(destination=kringlan, product=boots, email=f"s{n}@example.com") for n in range(4)]
    other = order_by_transfer(destination=akureyri, product=boots, source=smaralind, email="x@example.com")
    sigga = StoreManagerFactory(username="sigga", stores=[smaralind])
    jon = StoreManagerFactory(username="jon", stores=[kringlan])
    changelist = reverse("admin:transfers_transfer_changelist")

    # Smáralind's staff see their five outgoing transfers, each with its order
    client.force_login(sigga)
    with django_assert_max_num_queries(14):
        page = client.get(changelist, {"direction": "out"})
    assert page.context["cl"].result_count == 5
    assert orders[0].number in page.content.decode()
    assert reverse("admin:orders_order_change", args=[orders[0].pk]) not in page.content.decode()

    # and send them (the action at their store)
    ids = list(Transfer.objects.filter(source=smaralind).values_list("pk", flat=True))
    client.post(changelist, {"action": "send", ACTION_CHECKBOX_NAME: ids})
    assert set(Transfer.objects.values_list("status", flat=True)) == {TransferStatus.IN_TRANSIT}

    # Kringlan's staff see four incoming, not Akureyri's, and receive them
    client.force_login(jon)
    page = client.get(changelist, {"direction": "in"})
    assert page.context["cl"].result_count == 4
    assert other.number not in page.content.decode()
    akureyri_transfer = Transfer.objects.get(destination=akureyri)
    client.post(changelist, {"action": "receive", ACTION_CHECKBOX_NAME: [akureyri_transfer.pk]})
    assert Transfer.objects.get(pk=akureyri_transfer.pk).status == TransferStatus.IN_TRANSIT  # not theirs: unseen
    mine = list(Transfer.objects.filter(destination=kringlan).values_list("pk", flat=True))
    client.post(changelist, {"action": "receive", ACTION_CHECKBOX_NAME: mine})
    assert set(Order.objects.filter(store=kringlan).values_list("status", flat=True)) == {OrderStatus.READY_FOR_PICKUP}
    assert client.get(reverse("admin:transfers_transfer_change", args=[akureyri_transfer.pk])).status_code == 302
    # and a transfer's own page shows its lines and its history
    own = client.get(reverse("admin:transfers_transfer_change", args=[mine[0]]))
    assert own.status_code == 200
    body = own.content.decode()
    assert "Rain boots, size 38" in body and "jon" in body and "sigga" in body


def test_the_source_cannot_receive_what_it_sent(client):
    kringlan, smaralind, boots = reykjavik_shop()
    transfer = Transfer.objects.get(fulfilment__order=order_by_transfer(destination=kringlan, product=boots))
    send_transfer(transfer=transfer, at_store=smaralind)
    client.force_login(StoreManagerFactory(username="sigga", stores=[smaralind]))

    response = client.post(
        reverse("admin:transfers_transfer_changelist"),
        {"action": "receive", ACTION_CHECKBOX_NAME: [transfer.pk]},
        follow=True,
    )

    assert "handled at Kringlan, not at Smáralind" in response.content.decode()
    assert Transfer.objects.get(pk=transfer.pk).status == TransferStatus.IN_TRANSIT
    assert transfer.events.filter(refused=True, at_store=smaralind).exists()
